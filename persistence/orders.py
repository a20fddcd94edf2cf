"""Orders and their payment, read and moved along their life in the caller's tenant transaction.

An order is created at checkout with its payment row, whose Stripe idempotency key is stored
before Stripe is called, so one order has one PaymentIntent, ever. Every move below is read off
the lifecycle tables (engine.order_lifecycle, engine.payment_lifecycle) and guarded by the statuses
it may leave, so two processes applying the same fact (a webhook and the reconciler, say) move an
order once; the loser sees `False`.
"""

import uuid
from collections.abc import Sequence

import asyncpg
import msgspec

from engine.holds import HoldItem
from engine.order_lifecycle import (
    CHECKED_OUT_ORDER_STATUS,
    PAYMENT_ACTION_OF_ORDER_ACTION,
    OrderAction,
    OrderStatus,
    order_status_after,
    order_statuses_left_by,
)
from engine.payment_lifecycle import (
    PAYMENT_STARTING_STATUS,
    PaymentStatus,
    payment_status_after,
    payment_statuses_left_by,
)


class PaymentRecord(msgspec.Struct, frozen=True, kw_only=True):
    payment_id: uuid.UUID
    idempotency_key: str
    payment_intent_id: str | None
    client_secret: str | None
    status: PaymentStatus


class OrderRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An order as stored. A complimentary order, given by the venue, has no hold and no payment;
    every other order was checked out from a hold and has exactly one payment."""

    order_id: uuid.UUID
    tenant_id: uuid.UUID
    event_id: uuid.UUID
    hold_id: uuid.UUID | None
    user_id: str
    status: OrderStatus
    currency: str
    subtotal_cents: int
    fees_cents: int
    total_cents: int
    expires_at_ms: int
    created_at_ms: int
    paid_at_ms: int | None
    contact_email: str | None
    payment: PaymentRecord | None

    @property
    def complimentary(self) -> bool:
        return self.payment is None

    def paid_through(self) -> tuple[uuid.UUID, PaymentRecord]:
        """The hold and payment of an order that was checked out (never a complimentary one)."""
        assert self.hold_id is not None and self.payment is not None, (
            f"order {self.order_id} is complimentary: it has no hold and no payment"
        )
        return self.hold_id, self.payment


class NewOrder(msgspec.Struct, frozen=True, kw_only=True):
    order_id: uuid.UUID
    tenant_id: uuid.UUID
    event_id: uuid.UUID
    hold_id: uuid.UUID
    user_id: str
    currency: str
    subtotal_cents: int
    fees_cents: int
    total_cents: int
    expires_at_ms: int
    contact_email: str | None
    items: tuple[HoldItem, ...]


class OutboxEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A message to write in the same transaction as the change it announces."""

    topic: str
    aggregate_id: str
    payload: str


def payment_idempotency_key(order_id: uuid.UUID) -> str:
    return f"order-{order_id}-payment-intent"


SELECT_ORDER = """
SELECT orders.id AS order_id, orders.tenant_id, orders.event_id, orders.hold_id, orders.user_id,
       orders.status, orders.currency, orders.subtotal_cents, orders.fees_cents,
       orders.total_cents, orders.contact_email,
       (extract(epoch FROM orders.expires_at) * 1000)::bigint AS expires_at_ms,
       (extract(epoch FROM orders.created_at) * 1000)::bigint AS created_at_ms,
       (extract(epoch FROM orders.paid_at) * 1000)::bigint AS paid_at_ms,
       payments.id AS payment_id, payments.idempotency_key, payments.payment_intent_id,
       payments.client_secret, payments.status AS payment_status
FROM orders LEFT JOIN payments ON payments.order_id = orders.id
"""


def _order(row: asyncpg.Record) -> OrderRecord:
    return OrderRecord(
        order_id=row["order_id"],
        tenant_id=row["tenant_id"],
        event_id=row["event_id"],
        hold_id=row["hold_id"],
        user_id=row["user_id"],
        status=OrderStatus(row["status"]),
        currency=row["currency"],
        subtotal_cents=row["subtotal_cents"],
        fees_cents=row["fees_cents"],
        total_cents=row["total_cents"],
        expires_at_ms=row["expires_at_ms"],
        created_at_ms=row["created_at_ms"],
        paid_at_ms=row["paid_at_ms"],
        contact_email=row["contact_email"],
        payment=None
        if row["payment_id"] is None
        else PaymentRecord(
            payment_id=row["payment_id"],
            idempotency_key=row["idempotency_key"],
            payment_intent_id=row["payment_intent_id"],
            client_secret=row["client_secret"],
            status=PaymentStatus(row["payment_status"]),
        ),
    )


async def load_order(connection: asyncpg.Connection, order_id: uuid.UUID) -> OrderRecord | None:
    row = await connection.fetchrow(SELECT_ORDER + "WHERE orders.id = $1", order_id)
    return None if row is None else _order(row)


