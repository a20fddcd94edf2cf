"""The inbox of Stripe's verified events: kept once by id, taken by one worker at a time for a
lease, put back after a backoff when an attempt fails, and left alone once applied."""

import json

import asyncpg

from persistence.stripe_event_inbox import (
    keep_stripe_event,
    mark_stripe_event_applied,
    record_stripe_event_failure,
    take_stripe_event,
    waiting_stripe_events,
)

LEASE_MS = 60_000


async def keep(connection: asyncpg.Connection, event_id: str) -> bool:
    return await keep_stripe_event(
        connection,
        event_id=event_id,
        event_type="charge.refunded",
        payload=json.dumps({"id": event_id, "type": "charge.refunded"}),
    )


async def test_an_event_is_kept_once_and_is_to_apply_until_it_is_applied(
    service_pool: asyncpg.Pool,
) -> None:
    async with service_pool.acquire() as connection:
        assert await keep(connection, "evt_1")
        assert await keep(connection, "evt_1"), "kept, not applied yet"
        assert await waiting_stripe_events(connection, limit=10) == ["evt_1"]
        await mark_stripe_event_applied(connection, "evt_1")
        assert not await keep(connection, "evt_1")
        assert await waiting_stripe_events(connection, limit=10) == []
        assert await take_stripe_event(connection, "evt_1", lease_ms=LEASE_MS) is None
        assert await connection.fetchval("SELECT count(*) FROM stripe_events") == 1


async def test_a_taken_event_is_nobody_elses_until_its_lease_ends(
    service_pool: asyncpg.Pool,
) -> None:
    async with service_pool.acquire() as connection:
        await keep(connection, "evt_2")
        taken = await take_stripe_event(connection, "evt_2", lease_ms=LEASE_MS)
        assert taken is not None and taken.attempts == 1
        assert json.loads(taken.payload) == {"id": "evt_2", "type": "charge.refunded"}
        assert await take_stripe_event(connection, "evt_2", lease_ms=LEASE_MS) is None
        assert await waiting_stripe_events(connection, limit=10) == []

        await keep(connection, "evt_3")
        assert await take_stripe_event(connection, "evt_3", lease_ms=0) is not None
        again = await take_stripe_event(connection, "evt_3", lease_ms=LEASE_MS)
        assert again is not None and again.attempts == 2, "a lease that ended frees the event"


async def test_a_failed_attempt_waits_its_backoff_and_keeps_its_error(
    service_pool: asyncpg.Pool,
) -> None:
    async with service_pool.acquire() as connection:
        await keep(connection, "evt_4")
        await keep(connection, "evt_5")
        assert await take_stripe_event(connection, "evt_4", lease_ms=LEASE_MS) is not None
        await record_stripe_event_failure(
            connection, "evt_4", error="Stripe is down", retry_in_ms=60_000
        )
        assert await waiting_stripe_events(connection, limit=10) == ["evt_5"]
        assert await take_stripe_event(connection, "evt_4", lease_ms=LEASE_MS) is None
        error = await connection.fetchval(
            "SELECT last_error FROM stripe_events WHERE event_id = 'evt_4'"
        )
        assert error == "Stripe is down"

        await record_stripe_event_failure(connection, "evt_4", error="again", retry_in_ms=0)
        assert sorted(await waiting_stripe_events(connection, limit=10)) == ["evt_4", "evt_5"]


async def test_events_kept_a_moment_ago_are_left_to_the_worker_the_route_asked(
    service_pool: asyncpg.Pool,
) -> None:
    async with service_pool.acquire() as connection:
        await keep(connection, "evt_6")
        assert await waiting_stripe_events(connection, limit=10, kept_for_ms=60_000) == []
        await connection.execute("SELECT pg_sleep(0.05)")
        assert await waiting_stripe_events(connection, limit=10, kept_for_ms=10) == ["evt_6"]
