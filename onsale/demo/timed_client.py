"""The driver's HTTP client: one aiohttp session with a bounded number of connections, every call
timed and counted in the record by step, and retried where a retry is safe.

Connections are shared out in lanes, one for each kind of traffic (arrivals, waiting fans,
purchases, payments, the venue), so a fan checking out never queues behind thousands of fans
polling their place or paying; on the web each fan has a connection of their own. Latency is
measured from when a connection of the lane is free; the wait for it is recorded apart, as the
driver's own queueing.

Every request the demo sends may be repeated: joining again returns the same place, a hold or a
checkout is repeated with the same Idempotency-Key, paying an order twice pays it once. So a
transport failure, a 5xx, a 429 or a 503 is retried a bounded number of times, waiting as long
as `Retry-After` asks.
"""

import asyncio
import contextlib
import enum
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import msgspec

from onsale.demo.record import TRANSPORT_FAILURE, DriverRecord, Step


class Lane(enum.StrEnum):
    JOIN = "join"
    WAITING = "waiting"
    PURCHASE = "purchase"
    PAY = "pay"
    VENUE = "venue"


# The gateway's Redis pool holds 100 connections (redis-py's default) and answers 503 beyond
# them instead of waiting, so the lanes that use Redis throughout a request (joins and polls)
# stay below it together. Arrivals have a lane apart from the fans already waiting, whose polls
# must not queue behind the burst of joins: the waiting room gives up a place it has not heard
# from in two minutes. Joins are batched into the waiting room's actor, so their lane is wide.
# Checkouts and payments each take one of the gateway's 20 Postgres connections (payments also
# wait on Stripe): more of them in flight than that only queue inside the gateway, where the wait
# counts as latency and, past the pool's wait, as 503s, so their lanes stay near the pool. A
# purchase keeps its connection from the hold to the checkout (`connection`), as a browser would.
LANE_CONNECTIONS: dict[Lane, int] = {
    Lane.JOIN: 64,
    Lane.WAITING: 32,
    Lane.PURCHASE: 16,
    Lane.PAY: 16,
    Lane.VENUE: 4,
}
LANE_OF_STEP: dict[Step, Lane] = {
    Step.CREATE_EVENT: Lane.VENUE,
    Step.CREATE_CODE: Lane.VENUE,
    Step.CODES: Lane.VENUE,
    Step.STATS: Lane.VENUE,
    Step.JOIN: Lane.JOIN,
    Step.POLL: Lane.WAITING,
    Step.EVENT_PAGE: Lane.WAITING,
    Step.SEATMAP: Lane.WAITING,
    Step.HOLD: Lane.PURCHASE,
    Step.CHECKOUT: Lane.PURCHASE,
    Step.PAY: Lane.PAY,
    Step.RELEASE: Lane.PAY,
    Step.WAIT_LIST_JOIN: Lane.WAITING,
    Step.WAIT_LIST_POLL: Lane.WAITING,
}
assert set(LANE_OF_STEP) == set(Step), "every step goes in a lane"
CONNECTIONS_MAX = sum(LANE_CONNECTIONS.values())
REQUEST_TIMEOUT_S = 30.0
ATTEMPTS_MAX = 5
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 8.0
RETRY_AFTER_MAX_S = 30.0
EXCERPT_CHARACTERS = 200
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
JSON = msgspec.json.Decoder()


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    """The last answer to a call: status 0 when no answer came at all."""

    status: int
    body: Any

    @property
    def code(self) -> str | None:
        """The API.md error code, when the body is an error."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            code = self.body["error"].get("code")
            return code if isinstance(code, str) else None
        return None


def retry_delay_s(attempt: int, retry_after: str | None) -> float:
    """What `Retry-After` asks for (bounded), else an exponential backoff from BACKOFF_BASE_S."""
    if retry_after is not None:
        try:
            return min(RETRY_AFTER_MAX_S, max(0.0, float(retry_after)))
        except ValueError:
            pass
    return min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2**attempt)


def decoded(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return JSON.decode(raw)
    except msgspec.DecodeError:
        return raw[:EXCERPT_CHARACTERS].decode(errors="replace")


class TimedClient:
    def __init__(self, base_url: str, record: DriverRecord) -> None:
        self._base_url = base_url
        self._record = record
        self._lanes = {lane: asyncio.Semaphore(size) for lane, size in LANE_CONNECTIONS.items()}
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> "TimedClient":
        self._session = aiohttp.ClientSession(
            base_url=self._base_url,
            connector=aiohttp.TCPConnector(limit=CONNECTIONS_MAX, limit_per_host=CONNECTIONS_MAX),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        )
        return self

    async def __aexit__(self, *exception: object) -> None:
        assert self._session is not None
        await self._session.close()

    @contextlib.asynccontextmanager
    async def connection(self, lane: Lane, step: Step) -> AsyncIterator[None]:
        """Keep one connection of `lane` for the calls made inside with `held=True`; the wait
        for it is the driver's queueing before `step`."""
        queued = time.perf_counter()
        async with self._lanes[lane]:
            self._record.note_wait(step, (time.perf_counter() - queued) * 1_000)
            yield

    async def call(
        self,
        step: Step,
        method: str,
        path: str,
        *,
        token: str,
        body: object = None,
        headers: Mapping[str, str] | None = None,
        held: bool = False,
    ) -> Answer:
        """Send until an answer that is not worth retrying, or ATTEMPTS_MAX attempts; `held`
        when the caller keeps a connection of the step's lane (`connection`)."""
        all_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        payload = None if body is None else msgspec.json.encode(body)
        if payload is not None:
            all_headers["Content-Type"] = "application/json"
        answer = Answer(status=TRANSPORT_FAILURE, body=None)
        for attempt in range(ATTEMPTS_MAX):
            answer, retry_after = await self._send_once(
                step, method, path, all_headers, payload, held
            )
            if answer.status != TRANSPORT_FAILURE and answer.status not in RETRIED_STATUSES:
                return answer
            if attempt + 1 < ATTEMPTS_MAX:
                await asyncio.sleep(retry_delay_s(attempt, retry_after))
        return answer

    async def _send_once(
        self,
        step: Step,
        method: str,
        path: str,
        headers: dict[str, str],
        payload: bytes | None,
        held: bool,
    ) -> tuple[Answer, str | None]:
        assert self._session is not None, "use the client inside `async with`"
        queued = time.perf_counter()
        lane = contextlib.nullcontext() if held else self._lanes[LANE_OF_STEP[step]]
        async with lane:
            started = time.perf_counter()
            if not held:
                self._record.note_wait(step, (started - queued) * 1_000)
            try:
                async with self._session.request(
                    method, path, data=payload, headers=headers
                ) as response:
                    raw = await response.read()
                    status, retry_after = response.status, response.headers.get("Retry-After")
            except (aiohttp.ClientError, TimeoutError) as error:
                latency_ms = (time.perf_counter() - started) * 1_000
                self._record.note_answer(step, TRANSPORT_FAILURE, latency_ms, None, repr(error))
                return Answer(status=TRANSPORT_FAILURE, body=None), None
            latency_ms = (time.perf_counter() - started) * 1_000
        answer = Answer(status=status, body=decoded(raw))
        excerpt = raw[:EXCERPT_CHARACTERS].decode(errors="replace")
        self._record.note_answer(step, status, latency_ms, answer.code, excerpt)
        return answer, retry_after