async def load_order_of_hold(
    connection: asyncpg.Connection, hold_id: uuid.UUID
) -> OrderRecord | None:
    row = await connection.fetchrow(SELECT_ORDER + "WHERE orders.hold_id = $1", hold_id)
    return None if row is None else _order(row)


INSERT_ORDER = """
WITH new_order AS (
    INSERT INTO orders (id, tenant_id, event_id, hold_id, user_id, currency, subtotal_cents,
                        fees_cents, total_cents, expires_at, contact_email, created_at, updated_at,
                        status)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
            timestamptz 'epoch' + $10::bigint * interval '1 millisecond', $11,
            timestamptz 'epoch' + $12::bigint * interval '1 millisecond',
            timestamptz 'epoch' + $12::bigint * interval '1 millisecond', $17)
    ON CONFLICT (hold_id) DO NOTHING
    RETURNING id
),
new_items AS (
    INSERT INTO order_items (order_id, ticket_type_id, tenant_id, event_id, quantity,
                             unit_price_cents)
    SELECT new_order.id, item.ticket_type_id, $2, $3, item.quantity, item.unit_price_cents
    FROM new_order, unnest($13::uuid[], $14::integer[], $15::bigint[])
         AS item (ticket_type_id, quantity, unit_price_cents)
)
INSERT INTO payments (tenant_id, order_id, idempotency_key, amount_cents, currency, status)
SELECT $2, new_order.id, $16, $9, $6, $18 FROM new_order
"""


async def insert_order(
    connection: asyncpg.Connection, order: NewOrder, *, now_ms: int
) -> OrderRecord:
    """Create the order, its items and its payment row; or, when the hold already has an order,
    return that one unchanged (one order per hold)."""
    await connection.execute(
        INSERT_ORDER,
        order.order_id,
        order.tenant_id,
        order.event_id,
        order.hold_id,
        order.user_id,
        order.currency,
        order.subtotal_cents,
        order.fees_cents,
        order.total_cents,
        order.expires_at_ms,
        order.contact_email,
        now_ms,
        [item.ticket_type_id for item in order.items],
        [item.quantity for item in order.items],
        [item.unit_price_cents for item in order.items],
        payment_idempotency_key(order.order_id),
        CHECKED_OUT_ORDER_STATUS,
        PAYMENT_STARTING_STATUS,
    )
    stored = await load_order_of_hold(connection, order.hold_id)
    assert stored is not None, "the order of the hold exists: inserted now or before"
    return stored


RECORD_PAYMENT_INTENT = """
UPDATE payments SET payment_intent_id = $2, client_secret = $3, updated_at = now()
WHERE order_id = $1 AND (payment_intent_id IS NULL OR payment_intent_id = $2)
"""


async def record_payment_intent(
    connection: asyncpg.Connection,
    *,
    order_id: uuid.UUID,
    payment_intent_id: str,
    client_secret: str,
) -> None:
    await connection.execute(RECORD_PAYMENT_INTENT, order_id, payment_intent_id, client_secret)


class OrderMove(msgspec.Struct, frozen=True, kw_only=True):
    """The write of one order action, read off the lifecycle tables: the statuses it may leave
    (the guard in SQL), the order's new status, and its payment's, which moves with it."""

    leaving: tuple[OrderStatus, ...]
    after: OrderStatus
    payment_leaving: frozenset[PaymentStatus]
    payment_after: PaymentStatus

    def check_payment_left(self, payment_before: str) -> None:
        """An illegal move of the payment is a bug, never a silent write."""
        assert PaymentStatus(payment_before) in self.payment_leaving, (
            f"a {payment_before} payment cannot become {self.payment_after}"
        )


def order_move(action: OrderAction) -> OrderMove:
    """The write of `action`, for an action that moves the payment with the order."""
    payment_action = PAYMENT_ACTION_OF_ORDER_ACTION[action]
    assert payment_action is not None, f"{action} moves the order alone"
    return OrderMove(
        leaving=tuple(sorted(order_statuses_left_by(action))),
        after=order_status_after(action),
        payment_leaving=payment_statuses_left_by(payment_action),
        payment_after=payment_status_after(payment_action),
    )


PAY_MOVE = order_move(OrderAction.PAY)
# The moves that end an order that never took money, each from the status checkout gives.
UNPAID_ENDING_MOVES = {
    ending: order_move(ending) for ending in (OrderAction.FAIL_PAYMENT, OrderAction.EXPIRE)
}
assert all(move.leaving == (CHECKED_OUT_ORDER_STATUS,) for move in UNPAID_ENDING_MOVES.values()), (
    "only a checked-out order that was never paid ends unpaid"
)


