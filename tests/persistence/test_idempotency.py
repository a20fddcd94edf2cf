"""The durable Idempotency-Key store: one claim wins, a completed key replays its bytes, a
different request conflicts, an expired or abandoned claim is taken over, tenants stay fenced."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from persistence.idempotency import (
    Claimed,
    ClaimOutcome,
    Conflict,
    ConflictReason,
    Replay,
    claim_key,
    complete_key,
    purge_expired_keys,
    release_key,
)
from persistence.pool import create_pool, service_url
from persistence.tenancy import tenant_transaction
from persistence.tenants import register_tenant

NOW_MS = 1_900_000_000_000
TTL_S = 86_400
LEASE_S = 120
CALLER = "fan-1"
HASH = "a" * 64
OTHER_HASH = "b" * 64
BODY = b'{"hold_id":"h-1","status":"active"}'


async def new_tenant(pool: asyncpg.Pool) -> uuid.UUID:
    tenant_id = uuid.uuid4()
    async with pool.acquire() as connection:
        await register_tenant(connection, tenant_id=tenant_id)
    return tenant_id


@pytest.fixture
async def tenant_id(service_pool: asyncpg.Pool) -> uuid.UUID:
    return await new_tenant(service_pool)


async def claim(
    pool: asyncpg.Pool,
    tenant_id: uuid.UUID,
    *,
    key: str = "key-1",
    request_hash: str = HASH,
    now_ms: int = NOW_MS,
) -> ClaimOutcome:
    async with tenant_transaction(pool, tenant_id) as connection:
        return await claim_key(
            connection,
            tenant_id=tenant_id,
            caller=CALLER,
            key=key,
            request_hash=request_hash,
            now_ms=now_ms,
            ttl_s=TTL_S,
            in_flight_lease_s=LEASE_S,
        )


async def complete(
    pool: asyncpg.Pool, tenant_id: uuid.UUID, *, key: str = "key-1", status: int = 201
) -> bool:
    async with tenant_transaction(pool, tenant_id) as connection:
        return await complete_key(
            connection,
            caller=CALLER,
            key=key,
            request_hash=HASH,
            status=status,
            body=BODY,
            media_type="application/json",
        )


async def release(
    pool: asyncpg.Pool, tenant_id: uuid.UUID, *, key: str = "key-1", claimed_at_ms: int = NOW_MS
) -> bool:
    async with tenant_transaction(pool, tenant_id) as connection:
        return await release_key(
            connection, caller=CALLER, key=key, request_hash=HASH, claimed_at_ms=claimed_at_ms
        )


async def test_first_claim_owns_the_key_when_the_key_is_new(
    service_pool: asyncpg.Pool, tenant_id: uuid.UUID
) -> None:
    assert await claim(service_pool, tenant_id) == Claimed(expires_at_ms=NOW_MS + TTL_S * 1000)


async def test_first_response_is_replayed_when_the_same_request_comes_again(
    service_pool: asyncpg.Pool, tenant_id: uuid.UUID
) -> None:
    await claim(service_pool, tenant_id)
    assert await complete(service_pool, tenant_id, status=201)

    again = await claim(service_pool, tenant_id, now_ms=NOW_MS + 60_000)

    assert again == Replay(
        status=201,
        body=BODY,
        media_type="application/json",
        expires_at_ms=NOW_MS + TTL_S * 1000,
    )


@pytest.mark.parametrize("completed", [True, False], ids=["completed", "in_flight"])
async def test_conflict_is_a_different_request_when_the_body_differs(
    service_pool: asyncpg.Pool, tenant_id: uuid.UUID, completed: bool
) -> None:
    await claim(service_pool, tenant_id)
    if completed:
        await complete(service_pool, tenant_id)

    outcome = await claim(service_pool, tenant_id, request_hash=OTHER_HASH)

    assert outcome == Conflict(reason=ConflictReason.DIFFERENT_REQUEST)


async def test_conflict_is_in_flight_when_the_same_request_is_still_running(
    service_pool: asyncpg.Pool, tenant_id: uuid.UUID
) -> None:
    await claim(service_pool, tenant_id)

    outcome = await claim(service_pool, tenant_id, now_ms=NOW_MS + (LEASE_S - 1) * 1000)

    assert outcome == Conflict(reason=ConflictReason.IN_FLIGHT)


@pytest.mark.parametrize("request_hash", [HASH, OTHER_HASH], ids=["same", "different"])
async def test_expired_key_is_claimed_afresh_when_its_ttl_has_passed(
    service_pool: asyncpg.Pool,
    owner_connection: asyncpg.Connection,
    tenant_id: uuid.UUID,
    request_hash: str,
) -> None:
    await claim(service_pool, tenant_id)
    await complete(service_pool, tenant_id)
    later_ms = NOW_MS + TTL_S * 1000

    outcome = await claim(service_pool, tenant_id, request_hash=request_hash, now_ms=later_ms)

    assert outcome == Claimed(expires_at_ms=later_ms + TTL_S * 1000)
    row = await owner_connection.fetchrow(
        "SELECT status, request_hash, response_body FROM idempotency_keys WHERE key = 'key-1'"
    )
    assert dict(row) == {"status": "in_flight", "request_hash": request_hash, "response_body": None}


async def test_abandoned_claim_is_taken_over_when_its_lease_has_passed(
    service_pool: asyncpg.Pool, tenant_id: uuid.UUID
) -> None:
    await claim(service_pool, tenant_id)
    later_ms = NOW_MS + LEASE_S * 1000

    assert await claim(service_pool, tenant_id, now_ms=later_ms) == Claimed(
        expires_at_ms=later_ms + TTL_S * 1000
    )


async def test_key_is_claimed_again_when_the_first_claim_was_released(
    service_pool: asyncpg.Pool, tenant_id: uuid.UUID
) -> None:
    await claim(service_pool, tenant_id)

    assert await release(service_pool, tenant_id)
    assert await claim(service_pool, tenant_id) == Claimed(expires_at_ms=NOW_MS + TTL_S * 1000)


async def test_later_claim_stays_when_the_release_of_an_earlier_claim_arrives_late(
    service_pool: asyncpg.Pool, tenant_id: uuid.UUID
) -> None:
    await claim(service_pool, tenant_id)
    later_ms = NOW_MS + LEASE_S * 1000
    assert isinstance(await claim(service_pool, tenant_id, now_ms=later_ms), Claimed)

    assert not await release(service_pool, tenant_id, claimed_at_ms=NOW_MS)
    assert await claim(service_pool, tenant_id, now_ms=later_ms + 1) == Conflict(
        reason=ConflictReason.IN_FLIGHT
    )
    assert await release(service_pool, tenant_id, claimed_at_ms=later_ms)


async def test_completed_response_stays_when_a_late_release_or_complete_arrives(
    service_pool: asyncpg.Pool, tenant_id: uuid.UUID
) -> None:
    await claim(service_pool, tenant_id)
    assert await complete(service_pool, tenant_id, status=201)

    assert not await release(service_pool, tenant_id)
    assert not await complete(service_pool, tenant_id, status=409)
    outcome = await claim(service_pool, tenant_id)
    assert isinstance(outcome, Replay)
    assert outcome.status == 201


@pytest.fixture
async def wide_pool(migrated_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(service_url(migrated_database_url), min_size=20, max_size=20)
    yield pool
    await pool.close()


async def test_exactly_one_claim_wins_when_twenty_claim_one_key_at_once(
    wide_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> None:
    tenant_id = await new_tenant(wide_pool)

    outcomes = await asyncio.gather(*(claim(wide_pool, tenant_id) for _ in range(20)))

    claimed = [outcome for outcome in outcomes if isinstance(outcome, Claimed)]
    assert len(claimed) == 1, outcomes
    assert outcomes.count(Conflict(reason=ConflictReason.IN_FLIGHT)) == 19
    assert await owner_connection.fetchval("SELECT count(*) FROM idempotency_keys") == 1


async def test_exactly_one_claim_wins_when_twenty_take_over_one_expired_key_at_once(
    wide_pool: asyncpg.Pool,
) -> None:
    tenant_id = await new_tenant(wide_pool)
    await claim(wide_pool, tenant_id)
    await complete(wide_pool, tenant_id)
    later_ms = NOW_MS + TTL_S * 1000

    outcomes = await asyncio.gather(
        *(claim(wide_pool, tenant_id, now_ms=later_ms) for _ in range(20))
    )

    assert sum(isinstance(outcome, Claimed) for outcome in outcomes) == 1, outcomes


async def test_key_stays_hidden_when_another_tenant_uses_the_same_caller_and_key(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection, tenant_id: uuid.UUID
) -> None:
    other_tenant_id = await new_tenant(service_pool)
    await claim(service_pool, tenant_id)
    await complete(service_pool, tenant_id)

    outcome = await claim(service_pool, other_tenant_id)
    async with tenant_transaction(service_pool, other_tenant_id) as connection:
        visible = await connection.fetchval("SELECT count(*) FROM idempotency_keys")
    released = await release(service_pool, other_tenant_id)

    assert outcome == Conflict(reason=ConflictReason.NOT_VISIBLE)
    assert visible == 0
    assert not released
    owner_row = await owner_connection.fetchrow(
        "SELECT tenant_id, status, response_body FROM idempotency_keys WHERE key = 'key-1'"
    )
    assert dict(owner_row) == {"tenant_id": tenant_id, "status": "completed", "response_body": BODY}


async def test_only_expired_keys_of_the_tenant_go_when_purged_in_batches(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection, tenant_id: uuid.UUID
) -> None:
    other_tenant_id = await new_tenant(service_pool)
    for number in range(5):
        await claim(service_pool, tenant_id, key=f"old-{number}")
        await claim(service_pool, other_tenant_id, key=f"other-{number}")
    await claim(service_pool, tenant_id, key="fresh", now_ms=NOW_MS + 1_000)
    purge_at_ms = NOW_MS + TTL_S * 1000

    purged: list[int] = []
    for _ in range(3):
        async with tenant_transaction(service_pool, tenant_id) as connection:
            purged.append(await purge_expired_keys(connection, now_ms=purge_at_ms, limit=2))

    assert purged == [2, 2, 1]
    keys = await owner_connection.fetch("SELECT key FROM idempotency_keys ORDER BY key")
    assert [row["key"] for row in keys] == ["fresh"] + [f"other-{number}" for number in range(5)]
