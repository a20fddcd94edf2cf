"""The refund job of a cancelled event: opens a full refund (kind `cancellation`) for each of its
paid orders, a page at a time, through `request_refund`, which keys each refund before Stripe is
ever called and leaves a `payment.refund` message for the payment workers to execute, paced.

The job is the `sale.cancelled` outbox message the cancellation's commit wrote: a payment worker
runs it for a bounded time, and what is left then goes on in a new message of the same job. Each
page commits on its own, and an order with a cancellation refund is never paged again, so a worker
killed at any point leaves a job that the next delivery resumes, opening no refund twice.
"""

import time
import uuid

import asyncpg
import msgspec

from engine import cancellation_limits as limits
from engine.changes import SaleCancelled
from persistence.cancellation_orders import orders_to_refund
from persistence.inventory_outbox import InventoryChangeMessage
from persistence.orders import OutboxEntry, load_order, write_outbox
from persistence.refunds import RefundKind
from persistence.tenancy import tenant_transaction
from services.refund_requests import request_refund
from services.refusals import OrderNotRefundable, RefundMisstated

CANCELLATION_MESSAGE_DECODER = msgspec.json.Decoder(InventoryChangeMessage)


class CancellationJob(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: uuid.UUID
    event_id: uuid.UUID
    reason: str


def cancellation_job(tenant_id: uuid.UUID, payload: str) -> CancellationJob:
    """The job a `sale.cancelled` message carries; raises msgspec.DecodeError when unreadable."""
    message = CANCELLATION_MESSAGE_DECODER.decode(payload)
    change = message.change
    if not isinstance(change, SaleCancelled):
        raise msgspec.DecodeError(f"a sale.cancelled message carries {type(change).__name__}")
    return CancellationJob(tenant_id=tenant_id, event_id=message.event_id, reason=change.reason)


async def open_page(pool: asyncpg.Pool, job: CancellationJob) -> int:
    """Open the refunds of the next page of paid orders, in one transaction; how many orders
    the page had (0: every paid order has its refund)."""
    async with tenant_transaction(pool, job.tenant_id) as connection:
        order_ids = await orders_to_refund(
            connection, event_id=job.event_id, limit=limits.CANCELLATION_REFUNDS_PER_PAGE
        )
        for order_id in order_ids:
            order = await load_order(connection, order_id)
            assert order is not None, "a paged order exists"
            try:
                await request_refund(
                    connection, order=order, kind=RefundKind.CANCELLATION, reason=job.reason
                )
            except (OrderNotRefundable, RefundMisstated):
                # Nothing is left to refund (a venue refunded it all just before): the order
                # needs no cancellation refund, and the page moves past it only by its id.
                continue
    return len(order_ids)


async def leave_the_rest(pool: asyncpg.Pool, job: CancellationJob, rest: OutboxEntry) -> None:
    """Write the message that carries the job on from where this delivery stopped."""
    async with tenant_transaction(pool, job.tenant_id) as connection:
        await write_outbox(connection, [rest])


async def open_cancellation_refunds(
    pool: asyncpg.Pool, job: CancellationJob, rest: OutboxEntry
) -> None:
    """Open pages until none is left. When the delivery's time is spent first, the rest of the
    job goes to a new message, `rest` (the same job), so a large event's job never uses up its
    message's attempts; the message being delivered is then done. A crash between the two runs
    the job twice side by side at worst, which opens no refund twice."""
    deadline_s = time.monotonic() + limits.CANCELLATION_JOB_DELIVERY_BUDGET_MS / 1_000
    while await open_page(pool, job) == limits.CANCELLATION_REFUNDS_PER_PAGE:
        if time.monotonic() >= deadline_s:
            await leave_the_rest(pool, job, rest)
            return