# A payment's status before the write is read from the same snapshot the UPDATE replaces.
MARK_PAID = """
WITH paid AS (
    UPDATE orders
    SET status = $3,
        paid_at = timestamptz 'epoch' + $2::bigint * interval '1 millisecond',
        updated_at = now()
    WHERE id = $1 AND status = ANY($4::text[])
    RETURNING id
)
UPDATE payments SET status = $5, updated_at = now()
FROM paid, payments AS before
WHERE payments.order_id = paid.id AND before.id = payments.id
RETURNING before.status
"""


async def mark_paid(connection: asyncpg.Connection, *, order_id: uuid.UUID, now_ms: int) -> bool:
    """Move a pending order to paid and its payment to succeeded; False if it had moved."""
    payment_before = await connection.fetchval(
        MARK_PAID, order_id, now_ms, PAY_MOVE.after, PAY_MOVE.leaving, PAY_MOVE.payment_after
    )
    if payment_before is None:
        return False
    PAY_MOVE.check_payment_left(payment_before)
    return True


END_UNPAID_ORDER = """
WITH ended AS (
    UPDATE orders
    SET status = $2, ended_reason = $4, updated_at = now()
    WHERE id = $1 AND status = ANY($5::text[])
    RETURNING id
)
UPDATE payments SET status = $3, updated_at = now()
FROM ended, payments AS before
WHERE payments.order_id = ended.id AND before.id = payments.id
RETURNING before.status
"""


async def end_unpaid_order(
    connection: asyncpg.Connection,
    *,
    order_id: uuid.UUID,
    ending: OrderAction,
    reason: str,
    outbox: Sequence[OutboxEntry],
) -> bool:
    """Fail or expire an order that was never paid; False if it had already moved."""
    move = UNPAID_ENDING_MOVES[ending]
    payment_before = await connection.fetchval(
        END_UNPAID_ORDER, order_id, move.after, move.payment_after, reason, move.leaving
    )
    if payment_before is None:
        return False
    move.check_payment_left(payment_before)
    await write_outbox(connection, outbox)
    return True


INSERT_OUTBOX = """
INSERT INTO outbox (tenant_id, topic, aggregate_id, payload)
SELECT current_setting('app.current_tenant_id')::uuid, entry.topic, entry.aggregate_id,
       entry.payload::jsonb
FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY
     AS entry (topic, aggregate_id, payload, ordinal)
ORDER BY entry.ordinal
"""


async def write_outbox(connection: asyncpg.Connection, entries: Sequence[OutboxEntry]) -> None:
    if entries:
        await connection.execute(
            INSERT_OUTBOX,
            [entry.topic for entry in entries],
            [entry.aggregate_id for entry in entries],
            [entry.payload for entry in entries],
        )


SELECT_ORDERS_TO_RECONCILE = """
SELECT orders.id
FROM orders LEFT JOIN payments ON payments.order_id = orders.id
WHERE (orders.status = 'pending_payment'
       AND least(orders.expires_at,
                 coalesce(payments.next_poll_at,
                          orders.created_at + $1::bigint * interval '1 millisecond'))
           <= timestamptz 'epoch' + $2::bigint * interval '1 millisecond')
   OR (orders.status = 'paid'
       AND orders.paid_at + $1::bigint * interval '1 millisecond'
           <= timestamptz 'epoch' + $2::bigint * interval '1 millisecond')
   OR EXISTS (SELECT 1 FROM refunds
              WHERE refunds.order_id = orders.id
                AND (refunds.status = 'pending' AND refunds.last_error IS NULL
                     OR refunds.status = 'succeeded' AND NOT refunds.stock_returned)
                AND refunds.updated_at + $1::bigint * interval '1 millisecond'
                    <= timestamptz 'epoch' + $2::bigint * interval '1 millisecond')
ORDER BY orders.created_at
LIMIT $3
"""


async def orders_to_reconcile(
    connection: asyncpg.Connection, *, first_poll_after_ms: int, now_ms: int, limit: int
) -> list[uuid.UUID]:
    """Orders a lost webhook or a crash may have left behind: pending ones whose PaymentIntent is
    due a poll or whose window has passed, paid ones still without tickets after the first poll's
    delay (younger ones are being fulfilled by whoever recorded the payment), and refunds left
    unfinished that long (younger ones, and those Stripe refused, are the payment workers')."""
    rows = await connection.fetch(SELECT_ORDERS_TO_RECONCILE, first_poll_after_ms, now_ms, limit)
    return [row["id"] for row in rows]


POLL_AGAIN = """
UPDATE payments
SET next_poll_at = timestamptz 'epoch' + $2::bigint * interval '1 millisecond'
WHERE order_id = $1
"""


async def poll_again_at(connection: asyncpg.Connection, *, order_id: uuid.UUID, at_ms: int) -> None:
    await connection.execute(POLL_AGAIN, order_id, at_ms)
