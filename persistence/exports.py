"""The venue's CSV exports of one event, read through a server-side cursor a page at a time, so
an export of any size holds one page in memory.

Each kind is a header and a query whose columns are text already (times in RFC 3339, UTC, with
milliseconds), so the gateway only escapes and writes them. A column added goes at the end, so
spreadsheets built on an export keep working. `attendees` lists the tickets people hold: a ticket
replaced by another (given away, or reissued) is left out, its successor standing for it.
"""

import enum
import uuid
from collections.abc import AsyncIterator, Sequence

import asyncpg

from engine import limits
from persistence.tenancy import tenant_transaction


def moment(column: str) -> str:
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"


class ExportKind(enum.StrEnum):
    ORDERS = "orders"
    ATTENDEES = "attendees"
    SCANS = "scans"
    LEDGER = "ledger"


EXPORT_HEADERS: dict[ExportKind, tuple[str, ...]] = {
    ExportKind.ORDERS: (
        "order_id", "created_at", "status", "user_id", "email", "tickets", "currency",
        "subtotal_cents", "fees_cents", "total_cents", "paid_at", "comp_reason",
    ),
    ExportKind.ATTENDEES: (
        "ticket_id", "order_id", "ticket_type", "ticket_type_name", "seat", "holder_user_id",
        "buyer_email", "status", "issued_at", "checked_in_at",
    ),
    ExportKind.SCANS: (
        "scan_id", "scanned_at", "ticket_id", "result", "reason", "device_id", "scanned_by",
        "zone", "direction", "offline", "recorded_at",
    ),
    ExportKind.LEDGER: (
        "entry_id", "created_at", "transaction_id", "order_id", "account", "direction",
        "amount_cents", "currency", "payment_id", "refund_id",
    ),
}  # fmt: skip

EXPORT_QUERIES: dict[ExportKind, str] = {
    ExportKind.ORDERS: f"""
SELECT orders.id::text, {moment("orders.created_at")}, orders.status, orders.user_id,
       orders.contact_email,
       (SELECT count(*) FROM tickets
        WHERE tickets.order_id = orders.id AND tickets.predecessor_ticket_id IS NULL)::text,
       orders.currency, orders.subtotal_cents::text, orders.fees_cents::text,
       orders.total_cents::text, {moment("orders.paid_at")}, orders.comp_reason
FROM orders WHERE orders.event_id = $1
ORDER BY orders.created_at, orders.id
""",
    ExportKind.ATTENDEES: f"""
SELECT tickets.id::text, tickets.order_id::text, ticket_types.key, ticket_types.name,
       seats.label, tickets.owner_user_id, orders.contact_email, tickets.status,
       {moment("tickets.issued_at")}, {moment("tickets.checked_in_at")}
FROM tickets
JOIN ticket_types ON ticket_types.id = tickets.ticket_type_id
JOIN orders ON orders.id = tickets.order_id
LEFT JOIN seats ON seats.id = tickets.seat_id
WHERE tickets.event_id = $1 AND tickets.status NOT IN ('transferred', 'revoked')
ORDER BY tickets.issued_at, tickets.id
""",
    ExportKind.SCANS: f"""
SELECT id::text, {moment("scanned_at")}, ticket_id::text, result, reason, device_id, scanned_by,
       zone, direction, offline::text, {moment("recorded_at")}
FROM ticket_scans WHERE event_id = $1
ORDER BY scanned_at, id
""",
    ExportKind.LEDGER: f"""
SELECT ledger_entries.id::text, {moment("ledger_entries.created_at")},
       ledger_entries.transaction_id::text, ledger_entries.order_id::text, ledger_entries.account,
       ledger_entries.direction, ledger_entries.amount_cents::text, ledger_entries.currency,
       ledger_entries.payment_id::text, ledger_entries.refund_id::text
FROM ledger_entries JOIN orders ON orders.id = ledger_entries.order_id
WHERE orders.event_id = $1
ORDER BY ledger_entries.created_at, ledger_entries.transaction_id, ledger_entries.id
""",
}
assert set(EXPORT_HEADERS) == set(EXPORT_QUERIES) == set(ExportKind), "every export is whole"

ExportPage = Sequence[tuple[str | None, ...]]


async def export_pages(
    pool: asyncpg.Pool, *, tenant_id: uuid.UUID, event_id: uuid.UUID, kind: ExportKind
) -> AsyncIterator[ExportPage]:
    """The export's rows, a page of at most EXPORT_ROWS_PER_PAGE at a time, read in one
    transaction so the pages are of one snapshot."""
    async with tenant_transaction(pool, tenant_id) as connection:
        cursor = await connection.cursor(EXPORT_QUERIES[kind], event_id)
        while True:
            page = await cursor.fetch(limits.EXPORT_ROWS_PER_PAGE)
            if not page:
                return
            yield [tuple(row.values()) for row in page]
