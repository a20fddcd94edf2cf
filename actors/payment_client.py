"""The gateway's facade of the payment worker pool: run one refund now, within a deadline.

The refund goes to the worker its order hashes to, the one its outbox message reaches, so one
order's refunds run on one worker. Whatever happens here, the refund's outbox message finishes it.
"""

import uuid
import zlib

import ray

from actors.actor_calls import ACTOR_CALL_ERRORS, actor_answer
from actors.names import NAMESPACE, payment_worker_name
from engine import limits


class PaymentClient:
    def __init__(self, database_url: str) -> None:
        self._database_url = database_url

    async def run_refund(
        self, *, tenant_id: uuid.UUID, order_id: uuid.UUID, refund_id: uuid.UUID, timeout_s: float
    ) -> bool:
        """True once the refund is finished; False when it is left to the outbox (the deadline
        passed, or the worker could not be reached)."""
        index = zlib.crc32(str(order_id).encode()) % limits.PAYMENT_WORKERS
        try:
            handle = ray.get_actor(
                payment_worker_name(self._database_url, index), namespace=NAMESPACE
            )
            finished: bool = await actor_answer(
                handle.run_refund.remote(tenant_id, refund_id), timeout_s=timeout_s
            )
        except (ray.exceptions.RayError, ValueError, *ACTOR_CALL_ERRORS):
            return False
        return finished
