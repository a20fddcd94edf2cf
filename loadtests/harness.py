"""`onsale loadtest`: create an event on a running development system, run
`loadtests/locustfile.py` headless against it, let the sale settle, and check it.

Locust runs in its own process (gevent patches the world it runs in). Its log and CSV figures go
to a run directory; this process shows the sale's progress from the venue's stats meanwhile, and
with `until_sold_out` stops locust as soon as the event sells out. The run passes only when every
check of `loadtests/sale_checks.py` passes.
"""

import asyncio
import csv
import datetime
import os
import pathlib
import signal
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import msgspec

from gateway.auth import Role
from gateway.parts import Parts
from loadtests import running_system
from loadtests.options import LoadtestOptions
from loadtests.sale_checks import SaleChecks, check_sale, parse_acknowledged
from loadtests.scenario import event_body

LOCUSTFILE = pathlib.Path(__file__).with_name("locustfile.py")
RECORD_FILE_NAME = "acknowledged.jsonl"
LOCUST_LOG_NAME = "locust.log"
CSV_PREFIX = "locust"
TOKEN_TTL_S = 3_600
PROGRESS_EVERY_S = 5.0
STATS_POLL_S = 1.0
LOCUST_STOP_TIMEOUT_S = 10
LOCUST_EXIT_GRACE_S = 60.0
SETTLE_POLL_S = 1.0
# Orders stop moving once the last payments are settled; the payment reconciler looks every 2 s.
SETTLE_QUIET_S = 6.0
HTTP_TIMEOUT_S = 30.0


class RequestFigures(msgspec.Struct, frozen=True, kw_only=True):
    """One row of locust's table: a request name, or the aggregated total."""

    name: str
    requests: int
    failures: int
    median_ms: float
    p99_ms: float
    per_s: float


