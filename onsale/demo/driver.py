"""One simulated on-sale from start to end, against a running system: the venue creates the
event, every fan runs their journey at once, the venue's stats are watched, and once the sale
ends (sold out, every fan done, or out of time) the mint and email backlogs are waited for.

The driver only drives and records; checking what the system did is `system_facts.py` and
`invariants.py`, after it.
"""

import asyncio
import datetime
import pathlib
import time
import traceback
import uuid

import msgspec

from gateway.auth import DEVELOPMENT_TENANT_ID, Role
from gateway.parts import Parts
from loadtests.running_system import sign
from loadtests.scenario import (
    GENERAL_KEY,
    RESERVED_KEY,
    FanPlan,
    Scenario,
    event_body,
    plan_fans,
)
from onsale.demo.backlogs import DrainResult, drain_backlogs
from onsale.demo.cpu_use import CpuMeter, SaleCpu
from onsale.demo.fan import FanJourney
from onsale.demo.mailbox import Mailbox
from onsale.demo.presale import VIP_KEY, code_body, code_uses, is_member, with_presale
from onsale.demo.progress import Progress
from onsale.demo.record import DriverRecord, Outcome, Step
from onsale.demo.sale_facts import SaleFacts
from onsale.demo.sale_watch import SaleWatch, Sample
from onsale.demo.timed_client import TimedClient
from onsale.demo.wait_list import WAIT_LIST_SETTINGS

VENUE_USER_ID = "demo-venue"
# Tokens outlive the longest run the flags allow: the sale, the drain and a margin.
TOKEN_MARGIN_S = 600
TOKEN_TTL_S_MAX = 86_400
DRIVER_ERRORS_KEPT = 5


class EventCreationFailed(Exception):
    """The venue could not create the event; nothing was sold."""


