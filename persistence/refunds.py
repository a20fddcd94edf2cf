"""Refunds: opened (with the Stripe idempotency key) before Stripe is called, completed after.

An order may have many refunds; each names the tickets it refunds in refund_tickets (none for a
refund of money alone), and a ticket is in at most one refund that is pending or succeeded, which
Postgres checks again with a partial unique index. Completing a refund, in one transaction, ends
its tickets and moves the order (persistence/refund_completion.py); the inventory is given back
only afterwards, so a seat is never on sale while a live ticket still holds it.
"""

import enum
import uuid
from collections.abc import Sequence

import asyncpg
import msgspec

from engine import limits
from engine.refund_amounts import RefundAmounts
from engine.refund_lifecycle import (
    REFUND_STARTING_STATUS,
    RefundAction,
    RefundStatus,
    refund_status_after,
    refund_statuses_left_by,
)


class RefundKind(enum.StrEnum):
    VENUE = "venue"
    LATE_PAYMENT = "late_payment"
    FAILED_FULFILMENT = "failed_fulfilment"
    CANCELLATION = "cancellation"
    FAN_REQUEST = "fan_request"
    STRIPE_DASHBOARD = "stripe_dashboard"
    DISPUTE = "dispute"


class RefundRecord(msgspec.Struct, frozen=True, kw_only=True):
    refund_id: uuid.UUID
    tenant_id: uuid.UUID
    order_id: uuid.UUID
    payment_id: uuid.UUID
    kind: str
    status: RefundStatus
    amount_cents: int
    reason: str
    idempotency_key: str
    provider_refund_id: str | None
    refund_fees: bool
    whole_order: bool
    # None for a refund opened before refunds had parts: it reversed its whole order's entries.
    amounts: RefundAmounts | None
    ticket_ids: tuple[uuid.UUID, ...]
    stock_returned: bool
    created_at_ms: int
    last_error: str | None = None

    @property
    def is_finished(self) -> bool:
        """Nothing is left to do: failed, or succeeded with its stock back on sale."""
        return self.status is RefundStatus.FAILED or (
            self.status is RefundStatus.SUCCEEDED and self.stock_returned
        )

    @property
    def is_live(self) -> bool:
        """Pending or succeeded: its tickets are refunded, or being refunded."""
        return self.status is not RefundStatus.FAILED


class NewRefund(msgspec.Struct, frozen=True, kw_only=True):
    refund_id: uuid.UUID
    order_id: uuid.UUID
    kind: RefundKind
    reason: str
    amounts: RefundAmounts
    refund_fees: bool
    whole_order: bool
    # each ticket with its face value
    tickets: tuple[tuple[uuid.UUID, int], ...]
    provider_refund_id: str | None


def refund_idempotency_key(refund_id: uuid.UUID) -> str:
    return f"refund-{refund_id}"


SELECT_REFUNDS = """
SELECT refunds.id AS refund_id, refunds.tenant_id, refunds.order_id, refunds.payment_id,
       refunds.kind, refunds.status, refunds.amount_cents, refunds.reason,
       refunds.idempotency_key, refunds.provider_refund_id, refunds.refund_fees,
       refunds.whole_order, refunds.face_cents, refunds.platform_fee_cents,
       refunds.processing_fee_cents, refunds.stock_returned, refunds.last_error,
       (extract(epoch FROM refunds.created_at) * 1000)::bigint AS created_at_ms,
       array(SELECT ticket_id FROM refund_tickets WHERE refund_tickets.refund_id = refunds.id
             ORDER BY ticket_id) AS ticket_ids
FROM refunds
"""


def _refund(row: asyncpg.Record) -> RefundRecord:
    fields = dict(row)
    face_cents = fields.pop("face_cents")
    platform_fee_cents = fields.pop("platform_fee_cents")
    processing_fee_cents = fields.pop("processing_fee_cents")
    return RefundRecord(
        **{
            **fields,
            "status": RefundStatus(row["status"]),
            "ticket_ids": tuple(row["ticket_ids"]),
            "amounts": None
            if face_cents is None
            else RefundAmounts(
                face_cents=face_cents,
                platform_fee_cents=platform_fee_cents,
                processing_fee_cents=processing_fee_cents,
            ),
        }
    )


async def load_refund(connection: asyncpg.Connection, refund_id: uuid.UUID) -> RefundRecord | None:
    row = await connection.fetchrow(SELECT_REFUNDS + "WHERE refunds.id = $1", refund_id)
    return None if row is None else _refund(row)


async def load_order_refunds(
    connection: asyncpg.Connection, order_id: uuid.UUID
) -> list[RefundRecord]:
    """The order's refunds, oldest first."""
    rows = await connection.fetch(
        SELECT_REFUNDS + "WHERE refunds.order_id = $1 ORDER BY refunds.created_at, refunds.id",
        order_id,
    )
    return [_refund(row) for row in rows]