class LoadtestResult(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    run_directory: str
    locust_exit_code: int
    load_s: float
    sold_out_at_s: float | None
    settled: bool
    requests: list[RequestFigures]
    checks: SaleChecks

    @property
    def passed(self) -> bool:
        return self.settled and self.checks.passed


def sign(parts: Parts, user_id: str, role: Role) -> str:
    """A development token of the development tenant, where the load's fans and venue live."""
    return running_system.sign(parts, user_id, role, TOKEN_TTL_S)


def user_of(caller: str) -> str:
    """The user id of a caller as orders record it, `<tenant id>/<user id>`."""
    return caller.partition("/")[2]


async def create_event(client: httpx.AsyncClient, options: LoadtestOptions) -> str:
    now = datetime.datetime.now(datetime.UTC)
    body = event_body(options.scenario(), now=now, name=f"Load run {now:%Y-%m-%d %H:%M:%S}")
    response = await client.post(
        "/v1/venue/events", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    if response.status_code != 201:
        raise RuntimeError(f"creating the event answered {response.status_code}: {response.text}")
    event_id: str = response.json()["event_id"]
    return event_id


def locust_command(
    parts: Parts, options: LoadtestOptions, event_id: str, run_directory: pathlib.Path
) -> list[str]:
    return [
        sys.executable, "-m", "locust",
        "-f", str(LOCUSTFILE),
        "--headless", "--only-summary",
        "--users", str(options.users),
        "--spawn-rate", str(options.spawn_rate),
        "--run-time", f"{options.run_time_s}s",
        "--stop-timeout", str(LOCUST_STOP_TIMEOUT_S),
        "--host", parts.gateway_url,
        "--csv", str(run_directory / CSV_PREFIX),
        "--event-id", event_id,
        "--fans", str(options.fans),
        "--decline-share", str(options.decline_share),
        "--abandon-share", str(options.abandon_share),
        "--record-file", str(run_directory / RECORD_FILE_NAME),
    ]  # fmt: skip


def read_request_figures(run_directory: pathlib.Path) -> list[RequestFigures]:
    path = run_directory / f"{CSV_PREFIX}_stats.csv"
    if not path.exists():
        return []
    with path.open() as stats:
        return [
            RequestFigures(
                name=row["Name"],
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                median_ms=float(row["Median Response Time"] or 0),
                p99_ms=float(row["99%"] if row["99%"] not in ("", "N/A") else 0),
                per_s=float(row["Requests/s"] or 0),
            )
            for row in csv.DictReader(stats)
        ]


async def watch_load(
    client: httpx.AsyncClient,
    event_id: str,
    locust: asyncio.subprocess.Process,
    *,
    options: LoadtestOptions,
    on_stats: Callable[[dict[str, Any], float], None],
) -> float | None:
    """Follow the stats until locust exits; stop it once sold out when asked. When the event
    sold out (every ticket sold, none merely held), in seconds from the start, if it did."""
    started = time.monotonic()
    sold_out_at_s: float | None = None
    last_shown = -PROGRESS_EVERY_S
    while locust.returncode is None:
        try:
            await asyncio.wait_for(locust.wait(), STATS_POLL_S)
            break
        except TimeoutError:
            pass
        response = await client.get(f"/v1/venue/events/{event_id}/stats")
        if response.status_code != 200:
            continue
        stats, elapsed_s = response.json(), time.monotonic() - started
        if stats["sold"] >= stats["capacity"] and sold_out_at_s is None:
            sold_out_at_s = elapsed_s
            if options.until_sold_out:
                locust.send_signal(signal.SIGTERM)
        if elapsed_s - last_shown >= PROGRESS_EVERY_S:
            on_stats(stats, elapsed_s)
            last_shown = elapsed_s
    return sold_out_at_s


SELECT_ORDER_COUNTS = "SELECT status, count(*) FROM orders WHERE event_id = $1 GROUP BY status"


async def settle(database_url: str, event_id: str, timeout_s: float) -> bool:
    """Wait until no order sits between paid and fulfilled and the orders have not moved for
    SETTLE_QUIET_S: payments cut off mid-flight are found by the reconciler. False on timeout."""
    connection = await asyncpg.connect(database_url)
    try:
        started = quiet_since = time.monotonic()
        previous: dict[str, int] | None = None
        while time.monotonic() - started < timeout_s:
            rows = await connection.fetch(SELECT_ORDER_COUNTS, uuid.UUID(event_id))
            counts = {row["status"]: row["count"] for row in rows}
            if counts != previous:
                quiet_since, previous = time.monotonic(), counts
            elif counts.get("paid", 0) == 0 and time.monotonic() - quiet_since >= SETTLE_QUIET_S:
                return True
            await asyncio.sleep(SETTLE_POLL_S)
        return False
    finally:
        await connection.close()


async def run_loadtest(
    parts: Parts,
    options: LoadtestOptions,
    run_directory: pathlib.Path,
    *,
    on_phase: Callable[[str], None],
    on_stats: Callable[[dict[str, Any], float], None],
) -> LoadtestResult:
    if not parts.jwt_secret:
        raise ValueError(
            "the system has no development secret: load runs sign their fans' tokens, so they "
            "run against a development system"
        )
    await asyncio.to_thread(run_directory.mkdir, parents=True, exist_ok=True)
    venue_token = sign(parts, "load-venue", Role.VENUE_MANAGER)
    async with httpx.AsyncClient(
        base_url=parts.gateway_url,
        headers={"Authorization": f"Bearer {venue_token}"},
        timeout=HTTP_TIMEOUT_S,
    ) as client:
        on_phase("creating the event")
        event_id = await create_event(client, options)
        on_phase(f"running locust: {options.users} users for up to {options.run_time_s} s")
        started = time.monotonic()
        with (run_directory / LOCUST_LOG_NAME).open("wb") as log:
            locust = await asyncio.create_subprocess_exec(
                *locust_command(parts, options, event_id, run_directory),
                env={**os.environ, "ONSALE_JWT_SECRET": parts.jwt_secret or ""},
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
            try:
                sold_out_at_s = await watch_load(
                    client, event_id, locust, options=options, on_stats=on_stats
                )
                await asyncio.wait_for(locust.wait(), LOCUST_EXIT_GRACE_S)
            finally:
                if locust.returncode is None:
                    locust.kill()
                    await locust.wait()
        load_s = time.monotonic() - started
        on_phase("letting the last payments settle")
        settled = await settle(parts.database_url, event_id, options.settle_timeout_s)
    on_phase("checking Postgres, Stripe and the API")
    record = run_directory / RECORD_FILE_NAME
    lines = record.read_text().splitlines() if record.exists() else []
    checks = await check_sale(
        parts,
        event_id=event_id,
        venue_token=venue_token,
        owner_token=lambda caller: sign(parts, user_of(caller), Role.FAN),
        acknowledged=parse_acknowledged(lines),
    )
    return LoadtestResult(
        event_id=event_id,
        run_directory=str(run_directory),
        locust_exit_code=locust.returncode or 0,
        load_s=load_s,
        sold_out_at_s=sold_out_at_s,
        settled=settled,
        requests=read_request_figures(run_directory),
        checks=checks,
    )
