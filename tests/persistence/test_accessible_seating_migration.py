"""Migration 0035 on events and seats written before it: every seat stays an ordinary seat, the
event releases nothing, and the engine's configuration read back is the one it had; a seat
marked after it reads back with its marking, and a marking outside the two is refused."""

import pathlib

import asyncpg
import pytest

from engine.seat_map import RowLayout
from persistence.event_configuration import load_inventory_configuration
from persistence.migrate import migrate
from tests.persistence.builders import (
    INSERT_EVENT,
    INSERT_SEAT,
    INSERT_TICKET_TYPE,
    INSERT_VENUE,
    create_tenant,
)
from tests.persistence.migration_steps import migrations_before

ACCESSIBLE_MIGRATION = "0035_accessible_seating.sql"
SEATS = 4


async def test_seats_before_the_migration_stay_ordinary_and_nothing_is_released(
    empty_database_url: str, tmp_path: pathlib.Path
) -> None:
    await migrate(empty_database_url, directory=migrations_before(tmp_path, ACCESSIBLE_MIGRATION))
    connection = await asyncpg.connect(empty_database_url)
    try:
        tenant_id = await create_tenant(connection, "Tenant before accessible seating")
        await connection.execute(
            "SELECT set_config('app.current_tenant_id', $1, false)", str(tenant_id)
        )
        venue_id = await connection.fetchval(INSERT_VENUE, tenant_id)
        event_id = await connection.fetchval(INSERT_EVENT, tenant_id, venue_id)
        ticket_type_id = await connection.fetchval(
            INSERT_TICKET_TYPE, tenant_id, event_id, "RES", "seated", 8000, SEATS
        )
        for number in range(1, SEATS + 1):
            await connection.fetchval(
                INSERT_SEAT, tenant_id, event_id, ticket_type_id, number - 1, number
            )
        await migrate(empty_database_url)

        before = await load_inventory_configuration(connection, event_id=event_id)
        await connection.execute(
            "UPDATE seats SET access = 'accessible' WHERE event_id = $1 AND number = 2", event_id
        )
        marked = await load_inventory_configuration(connection, event_id=event_id)
        with pytest.raises(asyncpg.CheckViolationError):
            await connection.execute(
                "UPDATE seats SET access = 'vip' WHERE event_id = $1", event_id
            )
    finally:
        await connection.close()

    assert before.accessible_release_at_ms is None
    assert before.sections[0].rows == (RowLayout(row_id="A", seats=SEATS),)
    assert marked.sections[0].rows == (RowLayout(row_id="A", seats=SEATS, accessible=(2,)),)
