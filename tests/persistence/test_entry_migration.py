"""Migration 0029 on scans recorded before it: each admission becomes the ticket's first entry at
the main entrance, so a checked-in ticket is still inside and refused a second admission, and the
table still refuses a second first entry."""

import pathlib

import asyncpg
import pytest

from engine.admission import ScanReason
from persistence.admissions import ScanRequest, record_scan
from persistence.migrate import migrate
from tests.persistence.builders import (
    INSERT_EVENT,
    INSERT_HOLD,
    INSERT_ORDER,
    INSERT_TICKET_TYPE,
    INSERT_VENUE,
    create_tenant,
)
from tests.persistence.migration_steps import migrations_before

ENTRY_MIGRATION = "0029_entry_policies.sql"
NOW_MS = 1_900_000_000_000

INSERT_TICKET = """
INSERT INTO tickets (tenant_id, event_id, order_id, ticket_type_id, owner_user_id, position,
                     status, checked_in_at)
VALUES ($1, $2, $3, $4, 'fan-1', 0, 'checked_in', now())
RETURNING id
"""

INSERT_OLD_SCAN = """
INSERT INTO ticket_scans (tenant_id, event_id, ticket_id, device_id, scanned_by, result, reason,
                          scanned_at)
VALUES ($1, $2, $3, 'gate-1', 'staff-1', $4, $5, now())
"""

INSERT_SECOND_FIRST_ENTRY = """
INSERT INTO ticket_scans (tenant_id, event_id, ticket_id, device_id, scanned_by, result,
                          scanned_at, entry_number)
VALUES ($1, $2, $3, 'gate-2', 'staff-2', 'admitted', now(), 1)
"""


async def test_scans_before_the_migration_become_first_entries_at_the_main_entrance(
    empty_database_url: str, tmp_path: pathlib.Path
) -> None:
    await migrate(empty_database_url, directory=migrations_before(tmp_path, ENTRY_MIGRATION))
    connection = await asyncpg.connect(empty_database_url)
    try:
        tenant_id = await create_tenant(connection, "Tenant before entry policies")
        await connection.execute(
            "SELECT set_config('app.current_tenant_id', $1, false)", str(tenant_id)
        )
        venue_id = await connection.fetchval(INSERT_VENUE, tenant_id)
        event_id = await connection.fetchval(INSERT_EVENT, tenant_id, venue_id)
        ticket_type_id = await connection.fetchval(
            INSERT_TICKET_TYPE, tenant_id, event_id, "GA", "general", 5000, 100
        )
        hold_id = await connection.fetchval(
            INSERT_HOLD, tenant_id, event_id, "fan-1", 1, ticket_type_id, 5000
        )
        order_id = await connection.fetchval(INSERT_ORDER, tenant_id, event_id, hold_id)
        ticket_id = await connection.fetchval(
            INSERT_TICKET, tenant_id, event_id, order_id, ticket_type_id
        )
        for result, reason in (("admitted", None), ("rejected", "already_checked_in")):
            await connection.execute(
                INSERT_OLD_SCAN, tenant_id, event_id, ticket_id, result, reason
            )
        await migrate(empty_database_url)

        scans = await connection.fetch(
            "SELECT result, zone, direction, entry_number FROM ticket_scans ORDER BY result"
        )
        async with connection.transaction():
            again = await record_scan(
                connection,
                ScanRequest(
                    event_id=event_id,
                    ticket_id=ticket_id,
                    device_id="gate-3",
                    scanned_by="staff-3",
                    scanned_at_ms=NOW_MS,
                    offline=False,
                ),
            )
        with pytest.raises(asyncpg.ExclusionViolationError, match="one_passage_per_entry"):
            await connection.execute(INSERT_SECOND_FIRST_ENTRY, tenant_id, event_id, ticket_id)
        entry = await connection.fetchval("SELECT entry FROM events WHERE id = $1", event_id)
    finally:
        await connection.close()

    assert [tuple(row) for row in scans] == [
        ("admitted", "", "in", 1),
        ("rejected", "", "in", None),
    ]
    assert (again.admitted, again.reason) == (False, ScanReason.ALREADY_CHECKED_IN)
    assert entry is None
