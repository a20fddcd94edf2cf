"""Consumes the `payment.refund` topic of the outbox: executes each opened refund
(services/refund_execution.py) with Stripe paced by this worker's share of the pool's limit, and
answers the gateway's request to run one refund now (`run_refund`), so the venue's refund is
answered at once when Stripe is quick and is finished by the outbox when it is not.

Every step is repeatable, so a message delivered twice, or delivered while the gateway's call runs
the same refund, refunds once. A refund Stripe refuses is retried with the message and marked
failed on the message's last quick attempt. It also takes `sale.cancelled`: a cancelled event's
refund job, which opens the refunds of its paid orders (services/cancellation_refunds.py). And it
runs the payment reconciler's rounds when the Supervisor asks (`reconcile_payments`), so the
Stripe calls that finish what lost webhooks left run here, never inside the Supervisor.
"""

import asyncio
import logging
import uuid

import asyncpg
import msgspec

from actors.outbox_dispatcher import is_failed_work
from actors.refund_pacing import RefundPacer
from actors.wall_clock import wall_clock_ms
from engine import limits
from engine.refund_lifecycle import RefundStatus
from payments.refund_messages import REFUND_MESSAGE_DECODER, REFUND_TOPIC
from payments.stripe_api import PaymentProviderUnavailable, StripePayments
from persistence.database_errors import DATABASE_ERRORS
from persistence.inventory_outbox import SALE_CANCELLED_TOPIC
from persistence.orders import OutboxEntry
from persistence.outbox import OutboxMessage
from persistence.pool import create_pool
from services.cancellation_refunds import cancellation_job, open_cancellation_refunds
from services.payment_reconciler import PaymentReconciler, ReconciliationReport
from services.refund_execution import execute_refund
from services.settlement import Settlement
from services.settlement_parts import (
    InventoryCommands,
    SettlementParts,
    SettlementUnavailable,
)
from services.stripe_event_application import apply_stripe_event, apply_waiting_stripe_events

PAYMENT_WORKER_POOL_SIZE_MAX = limits.PAYMENT_WORKER_REFUNDS_IN_FLIGHT_MAX + 1
RETRIED_ERRORS: tuple[type[BaseException], ...] = (
    PaymentProviderUnavailable,
    SettlementUnavailable,
    *DATABASE_ERRORS,
)

log = logging.getLogger(__name__)


