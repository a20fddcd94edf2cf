"""What the ledger (engine/ledger.py) says each of a tenant's events owes its venue: the venue's
share of paid orders (gross), the part of it refunded, and the fees, net of refunded fees, that
are the platform's and the card processor's, not the venue's.

Every figure is a sum of `ledger_entries` of the event's orders, so it is exactly what was
recorded; an event with no money moved shows zeros.
"""

import uuid

import asyncpg
import msgspec

from engine import limits
from engine.ledger import LedgerAccount


class EventBalance(msgspec.Struct, frozen=True, kw_only=True):
    event_id: uuid.UUID
    currency: str
    gross_cents: int
    refunds_cents: int
    fees_cents: int


SELECT_BALANCES = f"""
SELECT events.id AS event_id, events.currency,
       coalesce(sum(entries.amount_cents) FILTER (
           WHERE entries.account = '{LedgerAccount.VENUE_BALANCE}'
             AND entries.direction = 'credit'), 0)::bigint AS gross_cents,
       coalesce(sum(entries.amount_cents) FILTER (
           WHERE entries.account = '{LedgerAccount.VENUE_BALANCE}'
             AND entries.direction = 'debit'), 0)::bigint AS refunds_cents,
       coalesce(sum(CASE entries.direction WHEN 'credit' THEN entries.amount_cents
                                           ELSE -entries.amount_cents END) FILTER (
           WHERE entries.account IN ('{LedgerAccount.PLATFORM_FEES}',
                                     '{LedgerAccount.PROCESSING_FEES}')), 0)::bigint AS fees_cents
FROM events
LEFT JOIN (
    SELECT orders.event_id, ledger_entries.account, ledger_entries.direction,
           ledger_entries.amount_cents
    FROM ledger_entries JOIN orders ON orders.id = ledger_entries.order_id
) AS entries ON entries.event_id = events.id
WHERE $1::uuid IS NULL OR events.id = $1
GROUP BY events.id, events.currency, events.created_at
ORDER BY events.created_at DESC, events.id
LIMIT {limits.VENUE_EVENTS_LISTED_MAX}
"""


async def load_event_balances(
    connection: asyncpg.Connection, *, event_id: uuid.UUID | None
) -> list[EventBalance]:
    """The balance of `event_id`, or of the tenant's newest events when None (the transaction's
    tenant's only: row-level security fences the rest)."""
    rows = await connection.fetch(SELECT_BALANCES, event_id)
    return [
        EventBalance(
            event_id=row["event_id"],
            currency=row["currency"],
            gross_cents=row["gross_cents"],
            refunds_cents=row["refunds_cents"],
            fees_cents=row["fees_cents"],
        )
        for row in rows
    ]