class CreatedEvent(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    name: str
    ticket_type_ids: dict[str, str]
    opens_in_s: float


class SaleRun(msgspec.Struct, kw_only=True):
    """Everything the report needs from the driver's side of one run."""

    scenario: Scenario
    event: CreatedEvent
    record: DriverRecord
    samples: list[Sample]
    sale_s: float
    sold_out_seen_at_s: float | None
    drain: DrainResult
    driver_errors: list[str]
    started_at_wall: datetime.datetime
    cpu: SaleCpu
    presale_code_uses: tuple[int, int] | None


def fan_id_of(user_id: str) -> str:
    """How the system names a fan: the tenant and the user of the token, as `caller`."""
    return f"{DEVELOPMENT_TENANT_ID}/{user_id}"


def token_ttl_s(scenario: Scenario) -> int:
    wanted = scenario.sale_timeout_s + scenario.drain_timeout_s + TOKEN_MARGIN_S
    return min(TOKEN_TTL_S_MAX, int(wanted))


async def create_event(client: TimedClient, venue_token: str, scenario: Scenario) -> CreatedEvent:
    now = datetime.datetime.now(datetime.UTC)
    name = f"Demo Night {now:%Y-%m-%d %H:%M:%S}"
    body = with_presale(event_body(scenario, now=now, name=name), scenario)
    onsale = body["onsale"]
    assert isinstance(onsale, dict)
    onsale.update(WAIT_LIST_SETTINGS)
    answer = await client.call(
        Step.CREATE_EVENT,
        "POST",
        "/v1/venue/events",
        token=venue_token,
        body=body,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    if answer.status != 201:
        raise EventCreationFailed(f"POST /v1/venue/events answered {answer.status}: {answer.body}")
    event_id = answer.body["event_id"]
    code = await client.call(
        Step.CREATE_CODE,
        "POST",
        f"/v1/venue/events/{event_id}/codes",
        token=venue_token,
        body=code_body(scenario, now=now),
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    if code.status != 201:
        raise EventCreationFailed(f"POST .../codes answered {code.status}: {code.body}")
    opens_at = now + datetime.timedelta(seconds=scenario.opens_in_s)
    return CreatedEvent(
        event_id=event_id,
        name=name,
        ticket_type_ids={row["key"]: row["id"] for row in answer.body["ticket_types"]},
        opens_in_s=(opens_at - datetime.datetime.now(datetime.UTC)).total_seconds(),
    )


async def run_fans(journeys: list[FanJourney], timeout_s: float) -> tuple[int, list[str]]:
    """Run every journey; how many ran out of time, and the first errors of the driver."""
    tasks = [asyncio.create_task(journey.run()) for journey in journeys]
    done, pending = await asyncio.wait(tasks, timeout=timeout_s)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    errors = [
        "".join(traceback.format_exception(task.exception()))
        for task in done
        if task.exception() is not None
    ]
    return len(pending), errors


def sale_facts_of(event: CreatedEvent, started_at: float) -> SaleFacts:
    """What every fan knows of the sale: its ticket types, and when it opens on our clock."""
    return SaleFacts(
        event_id=event.event_id,
        general_id=event.ticket_type_ids.get(GENERAL_KEY),
        reserved_id=event.ticket_type_ids.get(RESERVED_KEY),
        vip_id=event.ticket_type_ids.get(VIP_KEY),
        opens_at_monotonic=started_at + event.opens_in_s,
    )


def fan_journeys(
    scenario: Scenario,
    plans: list[FanPlan],
    fan_tokens: list[str],
    *,
    sale: SaleFacts,
    client: TimedClient,
    watch: SaleWatch,
    record: DriverRecord,
    started_at: float,
) -> list[FanJourney]:
    """One journey for each planned fan, signed in with its token; the scenario's fan-club
    members queue and hold with the presale code."""
    return [
        FanJourney(
            plan,
            token=token,
            sale=sale,
            client=client,
            watch=watch,
            record=record,
            started_at=started_at,
            seed=scenario.seed,
            member=is_member(scenario, plan),
        )
        for plan, token in zip(plans, fan_tokens, strict=True)
    ]


async def cpu_until_sold_out(meter: CpuMeter, watch: SaleWatch, record: DriverRecord) -> SaleCpu:
    """Every part's CPU from the opening of the meter to the sell-out."""
    await watch.sold_out.wait()
    return meter.stop(now=time.monotonic(), requests=record.count_answers())


def cpu_of_the_sale(
    metering: asyncio.Task[SaleCpu], meter: CpuMeter, record: DriverRecord
) -> SaleCpu:
    """The CPU to the sell-out once it came, or else to now, the last fan's end."""
    if metering.done():
        return metering.result()
    metering.cancel()
    return meter.stop(now=time.monotonic(), requests=record.count_answers())


def note_unfinished_fans(record: DriverRecord, out_of_time: int, driver_errors: list[str]) -> None:
    """Fans still on their way when the sale ran out of time, and journeys the driver broke,
    count among the outcomes too."""
    for _ in range(out_of_time):
        record.note_outcome(Outcome.OUT_OF_TIME)
    record.outcomes[Outcome.FAILED] += len(driver_errors)


async def drain_after_sale(
    parts: Parts, scenario: Scenario, event_id: str, progress: Progress
) -> DrainResult:
    """Wait for the event's mint and email backlogs, as long as the scenario allows."""
    progress.set_phase("waiting for the mint and email backlogs")
    return await drain_backlogs(
        parts.database_url,
        event_id,
        timeout_s=scenario.drain_timeout_s,
        on_backlog=progress.on_backlog,
    )


async def presale_code_uses_of(
    client: TimedClient, event_id: str, venue_token: str
) -> tuple[int, int] | None:
    """The presale code's paid and live-hold uses in the venue's code listing; None when the
    listing cannot be read or lacks the code."""
    codes = await client.call(
        Step.CODES, "GET", f"/v1/venue/events/{event_id}/codes", token=venue_token
    )
    return code_uses(codes.body) if codes.status == 200 else None


async def run_sale(
    parts: Parts,
    scenario: Scenario,
    *,
    record: DriverRecord,
    progress: Progress,
    mail_directory: pathlib.Path | None,
    system_pid: int | None = None,
) -> SaleRun:
    """Create the event, run every fan against it, then wait for the backlogs to drain. The CPU
    of the driver and of every process under `system_pid` is read from the start of the sale
    to the sell-out (or to the last fan, when it does not sell out)."""
    ttl_s = token_ttl_s(scenario)
    venue_token = sign(parts, VENUE_USER_ID, Role.VENUE_MANAGER, ttl_s)
    plans = plan_fans(scenario)
    fan_tokens = [sign(parts, plan.user_id, Role.FAN, ttl_s, plan.email) for plan in plans]
    started_at_wall = datetime.datetime.now(datetime.UTC)
    mailbox = Mailbox(mail_directory, since_ns=time.time_ns())
    async with TimedClient(parts.gateway_url, record) as client:
        progress.set_phase("creating the event")
        event = await create_event(client, venue_token, scenario)
        started_at = time.monotonic()
        watch = SaleWatch(
            client,
            event_id=event.event_id,
            venue_token=venue_token,
            mailbox=mailbox,
            started_at=started_at,
        )
        journeys = fan_journeys(
            scenario,
            plans,
            fan_tokens,
            sale=sale_facts_of(event, started_at),
            client=client,
            watch=watch,
            record=record,
            started_at=started_at,
        )
        progress.set_phase("selling", started_at=started_at)
        meter = CpuMeter(system_pid)
        meter.start(now=time.monotonic(), requests=record.count_answers())
        metering = asyncio.create_task(cpu_until_sold_out(meter, watch, record))
        watching = asyncio.create_task(watch.run(progress.on_sample))
        try:
            out_of_time, driver_errors = await run_fans(journeys, scenario.sale_timeout_s)
            sale_s = time.monotonic() - started_at
            cpu = cpu_of_the_sale(metering, meter, record)
            note_unfinished_fans(record, out_of_time, driver_errors)
            drain = await drain_after_sale(parts, scenario, event.event_id, progress)
            await watch.read_once()
            presale_code_uses = await presale_code_uses_of(client, event.event_id, venue_token)
        finally:
            watching.cancel()
            metering.cancel()
    return SaleRun(
        scenario=scenario,
        event=event,
        record=record,
        samples=watch.samples,
        sale_s=sale_s,
        sold_out_seen_at_s=watch.sold_out_at_s,
        drain=drain,
        driver_errors=driver_errors[:DRIVER_ERRORS_KEPT],
        started_at_wall=started_at_wall,
        cpu=cpu,
        presale_code_uses=presale_code_uses,
    )