class PaymentWorker:
    """A plain class; made a Ray actor in actors/remote.py. `__init__` does no I/O."""

    def __init__(
        self,
        *,
        database_url: str,
        stripe_api_key: str,
        stripe_api_base: str | None,
        inventory: InventoryCommands,
    ) -> None:
        """`inventory` runs engine commands on an event's InventoryActor
        (`actors.inventory_client.ClusterInventories`)."""
        self._database_url = database_url
        self._inventory = inventory
        self._stripe_api_key = stripe_api_key
        self._stripe_api_base = stripe_api_base
        self._pool: asyncpg.Pool | None = None
        self._parts: SettlementParts | None = None
        self._reconciler: PaymentReconciler | None = None
        self._pacer: RefundPacer | None = None
        self._in_flight: asyncio.Semaphore | None = None
        self._starting = asyncio.Lock()

    async def start(self) -> None:
        """Open the pool once; calling again changes nothing."""
        async with self._starting:
            if self._parts is not None:
                return
            self._pacer = RefundPacer(
                calls_per_second=limits.STRIPE_REFUND_CALLS_PER_SECOND_MAX / limits.PAYMENT_WORKERS
            )
            self._in_flight = asyncio.Semaphore(limits.PAYMENT_WORKER_REFUNDS_IN_FLIGHT_MAX)
            self._pool = await create_pool(
                self._database_url, min_size=1, max_size=PAYMENT_WORKER_POOL_SIZE_MAX
            )
            stripe = StripePayments(api_key=self._stripe_api_key, api_base=self._stripe_api_base)
            self._parts = SettlementParts(
                pool=self._pool, stripe=stripe, inventory=self._inventory, clock=wall_clock_ms
            )
            settlement = Settlement(
                pool=self._pool, stripe=stripe, inventory=self._inventory, clock=wall_clock_ms
            )
            self._reconciler = PaymentReconciler(pool=self._pool, settlement=settlement)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    async def deliver(self, messages: list[OutboxMessage]) -> list[str | None]:
        """One answer per message: None once its refund is finished (or failed for good), else
        the error to retry it for."""
        await self.start()
        return list(await asyncio.gather(*(self._deliver_one(message) for message in messages)))

    async def run_refund(self, tenant_id: uuid.UUID, refund_id: uuid.UUID) -> bool:
        """Run one refund now; True once it is finished (succeeded with its stock back, or
        failed), False if it is left to its outbox message."""
        await self.start()
        try:
            return await self._run(tenant_id, refund_id, last_attempt=False)
        except RETRIED_ERRORS as error:
            log.info("refund left to the outbox", extra={"error": repr(error)})
            return False

    async def apply_stripe_event(self, event_id: str) -> bool | None:
        """Apply one of Stripe's kept events now (services/stripe_event_application.py)."""
        await self.start()
        assert self._parts is not None
        return await apply_stripe_event(self._parts, event_id)

    async def reconcile_payments(self, now_ms: int) -> ReconciliationReport:
        """One round of the payment reconciler (services/payment_reconciler.py), after the Stripe
        events still waiting in their inbox."""
        await self.start()
        assert self._reconciler is not None and self._parts is not None
        await apply_waiting_stripe_events(self._parts)
        return await self._reconciler.reconcile_round(now_ms)

    async def _deliver_one(self, message: OutboxMessage) -> str | None:
        if message.topic == SALE_CANCELLED_TOPIC:
            return await self._open_cancellation_refunds(message)
        if message.topic != REFUND_TOPIC:
            return f"the payment worker does not take {message.topic}"
        try:
            request = REFUND_MESSAGE_DECODER.decode(message.payload)
        except msgspec.DecodeError as error:
            return f"unreadable refund message: {error}"
        if request.tenant_id != message.tenant_id:
            return "the refund message names another tenant than its message"
        try:
            finished = await self._run(
                request.tenant_id, request.refund_id, last_attempt=is_failed_work(message.attempts)
            )
        except RETRIED_ERRORS as error:
            return repr(error)[: limits.REFUND_ERROR_CHARACTERS_MAX]
        return None if finished else "the refund is not finished"

    async def _open_cancellation_refunds(self, message: OutboxMessage) -> str | None:
        """A cancelled event's refund job: opens its paid orders' refunds a page at a time, for
        a bounded time, and leaves the rest to a copy of the message
        (services/cancellation_refunds.py)."""
        assert self._pool is not None
        try:
            job = cancellation_job(message.tenant_id, message.payload)
        except msgspec.DecodeError as error:
            return f"unreadable cancellation message: {error}"
        rest = OutboxEntry(
            topic=message.topic, aggregate_id=message.aggregate_id, payload=message.payload
        )
        try:
            await open_cancellation_refunds(self._pool, job, rest)
        except DATABASE_ERRORS as error:
            return repr(error)[: limits.REFUND_ERROR_CHARACTERS_MAX]
        return None

    async def _run(self, tenant_id: uuid.UUID, refund_id: uuid.UUID, *, last_attempt: bool) -> bool:
        assert self._parts is not None and self._pacer is not None and self._in_flight is not None
        async with self._in_flight:
            run = await execute_refund(
                self._parts,
                tenant_id=tenant_id,
                refund_id=refund_id,
                last_attempt=last_attempt,
                pace=self._pacer.take,
            )
        if run is None:
            log.warning("no such refund", extra={"refund_id": str(refund_id)})
            return True
        return run.status is RefundStatus.FAILED or run.stock_returned
