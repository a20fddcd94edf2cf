"""The gateway's facade of the payment worker pool: run one refund, or apply one of Stripe's kept
events, now, within a deadline.

A refund goes to the worker its order hashes to, the one its outbox message reaches, so one
order's refunds run on one worker; an event goes to the worker its id hashes to. Whatever happens
here, the refund's outbox message finishes it, and the reconciler's rounds apply the event.
"""

import asyncio
import time
import uuid
import zlib
from typing import Any

import ray

from actors.actor_calls import ACTOR_CALL_ERRORS, actor_answer
from actors.names import NAMESPACE, payment_worker_name
from engine import limits

WORKER_LOOKUP_INTERVAL_S = 0.1


class PaymentClient:
    def __init__(self, database_url: str) -> None:
        self._database_url = database_url

    async def run_refund(
        self, *, tenant_id: uuid.UUID, order_id: uuid.UUID, refund_id: uuid.UUID, timeout_s: float
    ) -> bool:
        """True once the refund is finished; False when it is left to the outbox (the deadline
        passed, or the worker could not be reached)."""
        deadline_s = time.monotonic() + timeout_s
        try:
            worker = await self._worker_of(str(order_id), deadline_s)
            finished: bool = await actor_answer(
                worker.run_refund.remote(tenant_id, refund_id),
                timeout_s=max(deadline_s - time.monotonic(), 0.0),
            )
        except (ray.exceptions.RayError, ValueError, *ACTOR_CALL_ERRORS):
            return False
        return finished

    async def apply_stripe_event(self, event_id: str, *, timeout_s: float) -> bool | None:
        """What the worker's `apply_stripe_event` answers; None when it is left to the reconciler
        (the deadline passed, or the worker could not be reached)."""
        deadline_s = time.monotonic() + timeout_s
        try:
            worker = await self._worker_of(event_id, deadline_s)
            applied: bool | None = await actor_answer(
                worker.apply_stripe_event.remote(event_id),
                timeout_s=max(deadline_s - time.monotonic(), 0.0),
            )
        except (ray.exceptions.RayError, ValueError, *ACTOR_CALL_ERRORS):
            return None
        return applied

    async def _worker_of(self, key: str, deadline_s: float) -> Any:
        """The worker `key` hashes to. While the cluster starts, the Supervisor may not have
        created it yet: it is looked for again until `deadline_s` (ValueError after)."""
        name = payment_worker_name(
            self._database_url, zlib.crc32(key.encode()) % limits.PAYMENT_WORKERS
        )
        while True:
            try:
                return ray.get_actor(name, namespace=NAMESPACE)
            except ValueError:
                if time.monotonic() + WORKER_LOOKUP_INTERVAL_S > deadline_s:
                    raise
            await asyncio.sleep(WORKER_LOOKUP_INTERVAL_S)
