"""A fan in the queue at the sell-out, against scripted answers: told `sold_out` by a poll, the fan
leaves at once and the record keeps when; a fan never told is stopped once the driver's grace
after the venue saw the sell-out runs out, and counted as never told."""

import collections
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest

from loadtests.scenario import Ending, FanPlan, Want
from onsale.demo import queue_pace
from onsale.demo.fan import FanJourney
from onsale.demo.mailbox import Mailbox
from onsale.demo.record import DriverRecord, Outcome, Step
from onsale.demo.sale_facts import SaleFacts
from onsale.demo.sale_watch import SaleWatch
from onsale.demo.timed_client import Answer, Lane, TimedClient

WAITING = {"queue_id": "q", "state": "waiting", "position": 9, "eta_s": 0, "access_token": None}
SOLD_OUT = {**WAITING, "state": "sold_out", "position": None, "wait_list": False}


class ScriptedClient:
    """Answers each step from its own list, in order, the last one again once it runs out."""

    def __init__(self, answers: dict[Step, list[dict[str, Any]]]) -> None:
        self._answers = answers
        self.calls: collections.Counter[Step] = collections.Counter()

    async def call(self, step: Step, method: str, path: str, **_: object) -> Answer:
        script = self._answers[step]
        body = script[min(self.calls[step], len(script) - 1)]
        self.calls[step] += 1
        return Answer(status=200, body=body)

    @contextlib.asynccontextmanager
    async def connection(self, lane: Lane, step: Step) -> AsyncIterator[None]:
        yield


def journey(client: ScriptedClient, record: DriverRecord, watch: SaleWatch) -> FanJourney:
    plan = FanPlan(
        number=0,
        user_id="fan-0",
        email="fan-0@example.com",
        arrives_after_s=0.0,
        want=Want.GENERAL,
        quantity=1,
        ending=Ending.PAY,
        section=None,
    )
    sale = SaleFacts(
        event_id="e", general_id="g", reserved_id=None, opens_at_monotonic=time.monotonic()
    )
    return FanJourney(
        plan,
        token="t",
        sale=sale,
        client=cast(TimedClient, client),
        watch=watch,
        record=record,
        started_at=time.monotonic(),
        seed=1,
    )


def watch_of(client: ScriptedClient) -> SaleWatch:
    return SaleWatch(
        cast(TimedClient, client),
        event_id="e",
        venue_token="v",
        mailbox=Mailbox(None, since_ns=0),
        started_at=time.monotonic(),
    )


@pytest.fixture(autouse=True)
def no_pause_between_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queue_pace, "POLL_INTERVAL_MIN_S", 0.0)


async def test_a_waiting_fan_told_sold_out_leaves_and_the_moment_is_kept() -> None:
    client = ScriptedClient({Step.JOIN: [WAITING], Step.POLL: [WAITING, SOLD_OUT]})
    record = DriverRecord()
    before = time.time()

    await journey(client, record, watch_of(client)).run()

    assert record.outcomes == {Outcome.TOLD_SOLD_OUT: 1}
    assert client.calls[Step.POLL] == 2 and client.calls[Step.HOLD] == 0
    assert len(record.told_sold_out_at_s) == 1 and record.told_sold_out_at_s[0] >= before
    assert record.stopped_while_waiting == 0


class GraceEndsAtTheJoin(ScriptedClient):
    """The driver's grace after the sell-out runs out while the fan joins."""

    watch: SaleWatch

    async def call(self, step: Step, method: str, path: str, **rest: object) -> Answer:
        if step is Step.JOIN:
            self.watch.waiting_ended.set()
        return await super().call(step, method, path, **rest)


async def test_a_fan_never_told_is_stopped_by_the_grace_and_counted_as_never_told() -> None:
    client = GraceEndsAtTheJoin({Step.JOIN: [WAITING], Step.POLL: [WAITING]})
    client.watch = watch_of(client)
    record = DriverRecord()

    await journey(client, record, client.watch).run()

    assert record.outcomes == {Outcome.NEVER_ADMITTED: 1}
    assert record.told_sold_out_at_s == [] and record.stopped_while_waiting == 1
