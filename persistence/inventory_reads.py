"""The inventory of one event read back from Postgres: the rows `Inventory.rebuild` reads, and the
live holds and sales a batch changes, loaded before it is written.

Reads only; persistence.inventory_writes is the one writer of these tables.
"""

import uuid

import asyncpg
import msgspec

from engine.commands import Withholding
from engine.holds import Hold, HoldItem, Sale
from engine.ids import HoldId, OrderId, SeatId
from engine.inventory.rows import InventoryRows, SeatRow, WithheldUnitsRow
from engine.inventory.wait_list import WaitListEntry, WaitListStatus
from engine.outcomes import IdempotencyRecord, Outcome
from persistence.code_reads import load_codes
from persistence.event_configuration import load_inventory_configuration
from persistence.inventory_batch import SEAT_STATE_NAMES

SEAT_STATES_BY_NAME = {name: state for state, name in SEAT_STATE_NAMES.items()}
WITHHOLDING_ORDER = {withholding: position for position, withholding in enumerate(Withholding)}
OUTCOME_DECODER = msgspec.msgpack.Decoder(Outcome)

SELECT_SALE_STATUS = """
SELECT status = 'paused' AS paused, status = 'cancelled' AS cancelled FROM events WHERE id = $1
"""

SELECT_UNAVAILABLE_SEATS = """
SELECT label, state FROM seats WHERE event_id = $1 AND state <> 'available' ORDER BY seat_index
"""

SELECT_WITHHELD_UNITS = """
SELECT ticket_type_id::text AS ticket_type_id, withholding, quantity
FROM withheld_units
WHERE event_id = $1 AND quantity > 0
"""

SELECT_HOLDS = """
SELECT id::text AS hold_id, user_id, extensions,
       (extract(epoch FROM expires_at) * 1000)::bigint AS expires_at_ms,
       item_ticket_type_ids::text[], item_quantities, item_unit_prices_cents,
       code_id::text AS code_id
FROM holds
WHERE event_id = $1 AND status = 'active'
"""

SELECT_HOLD_SEATS = """
SELECT hold_seats.hold_id::text AS owner, seats.label
FROM hold_seats
JOIN holds ON holds.id = hold_seats.hold_id
JOIN seats ON seats.id = hold_seats.seat_id
WHERE hold_seats.event_id = $1 AND holds.status = 'active'
ORDER BY hold_seats.hold_id, hold_seats.position
"""

SELECT_HOLDS_BY_ID = """
SELECT id::text AS hold_id, user_id, extensions,
       (extract(epoch FROM expires_at) * 1000)::bigint AS expires_at_ms,
       item_ticket_type_ids::text[], item_quantities, item_unit_prices_cents,
       code_id::text AS code_id
FROM holds
WHERE id = ANY($2::uuid[]) AND event_id = $1 AND status = 'active'
"""

SELECT_HOLD_SEATS_BY_HOLD = """
SELECT hold_seats.hold_id::text AS owner, seats.label
FROM hold_seats
JOIN seats ON seats.id = hold_seats.seat_id
WHERE hold_seats.hold_id = ANY($2::uuid[]) AND hold_seats.event_id = $1
ORDER BY hold_seats.hold_id, hold_seats.position
"""

SELECT_SALES = """
SELECT sales.order_id::text AS order_id, sales.user_id, sales.complimentary, sales.seat_labels,
       holds.code_id::text AS code_id
FROM sales
LEFT JOIN holds ON holds.id = sales.hold_id
WHERE sales.event_id = $1 AND sales.status = 'live'
"""

SELECT_SALE_ITEMS = """
SELECT sale_items.order_id::text AS owner, sale_items.ticket_type_id::text AS ticket_type_id,
       sale_items.quantity, sale_items.unit_price_cents
FROM sale_items
JOIN sales ON sales.order_id = sale_items.order_id
WHERE sale_items.event_id = $1 AND sales.status = 'live'
ORDER BY sale_items.order_id, sale_items.position
"""

SELECT_SALES_BY_ID = """
SELECT sales.order_id::text AS order_id, sales.user_id, sales.complimentary, sales.seat_labels,
       holds.code_id::text AS code_id
FROM sales
LEFT JOIN holds ON holds.id = sales.hold_id
WHERE sales.order_id = ANY($2::uuid[]) AND sales.event_id = $1 AND sales.status = 'live'
"""

SELECT_SALE_ITEMS_BY_SALE = """
SELECT order_id::text AS owner, ticket_type_id::text AS ticket_type_id, quantity,
       unit_price_cents
FROM sale_items
WHERE order_id = ANY($2::uuid[]) AND event_id = $1
ORDER BY order_id, position
"""

SELECT_IDEMPOTENCY_RECORDS = """
SELECT key, fingerprint, outcome, recorded_at_ms
FROM inventory_idempotency_records
WHERE event_id = $1
ORDER BY position
"""

SELECT_WAIT_LIST = """
SELECT id::text AS entry_id, user_id, email, quantity, ticket_type_id::text AS ticket_type_id,
       sequence, status, hold_id::text AS hold_id, offer_expires_at_ms
FROM wait_list_entries
WHERE event_id = $1
ORDER BY sequence
"""


