"""The engine's configuration of an event read back from its rows: the sale's settings, the
ticket types and the seat map, which Postgres groups from the seats in seat-index order.

Reads only; persistence.event_repository writes these rows when the venue creates the event.
"""

import uuid

import asyncpg

from engine.inventory.configuration import (
    InventoryConfiguration,
    TicketKind,
    TicketTypeDefinition,
)
from engine.limits import MILLISECONDS_PER_SECOND
from engine.seat_map import RowLayout, SectionLayout
from persistence.event_repository import UnknownEvent
from persistence.price_phases_column import price_phases_from_json

SELECT_EVENT_SETTINGS = """
SELECT (extract(epoch FROM opens_at) * 1000)::bigint AS opens_at_ms,
       (extract(epoch FROM closes_at) * 1000)::bigint AS closes_at_ms,
       hold_ttl_s,
       max_tickets_per_user,
       wait_list_enabled,
       offer_ttl_s,
       (extract(epoch FROM accessible_release_at) * 1000)::bigint AS accessible_release_at_ms
FROM events
WHERE id = $1
"""

SELECT_TICKET_TYPES = """
SELECT id::text AS ticket_type_id, kind, price_cents, capacity,
       (extract(epoch FROM on_sale_from) * 1000)::bigint AS on_sale_from_ms,
       (extract(epoch FROM on_sale_until) * 1000)::bigint AS on_sale_until_ms,
       price_phases::text AS price_phases, hidden
FROM ticket_types
WHERE event_id = $1
ORDER BY position, id
"""

SELECT_SEAT_ROWS = """
SELECT section, row, ticket_type_id::text AS ticket_type_id, count(*) AS seats,
       coalesce(array_agg(number ORDER BY number) FILTER (WHERE access = 'accessible'), '{}')
           AS accessible,
       coalesce(array_agg(number ORDER BY number) FILTER (WHERE access = 'companion'), '{}')
           AS companion
FROM seats
WHERE event_id = $1
GROUP BY section, row, ticket_type_id
ORDER BY min(seat_index)
"""


async def load_sections(
    connection: asyncpg.Connection, *, event_id: uuid.UUID
) -> tuple[SectionLayout, ...]:
    """The event's seat map as sections of rows, in seat-index order, read from its seats."""
    sections: list[SectionLayout] = []
    section_rows: list[RowLayout] = []
    current: tuple[str, str] | None = None
    for row in await connection.fetch(SELECT_SEAT_ROWS, event_id):
        if current is not None and current != (row["section"], row["ticket_type_id"]):
            sections.append(
                SectionLayout(
                    section_id=current[0], ticket_type_id=current[1], rows=tuple(section_rows)
                )
            )
            section_rows = []
        current = (row["section"], row["ticket_type_id"])
        section_rows.append(
            RowLayout(
                row_id=row["row"],
                seats=row["seats"],
                accessible=tuple(row["accessible"]),
                companion=tuple(row["companion"]),
            )
        )
    if current is not None:
        sections.append(
            SectionLayout(
                section_id=current[0], ticket_type_id=current[1], rows=tuple(section_rows)
            )
        )
    return tuple(sections)


async def load_inventory_configuration(
    connection: asyncpg.Connection, *, event_id: uuid.UUID
) -> InventoryConfiguration:
    """The engine's configuration of the event; raises UnknownEvent when it is not visible."""
    settings = await connection.fetchrow(SELECT_EVENT_SETTINGS, event_id)
    if settings is None:
        raise UnknownEvent(f"no event {event_id} for this tenant")
    ticket_types = tuple(
        TicketTypeDefinition(
            ticket_type_id=row["ticket_type_id"],
            kind=TicketKind(row["kind"]),
            price_cents=row["price_cents"],
            capacity=row["capacity"] if row["kind"] == TicketKind.GENERAL else 0,
            on_sale_from_ms=row["on_sale_from_ms"],
            on_sale_until_ms=row["on_sale_until_ms"],
            price_phases=price_phases_from_json(row["price_phases"]),
            hidden=row["hidden"],
        )
        for row in await connection.fetch(SELECT_TICKET_TYPES, event_id)
    )
    sections = await load_sections(connection, event_id=event_id)
    return InventoryConfiguration(
        opens_at_ms=settings["opens_at_ms"],
        closes_at_ms=settings["closes_at_ms"],
        hold_ttl_ms=settings["hold_ttl_s"] * MILLISECONDS_PER_SECOND,
        max_tickets_per_user=settings["max_tickets_per_user"],
        ticket_types=ticket_types,
        sections=sections,
        wait_list_enabled=settings["wait_list_enabled"],
        offer_ttl_ms=settings["offer_ttl_s"] * MILLISECONDS_PER_SECOND,
        accessible_release_at_ms=settings["accessible_release_at_ms"],
    )