async def load_refund_of_provider(
    connection: asyncpg.Connection, provider_refund_id: str
) -> RefundRecord | None:
    row = await connection.fetchrow(
        SELECT_REFUNDS + "WHERE refunds.provider_refund_id = $1", provider_refund_id
    )
    return None if row is None else _refund(row)


INSERT_REFUND = """
INSERT INTO refunds (id, tenant_id, order_id, payment_id, idempotency_key, amount_cents, reason,
                     kind, status, refund_fees, whole_order, face_cents, platform_fee_cents,
                     processing_fee_cents, provider_refund_id)
SELECT $1, current_setting('app.current_tenant_id')::uuid, $2, payments.id, $3, $4, $5, $6, $7,
       $8, $9, $10, $11, $12, $13
FROM payments WHERE payments.order_id = $2
"""

INSERT_REFUND_TICKETS = """
INSERT INTO refund_tickets (refund_id, ticket_id, tenant_id, order_id, face_cents)
SELECT $1, ticket.id, current_setting('app.current_tenant_id')::uuid, $2, ticket.face_cents
FROM unnest($3::uuid[], $4::bigint[]) AS ticket (id, face_cents)
"""


async def open_refund(connection: asyncpg.Connection, refund: NewRefund) -> RefundRecord:
    """Store the refund and its tickets, with its Stripe idempotency key, before Stripe is asked."""
    await connection.execute(
        INSERT_REFUND,
        refund.refund_id,
        refund.order_id,
        refund_idempotency_key(refund.refund_id),
        refund.amounts.total_cents,
        refund.reason,
        refund.kind,
        REFUND_STARTING_STATUS,
        refund.refund_fees,
        refund.whole_order,
        refund.amounts.face_cents,
        refund.amounts.platform_fee_cents,
        refund.amounts.processing_fee_cents,
        refund.provider_refund_id,
    )
    if refund.tickets:
        await connection.execute(
            INSERT_REFUND_TICKETS,
            refund.refund_id,
            refund.order_id,
            [ticket_id for ticket_id, _ in refund.tickets],
            [face_cents for _, face_cents in refund.tickets],
        )
    opened = await load_refund(connection, refund.refund_id)
    assert opened is not None, "the order has a payment row, so the refund exists"
    return opened


MARK_SUCCEEDED = """
UPDATE refunds SET status = $2, provider_refund_id = $3, updated_at = now()
WHERE id = $1 AND status = ANY($4::text[])
RETURNING 1
"""

REFUND_SUCCEEDS_FROM = tuple(sorted(refund_statuses_left_by(RefundAction.SUCCEED)))
REFUND_FAILS_FROM = tuple(sorted(refund_statuses_left_by(RefundAction.FAIL)))


async def mark_refund_succeeded(
    connection: asyncpg.Connection, *, refund_id: uuid.UUID, provider_refund_id: str
) -> bool:
    """Record Stripe's refund; False if the refund had already left `pending`."""
    marked = await connection.fetchval(
        MARK_SUCCEEDED,
        refund_id,
        refund_status_after(RefundAction.SUCCEED),
        provider_refund_id,
        REFUND_SUCCEEDS_FROM,
    )
    return marked is not None


MARK_FAILED = """
WITH failed AS (
    UPDATE refunds SET status = $2, last_error = $3, updated_at = now()
    WHERE id = $1 AND status = ANY($4::text[])
    RETURNING id
)
UPDATE refund_tickets SET live = false FROM failed WHERE refund_tickets.refund_id = failed.id
"""


async def mark_refund_failed(
    connection: asyncpg.Connection, *, refund_id: uuid.UUID, error: str
) -> None:
    """Stripe refused the refund for good: its tickets may be refunded again."""
    await connection.execute(
        MARK_FAILED,
        refund_id,
        refund_status_after(RefundAction.FAIL),
        error[: limits.REFUND_ERROR_CHARACTERS_MAX],
        REFUND_FAILS_FROM,
    )


async def record_refund_error(
    connection: asyncpg.Connection, *, refund_id: uuid.UUID, error: str
) -> None:
    await connection.execute(
        "UPDATE refunds SET last_error = $2, updated_at = now() WHERE id = $1",
        refund_id,
        error[: limits.REFUND_ERROR_CHARACTERS_MAX],
    )


async def mark_stock_returned(
    connection: asyncpg.Connection, refund_ids: Sequence[uuid.UUID]
) -> None:
    await connection.execute(
        "UPDATE refunds SET stock_returned = true WHERE id = ANY($1::uuid[])", list(refund_ids)
    )


SALE_IS_LIVE = "SELECT EXISTS (SELECT 1 FROM sales WHERE order_id = $1 AND status = 'live')"


async def sale_is_live(connection: asyncpg.Connection, order_id: uuid.UUID) -> bool:
    """Whether the inventory still counts some of the order's seats and units as sold."""
    return bool(await connection.fetchval(SALE_IS_LIVE, order_id))
