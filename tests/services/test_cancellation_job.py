"""The refund job of a cancelled event runs for a bounded time a delivery and hands what is left
to a new message of the same job, so a large event's job never uses up its message's attempts."""

import uuid

import asyncpg
import pytest

import services.cancellation_refunds
from engine import cancellation_limits
from persistence.orders import OutboxEntry
from services.cancellation_refunds import CancellationJob, open_cancellation_refunds

JOB = CancellationJob(tenant_id=uuid.uuid4(), event_id=uuid.uuid4(), reason="storm")
REST = OutboxEntry(topic="sale.cancelled", aggregate_id=str(JOB.event_id), payload="{}")
FULL = cancellation_limits.CANCELLATION_REFUNDS_PER_PAGE


class Pages:
    """Stands in for the pages Postgres would give: so many orders a page, then what is left."""

    def __init__(self, sizes: list[int]) -> None:
        self.sizes = sizes
        self.opened: list[int] = []
        self.left: list[OutboxEntry] = []

    async def open_page(self, pool: asyncpg.Pool, job: CancellationJob) -> int:
        assert job == JOB
        size = self.sizes.pop(0)
        self.opened.append(size)
        return size

    async def leave_the_rest(
        self, pool: asyncpg.Pool, job: CancellationJob, rest: OutboxEntry
    ) -> None:
        assert job == JOB
        self.left.append(rest)


@pytest.fixture
def pages(monkeypatch: pytest.MonkeyPatch) -> Pages:
    pages = Pages([])
    monkeypatch.setattr(services.cancellation_refunds, "open_page", pages.open_page)
    monkeypatch.setattr(services.cancellation_refunds, "leave_the_rest", pages.leave_the_rest)
    return pages


async def test_a_job_that_fits_in_its_time_opens_every_page_and_leaves_nothing(
    pages: Pages,
) -> None:
    pages.sizes = [FULL, FULL, 7]
    await open_cancellation_refunds(None, JOB, REST)
    assert pages.opened == [FULL, FULL, 7]
    assert pages.left == []


async def test_a_job_out_of_time_leaves_the_rest_to_one_new_message(
    pages: Pages, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cancellation_limits, "CANCELLATION_JOB_DELIVERY_BUDGET_MS", 0)
    pages.sizes = [FULL, FULL, 7]
    await open_cancellation_refunds(None, JOB, REST)
    assert pages.opened == [FULL]
    assert pages.left == [REST]


async def test_a_last_page_short_of_full_ends_the_job_even_out_of_time(
    pages: Pages, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cancellation_limits, "CANCELLATION_JOB_DELIVERY_BUDGET_MS", 0)
    pages.sizes = [3]
    await open_cancellation_refunds(None, JOB, REST)
    assert pages.opened == [3]
    assert pages.left == []
