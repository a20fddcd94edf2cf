"""The event catalog on a real Postgres: a fresh copy is served without a read, an old one is read
again, a crowd that finds it old waits for one read, a caller that gives up leaves the others
their answer, and a change made here is never hidden by a read that predates it."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from engine.limits import EVENT_DETAILS_CACHE_TTL_MS
from gateway import event_catalog
from gateway.event_catalog import EventCatalog
from persistence.event_details import EventLocation
from tests.persistence.builders import Sale
from tests.persistence.conftest import (
    migrated_database_url,
    owner_connection,
    sale_of_tenant_a,
    service_pool,
)

__all__ = ["migrated_database_url", "owner_connection", "sale_of_tenant_a", "service_pool"]

TTL_S = EVENT_DETAILS_CACHE_TTL_MS / 1_000
CROWD = 50


class Reads:
    """Counts the catalog's reads of the event directory, which begin every details read; a read
    can be held at its start until `release` is set."""

    def __init__(self, real: Callable[..., Awaitable[EventLocation | None]]) -> None:
        self.count = 0
        self.release = asyncio.Event()
        self.release.set()
        self._real = real

    async def __call__(self, pool: asyncpg.Pool, *, event_id: uuid.UUID) -> EventLocation | None:
        self.count += 1
        await self.release.wait()
        return await self._real(pool, event_id=event_id)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    counted = Reads(event_catalog.find_event_location)
    monkeypatch.setattr(event_catalog, "find_event_location", counted)
    return counted


class Clock:
    def __init__(self) -> None:
        self.now_s = 1_000.0

    def __call__(self) -> float:
        return self.now_s


async def test_fresh_copy_is_served_without_a_read_and_an_old_one_is_read_again(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale, reads: Reads
) -> None:
    clock = Clock()
    catalog = EventCatalog(service_pool, monotonic_s=clock)

    first = await catalog.details(sale_of_tenant_a.event_id)
    clock.now_s += TTL_S - 0.001
    fresh = await catalog.details(sale_of_tenant_a.event_id)
    reads_while_fresh = reads.count
    clock.now_s += 0.002
    again = await catalog.details(sale_of_tenant_a.event_id)

    assert first is not None and first.location.event_id == sale_of_tenant_a.event_id
    assert fresh == first == again
    assert reads_while_fresh == 1
    assert reads.count == 2


async def test_crowd_that_finds_the_copy_old_waits_for_one_read(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale, reads: Reads
) -> None:
    catalog = EventCatalog(service_pool)

    answers = await asyncio.gather(
        *(catalog.details(sale_of_tenant_a.event_id) for _ in range(CROWD))
    )

    assert reads.count == 1
    assert answers[0] is not None and all(answer == answers[0] for answer in answers)


async def test_unknown_id_is_none_and_read_once_per_period(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale, reads: Reads
) -> None:
    catalog = EventCatalog(service_pool)
    made_up = uuid.uuid4()

    answers = [await catalog.details(made_up) for _ in range(3)]

    assert answers == [None, None, None]
    assert reads.count == 1


async def test_others_get_their_answer_when_the_first_caller_gives_up(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale, reads: Reads
) -> None:
    catalog = EventCatalog(service_pool)
    reads.release.clear()
    first = asyncio.create_task(catalog.details(sale_of_tenant_a.event_id))
    second = asyncio.create_task(catalog.details(sale_of_tenant_a.event_id))
    await asyncio.sleep(0.01)

    first.cancel()
    reads.release.set()
    details = await second

    assert first.cancelled()
    assert details is not None and details.location.event_id == sale_of_tenant_a.event_id
    assert reads.count == 1


async def test_read_under_way_is_not_kept_when_this_process_changed_the_event(
    service_pool: asyncpg.Pool, sale_of_tenant_a: Sale, reads: Reads
) -> None:
    catalog = EventCatalog(service_pool)
    reads.release.clear()
    before_the_change = asyncio.create_task(catalog.details(sale_of_tenant_a.event_id))
    await asyncio.sleep(0.01)

    catalog.forget(sale_of_tenant_a.event_id)
    reads.release.set()
    await before_the_change
    await catalog.details(sale_of_tenant_a.event_id)

    assert reads.count == 2