async def load_inventory_rows(
    connection: asyncpg.Connection, *, event_id: uuid.UUID
) -> InventoryRows:
    """Everything `Inventory.rebuild` needs, in `InventoryRows`' canonical order."""
    configuration = await load_inventory_configuration(connection, event_id=event_id)
    status = await connection.fetchrow(SELECT_SALE_STATUS, event_id)
    seats = tuple(
        SeatRow(seat_id=row["label"], state=SEAT_STATES_BY_NAME[row["state"]])
        for row in await connection.fetch(SELECT_UNAVAILABLE_SEATS, event_id)
    )
    withheld_units = tuple(
        sorted(
            (
                WithheldUnitsRow(
                    ticket_type_id=row["ticket_type_id"],
                    withholding=Withholding(row["withholding"]),
                    quantity=row["quantity"],
                )
                for row in await connection.fetch(SELECT_WITHHELD_UNITS, event_id)
            ),
            key=lambda row: (row.ticket_type_id, WITHHOLDING_ORDER[row.withholding]),
        )
    )
    holds = await load_live_holds(connection, event_id, None)
    sales = await load_live_sales(connection, event_id, None)
    idempotency_records = tuple(
        IdempotencyRecord(
            key=row["key"],
            fingerprint=row["fingerprint"],
            outcome=OUTCOME_DECODER.decode(row["outcome"]),
            recorded_at_ms=row["recorded_at_ms"],
        )
        for row in await connection.fetch(SELECT_IDEMPOTENCY_RECORDS, event_id)
    )
    wait_list = tuple(
        WaitListEntry(
            entry_id=row["entry_id"],
            fan_id=row["user_id"],
            email=row["email"],
            quantity=row["quantity"],
            ticket_type_id=row["ticket_type_id"],
            sequence=row["sequence"],
            status=WaitListStatus(row["status"]),
            hold_id=row["hold_id"],
            offer_expires_at_ms=row["offer_expires_at_ms"],
        )
        for row in await connection.fetch(SELECT_WAIT_LIST, event_id)
    )
    return InventoryRows(
        configuration=configuration,
        paused=bool(status and status["paused"]),
        cancelled=bool(status and status["cancelled"]),
        seats=seats,
        withheld_units=withheld_units,
        holds=holds,
        sales=sales,
        idempotency_records=idempotency_records,
        wait_list=wait_list,
        codes=await load_codes(connection, event_id),
    )


async def _fetch(
    connection: asyncpg.Connection, query: str, event_id: uuid.UUID, ids: list[str] | None
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = (
        await connection.fetch(query, event_id)
        if ids is None
        else await connection.fetch(query, event_id, ids)
    )
    return rows


async def _load_items(
    connection: asyncpg.Connection, query: str, event_id: uuid.UUID, ids: list[str] | None
) -> dict[str, list[HoldItem]]:
    items: dict[str, list[HoldItem]] = {}
    for row in await _fetch(connection, query, event_id, ids):
        owner_items = items.get(row["owner"])
        if owner_items is None:
            owner_items = items[row["owner"]] = []
        owner_items.append(
            HoldItem(
                ticket_type_id=row["ticket_type_id"],
                quantity=row["quantity"],
                unit_price_cents=row["unit_price_cents"],
            )
        )
    return items


async def load_live_holds(
    connection: asyncpg.Connection, event_id: uuid.UUID, hold_ids: list[HoldId] | None
) -> tuple[Hold, ...]:
    """The event's active holds sorted by id: all of them, or those of `hold_ids`."""
    every = hold_ids is None
    rows = await _fetch(
        connection, SELECT_HOLDS if every else SELECT_HOLDS_BY_ID, event_id, hold_ids
    )
    seats: dict[str, list[SeatId]] = {}
    seat_query = SELECT_HOLD_SEATS if every else SELECT_HOLD_SEATS_BY_HOLD
    for row in await _fetch(connection, seat_query, event_id, hold_ids):
        hold_seats = seats.get(row["owner"])
        if hold_seats is None:
            hold_seats = seats[row["owner"]] = []
        hold_seats.append(row["label"])
    holds = [
        Hold(
            hold_id=row["hold_id"],
            fan_id=row["user_id"],
            items=hold_items_of(row),
            seats=tuple(seats.get(row["hold_id"], ())),
            expires_at_ms=row["expires_at_ms"],
            extensions=row["extensions"],
            code_id=row["code_id"],
        )
        for row in rows
    ]
    holds.sort(key=lambda hold: hold.hold_id)
    return tuple(holds)


def hold_items_of(row: asyncpg.Record) -> tuple[HoldItem, ...]:
    """The items of a holds row, from its item arrays (ticket type ids read as text)."""
    return tuple(
        HoldItem(ticket_type_id=ticket_type_id, quantity=quantity, unit_price_cents=price_cents)
        for ticket_type_id, quantity, price_cents in zip(
            row["item_ticket_type_ids"],
            row["item_quantities"],
            row["item_unit_prices_cents"],
            strict=True,
        )
    )


async def load_live_sales(
    connection: asyncpg.Connection, event_id: uuid.UUID, order_ids: list[OrderId] | None
) -> tuple[Sale, ...]:
    """The event's live sales sorted by order id: all of them, or those of `order_ids`."""
    every = order_ids is None
    rows = await _fetch(
        connection, SELECT_SALES if every else SELECT_SALES_BY_ID, event_id, order_ids
    )
    items = await _load_items(
        connection, SELECT_SALE_ITEMS if every else SELECT_SALE_ITEMS_BY_SALE, event_id, order_ids
    )
    sales = [
        Sale(
            order_id=row["order_id"],
            fan_id=row["user_id"],
            items=tuple(items.get(row["order_id"], ())),
            seats=tuple(row["seat_labels"]),
            complimentary=row["complimentary"],
            code_id=row["code_id"],
        )
        for row in rows
    ]
    sales.sort(key=lambda sale: sale.order_id)
    return tuple(sales)
