"""Finding orders in the caller's tenant transaction: the service desk's search (by the buyer's
email, a prefix of the buyer's name, the order's id or a seat) and a fan's own orders, newest
first, a page at a time from a position.

Each search is one query that walks an index of migration 0033 and returns only the page's ids
and positions; the orders and their tickets are then read by id. The conditions are leakproof
comparisons on plain columns (the lowered keys are stored), so row-level security lets them use
their indexes.
"""

import datetime
import uuid
from typing import assert_never

import asyncpg
import msgspec

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
# Every UTF-8 character sorts at or below this one byte by byte: a prefix's range ends before it.
HIGHEST_CHARACTER = "\U0010ffff"


class OrderPosition(msgspec.Struct, frozen=True, kw_only=True):
    """Where an order sits in a listing: created_at in microseconds, then its id."""

    created_at_us: int
    order_id: uuid.UUID


class ByEmail(msgspec.Struct, frozen=True, kw_only=True):
    email: str


class ByNamePrefix(msgspec.Struct, frozen=True, kw_only=True):
    prefix: str


class ByOrderId(msgspec.Struct, frozen=True, kw_only=True):
    order_id: uuid.UUID


class BySeat(msgspec.Struct, frozen=True, kw_only=True):
    label: str


class ByBuyer(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str


OrderMatch = ByEmail | ByNamePrefix | ByOrderId | BySeat | ByBuyer | None


class OrderFilter(msgspec.Struct, frozen=True, kw_only=True):
    match: OrderMatch
    event_id: uuid.UUID | None = None
    status: str | None = None


SELECT_PAGE = """
SELECT orders.id, (extract(epoch FROM orders.created_at) * 1000000)::bigint AS created_at_us
FROM orders
"""

# $1 event, $2 status, $3 and $4 the position to start after, $5 the page's size.
PAGE_FILTERS = """
    ($1::uuid IS NULL OR orders.event_id = $1)
AND ($2::text IS NULL OR orders.status = $2)
AND ($3::timestamptz IS NULL OR (orders.created_at, orders.id) < ($3, $4::uuid))
ORDER BY orders.created_at DESC, orders.id DESC
LIMIT $5
"""

SEATED_ORDERS = """
SELECT tickets.order_id FROM seats JOIN tickets ON tickets.seat_id = seats.id
WHERE seats.label = $6
UNION
SELECT held.id FROM seats
JOIN hold_seats ON hold_seats.seat_id = seats.id
JOIN orders AS held ON held.hold_id = hold_seats.hold_id
WHERE seats.label = $6
"""

PAGE_QUERIES: dict[type, str] = {
    type(None): SELECT_PAGE + "WHERE" + PAGE_FILTERS,
    ByEmail: SELECT_PAGE + "WHERE orders.email_key = $6 AND" + PAGE_FILTERS,
    ByNamePrefix: SELECT_PAGE
    + "WHERE orders.name_key ~>=~ $6 AND orders.name_key ~<~ $7"
    + " AND starts_with(orders.name_key, $6) AND"
    + PAGE_FILTERS,
    ByOrderId: SELECT_PAGE + "WHERE orders.id = $6 AND" + PAGE_FILTERS,
    BySeat: SELECT_PAGE + f"WHERE orders.id IN ({SEATED_ORDERS}) AND" + PAGE_FILTERS,
    ByBuyer: SELECT_PAGE + "WHERE orders.user_id = $6 AND" + PAGE_FILTERS,
}


def match_arguments(match: OrderMatch) -> list[object]:
    match match:
        case None:
            return []
        case ByEmail():
            return [match.email.lower()]
        case ByNamePrefix():
            prefix = match.prefix.lower()
            return [prefix, prefix + HIGHEST_CHARACTER]
        case ByOrderId():
            return [match.order_id]
        case BySeat():
            return [match.label]
        case ByBuyer():
            return [match.user_id]
        case _:
            assert_never(match)


def moment_of(created_at_us: int) -> datetime.datetime:
    return EPOCH + datetime.timedelta(microseconds=created_at_us)


async def find_order_page(
    connection: asyncpg.Connection,
    *,
    found: OrderFilter,
    after: OrderPosition | None,
    limit: int,
) -> list[OrderPosition]:
    """The positions of up to `limit` orders that match, newest first, from just after `after`."""
    rows = await connection.fetch(
        PAGE_QUERIES[type(found.match)],
        found.event_id,
        found.status,
        None if after is None else moment_of(after.created_at_us),
        None if after is None else after.order_id,
        limit,
        *match_arguments(found.match),
    )
    return [OrderPosition(created_at_us=row["created_at_us"], order_id=row["id"]) for row in rows]
