"""Seeds a tenant, a venue and an on-sale event straight into Postgres, for benchmarks and tests."""

import datetime
import uuid

import asyncpg

from engine.inventory.configuration import TicketKind
from persistence.event_repository import (
    CreatedEvent,
    NewEvent,
    NewRow,
    NewSection,
    NewTicketType,
    WaitingRoomSettings,
    create_event,
)
from persistence.pool import create_pool, service_url
from persistence.tenancy import tenant_transaction

NO_WAITING_ROOM = WaitingRoomSettings(
    enabled=False, admit_per_second=50, max_active_shoppers=2_000, access_ttl_s=900
)


def event_on_sale_now(
    *,
    general_capacity: int,
    seat_rows: int = 0,
    max_tickets_per_user: int = 6,
    waiting_room: WaitingRoomSettings = NO_WAITING_ROOM,
) -> NewEvent:
    now = datetime.datetime.now(datetime.UTC)
    ticket_types = [
        NewTicketType(
            key="GA",
            name="General",
            kind=TicketKind.GENERAL,
            price_cents=5_000,
            capacity=general_capacity,
        )
    ]
    sections: tuple[NewSection, ...] = ()
    if seat_rows:
        ticket_types.append(
            NewTicketType(key="RES", name="Reserved", kind=TicketKind.SEATED, price_cents=8_000)
        )
        rows = tuple(NewRow(row_id=f"R{number}", seats=20) for number in range(1, seat_rows + 1))
        sections = (NewSection(section_id="101", ticket_type_key="RES", rows=rows),)
    return NewEvent(
        name="Night One",
        starts_at=now + datetime.timedelta(days=30),
        ends_at=now + datetime.timedelta(days=30, hours=3),
        currency="USD",
        opens_at=now - datetime.timedelta(minutes=1),
        closes_at=now + datetime.timedelta(days=1),
        hold_ttl_s=60,
        max_tickets_per_user=max_tickets_per_user,
        waiting_room=waiting_room,
        ticket_types=tuple(ticket_types),
        sections=sections,
    )


async def seed_event(owner_url: str, event: NewEvent) -> tuple[uuid.UUID, CreatedEvent]:
    """Create a tenant and venue as the owner, then the event as the service; (tenant, event)."""
    owner = await asyncpg.connect(owner_url)
    try:
        tenant_id = await owner.fetchval(
            "insert into tenants (name) values ($1) returning id", f"Tenant {uuid.uuid4().hex[:8]}"
        )
        venue_id = await owner.fetchval(
            "insert into venues (tenant_id, name) values ($1, 'Arena') returning id", tenant_id
        )
    finally:
        await owner.close()
    pool = await create_pool(service_url(owner_url), min_size=1, max_size=1)
    try:
        async with tenant_transaction(pool, tenant_id) as connection:
            created = await create_event(
                connection, tenant_id=tenant_id, venue_id=venue_id, event=event
            )
    finally:
        await pool.close()
    return tenant_id, created
