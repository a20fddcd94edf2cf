"""Postgres keeps the after-sale rules itself: a scan that waits for another gate's check-in is
turned away (and the table of scans refuses a second admission), a ticket has one successor,
unused tickets expire a day after their event ends, and a fan's tenants are found from their
tickets."""

import asyncio
import uuid

import asyncpg
import pytest

from engine.admission import ScanReason
from persistence.admissions import ScanRequest, record_scan
from persistence.tenancy import tenant_transaction
from persistence.ticket_expiry import expire_unused_tickets
from persistence.ticket_holders import tenants_holding_tickets_of
from tests.persistence.builders import Sale

NOW_MS = 1_900_000_000_000
DAY_MS = 86_400_000
LOCK_WAIT_S = 0.3


async def valid_ticket_request(service_pool: asyncpg.Pool, sale: Sale, gate: str) -> ScanRequest:
    """A scan whose code was verified as the ticket's (the gateway verifies before recording)."""
    async with tenant_transaction(service_pool, sale.tenant_id) as connection:
        await connection.execute(
            "UPDATE tickets SET status = 'valid' WHERE id = $1", sale.ticket_id
        )
    return ScanRequest(
        event_id=sale.event_id,
        ticket_id=sale.ticket_id,
        device_id=gate,
        scanned_by="staff-1",
        scanned_at_ms=NOW_MS,
        offline=False,
    )


async def test_second_gate_waits_for_the_first_and_is_turned_away_when_both_scan_at_once(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    request = await valid_ticket_request(service_pool, sale_of_tenant_a, "gate-1")
    tenant_id = sale_of_tenant_a.tenant_id

    async def scan_at_second_gate(connection: asyncpg.Connection) -> ScanReason | None:
        async with tenant_transaction(connection, tenant_id):
            return (await record_scan(connection, request)).reason

    async with service_pool.acquire() as second_gate:
        async with tenant_transaction(service_pool, tenant_id) as first_gate:
            first = await record_scan(first_gate, request)
            async with tenant_transaction(second_gate, tenant_id):
                status_read_without_lock = await second_gate.fetchval(
                    "SELECT status FROM tickets WHERE id = $1", sale_of_tenant_a.ticket_id
                )
            second = asyncio.create_task(scan_at_second_gate(second_gate))
            await asyncio.sleep(LOCK_WAIT_S)
            second_waited = not second.done()
        second_reason = await second

    assert first.admitted
    assert status_read_without_lock == "valid", "a check without the row lock would admit twice"
    assert second_waited
    assert second_reason is ScanReason.ALREADY_CHECKED_IN


async def test_second_admission_of_a_ticket_is_refused_by_the_table_of_scans(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    insert = """
    INSERT INTO ticket_scans (tenant_id, event_id, ticket_id, device_id, scanned_by, result,
                              scanned_at, entry_number)
    VALUES ($1, $2, $3, 'gate-2', 'staff-2', 'admitted', now(), 1)
    """
    with pytest.raises(asyncpg.ExclusionViolationError, match="one_passage_per_entry"):
        async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
            for _ in range(2):
                await connection.execute(
                    insert,
                    sale_of_tenant_a.tenant_id,
                    sale_of_tenant_a.event_id,
                    sale_of_tenant_a.ticket_id,
                )


async def test_an_admission_without_its_entry_number_is_refused_by_the_table_of_scans(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    with pytest.raises(asyncpg.CheckViolationError, match="entry_when_admitted"):
        async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
            await connection.execute(
                """
                INSERT INTO ticket_scans (tenant_id, event_id, ticket_id, device_id, scanned_by,
                                          result, scanned_at)
                VALUES ($1, $2, $3, 'gate-2', 'staff-2', 'admitted', now())
                """,
                sale_of_tenant_a.tenant_id,
                sale_of_tenant_a.event_id,
                sale_of_tenant_a.ticket_id,
            )


async def test_second_successor_of_a_ticket_is_refused(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    with pytest.raises(asyncpg.UniqueViolationError, match="predecessor_ticket_id"):
        async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
            await connection.execute(
                """
                INSERT INTO tickets (tenant_id, event_id, order_id, ticket_type_id, owner_user_id,
                                     code_seed, position, predecessor_ticket_id, nft_ticket_id)
                SELECT tenant_id, event_id, order_id, ticket_type_id, 'fan-3', code_seed, position,
                       predecessor_ticket_id, nft_ticket_id
                FROM tickets WHERE predecessor_ticket_id IS NOT NULL
                """
            )


async def test_unused_tickets_expire_only_a_day_after_their_event_ends(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale
) -> None:
    ends_at_ms = NOW_MS
    async with tenant_transaction(service_pool, sale_of_tenant_a.tenant_id) as connection:
        await connection.execute(
            """
            UPDATE events
            SET starts_at = timestamptz 'epoch' + ($2::bigint - 3600000) * interval '1 millisecond',
                ends_at = timestamptz 'epoch' + $2::bigint * interval '1 millisecond'
            WHERE id = $1
            """,
            sale_of_tenant_a.event_id,
            ends_at_ms,
        )
        await connection.execute(
            "UPDATE tickets SET status = 'locked' WHERE id = $1", sale_of_tenant_a.ticket_id
        )
        too_early = await expire_unused_tickets(connection, now_ms=ends_at_ms + DAY_MS - 1)
        expired = await expire_unused_tickets(connection, now_ms=ends_at_ms + DAY_MS)
        again = await expire_unused_tickets(connection, now_ms=ends_at_ms + 2 * DAY_MS)
        statuses = await connection.fetch(
            "SELECT status, count(*) FROM tickets WHERE event_id = $1 GROUP BY status",
            sale_of_tenant_a.event_id,
        )

    assert (too_early, expired, again) == (0, 3, 0)
    assert {row["status"]: row["count"] for row in statuses} == {"expired": 3}


async def test_fans_tenants_are_found_from_their_tickets(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale, sale_of_tenant_b: Sale
) -> None:
    fan_tenants = await tenants_holding_tickets_of(service_pool, owner_user_id="fan-2", limit=10)
    nobodys = await tenants_holding_tickets_of(service_pool, owner_user_id="nobody", limit=10)

    assert sorted(fan_tenants) == sorted([sale_of_tenant_a.tenant_id, sale_of_tenant_b.tenant_id])
    assert nobodys == []
    assert isinstance(fan_tenants[0], uuid.UUID)
