"""Events are written whole, seats in bulk, and read back as the engine's configuration; the event
directory tells the service an event's tenant before any tenant is set."""

import uuid

import asyncpg
import pytest

from engine.inventory.configuration import TicketKind
from engine.inventory.state import Inventory
from engine.rejections import Reason
from persistence.event_configuration import load_inventory_configuration
from persistence.event_directory import find_event_tenant
from persistence.event_repository import (
    EventRejected,
    NewRow,
    NewSection,
    NewTicketType,
    UnknownEvent,
    configuration_of,
    create_event,
)
from persistence.tenancy import tenant_transaction
from tests.persistence.builders import (
    INSERT_VENUE,
    create_event_of_new_tenant,
    create_tenant,
    new_event,
    simulation_event,
)

LARGE_SECTIONS = 40
LARGE_ROWS_PER_SECTION = 40
LARGE_SEATS_PER_ROW = 50


def large_event_sections() -> tuple[NewSection, ...]:
    return tuple(
        NewSection(
            section_id=f"S{section}",
            ticket_type_key="RES",
            rows=tuple(
                NewRow(row_id=f"R{row}", seats=LARGE_SEATS_PER_ROW)
                for row in range(LARGE_ROWS_PER_SECTION)
            ),
        )
        for section in range(LARGE_SECTIONS)
    )


async def test_every_seat_is_written_with_its_label_and_rank_when_a_seated_event_is_created(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> None:
    event = await create_event_of_new_tenant(service_pool, owner_connection, simulation_event())
    seats = await owner_connection.fetch(
        "SELECT seat_index, label, state, ticket_type_id::text AS ticket_type_id FROM seats "
        "WHERE event_id = $1 ORDER BY seat_index",
        event.event_id,
    )
    ticket_type_ids = event.ticket_type_ids()
    expected_labels = (
        [f"101-A-{number}" for number in range(1, 9)]
        + [f"101-B-{number}" for number in range(1, 11)]
        + [f"102-A-{number}" for number in range(1, 7)]
        + [f"B1-1-{number}" for number in range(1, 6)]
    )

    assert event.created.seats == len(expected_labels)
    assert [row["label"] for row in seats] == expected_labels
    assert [row["seat_index"] for row in seats] == list(range(len(expected_labels)))
    assert {row["state"] for row in seats} == {"available"}
    assert [row["ticket_type_id"] for row in seats] == [ticket_type_ids["RES"]] * 24 + [
        ticket_type_ids["BOX"]
    ] * 5
    capacities = await owner_connection.fetch(
        "SELECT key, capacity FROM ticket_types WHERE event_id = $1 ORDER BY position",
        event.event_id,
    )
    assert [tuple(row) for row in capacities] == [("GA", 20), ("RES", 24), ("BOX", 5)]


async def test_configuration_reads_back_as_created_when_an_event_is_loaded(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> None:
    event = simulation_event()
    created = await create_event_of_new_tenant(service_pool, owner_connection, event)
    async with tenant_transaction(service_pool, created.tenant_id) as connection:
        configuration = await load_inventory_configuration(connection, event_id=created.event_id)
    ticket_type_uuids = {
        ticket_type.key: ticket_type.ticket_type_id for ticket_type in created.created.ticket_types
    }

    assert configuration == configuration_of(event, ticket_type_uuids)
    assert Inventory(configuration).ticket_type_counts(str(ticket_type_uuids["RES"])).capacity == 24


async def test_eighty_thousand_seats_are_written_when_a_large_event_is_created(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> None:
    event = new_event(
        (NewTicketType(key="RES", name="Reserved", kind=TicketKind.SEATED, price_cents=8_000),),
        large_event_sections(),
    )
    created = await create_event_of_new_tenant(service_pool, owner_connection, event)
    stored = await owner_connection.fetchrow(
        "SELECT count(*) AS seats, max(seat_index) AS last_index, "
        "count(*) FILTER (WHERE label = 'S39-R39-50') AS last_label FROM seats "
        "WHERE event_id = $1",
        created.event_id,
    )

    assert created.created.seats == 80_000
    assert tuple(stored) == (80_000, 79_999, 1)


async def test_nothing_is_written_when_the_engine_refuses_the_configuration(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> None:
    tenant_id = await create_tenant(owner_connection, "Tenant A")
    event = new_event(
        (NewTicketType(key="GA", name="General", kind=TicketKind.GENERAL, price_cents=5_000),),
        (
            NewSection(
                section_id="101", ticket_type_key="NOPE", rows=(NewRow(row_id="A", seats=3),)
            ),
        ),
    )
    async with tenant_transaction(service_pool, tenant_id) as connection:
        venue_id = await connection.fetchval(INSERT_VENUE, tenant_id)
        with pytest.raises(EventRejected) as refused:
            await create_event(connection, tenant_id=tenant_id, venue_id=venue_id, event=event)

    assert refused.value.rejected.reason is Reason.VALIDATION_ERROR
    assert "capacity out of bounds" in refused.value.rejected.message
    assert "section 101" in refused.value.rejected.message
    assert await owner_connection.fetchval("SELECT count(*) FROM events") == 0


async def test_unknown_event_is_raised_when_the_event_belongs_to_another_tenant(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> None:
    created = await create_event_of_new_tenant(service_pool, owner_connection, simulation_event())
    other_tenant_id = await create_tenant(owner_connection, "Tenant B")

    async with tenant_transaction(service_pool, other_tenant_id) as connection:
        with pytest.raises(UnknownEvent):
            await load_inventory_configuration(connection, event_id=created.event_id)


async def test_event_tenant_is_found_without_a_tenant_set_when_the_event_exists(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> None:
    created = await create_event_of_new_tenant(service_pool, owner_connection, simulation_event())

    assert await find_event_tenant(service_pool, event_id=created.event_id) == created.tenant_id
    assert await find_event_tenant(service_pool, event_id=uuid.uuid4()) is None


async def test_directory_entry_is_refused_when_it_names_another_tenant_or_is_changed(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> None:
    created = await create_event_of_new_tenant(service_pool, owner_connection, simulation_event())
    other = await create_event_of_new_tenant(
        service_pool, owner_connection, simulation_event(), "Tenant B"
    )

    insert_entry = "INSERT INTO event_directory (event_id, owner_tenant_id) VALUES ($1, $2)"
    await owner_connection.execute(
        "DELETE FROM event_directory WHERE event_id = $1", created.event_id
    )

    async with service_pool.acquire() as connection:
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await connection.execute(insert_entry, created.event_id, other.tenant_id)
        await connection.execute(insert_entry, created.event_id, created.tenant_id)
        with pytest.raises(asyncpg.UniqueViolationError):
            await connection.execute(insert_entry, other.event_id, created.tenant_id)
        for statement in (
            "UPDATE event_directory SET owner_tenant_id = owner_tenant_id",
            "DELETE FROM event_directory",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(statement)
    assert await find_event_tenant(service_pool, event_id=created.event_id) == created.tenant_id
