"""The on-sale over HTTP for locust: fans buying tickets and venue staff watching the sale.

    ONSALE_JWT_SECRET=... locust -f loadtests/locustfile.py --headless -u 500 -r 100 -t 60s \\
        --host http://127.0.0.1:8000 --event-id <event> --record-file acknowledged.jsonl

`onsale loadtest` creates the event, runs this file headless and checks the invariants after it;
run by hand, the event must exist and be on sale. Tokens are signed with the development secret,
so the target is a development system (`onsale up` without ONSALE_ENV=production).

Each FanUser task is one whole fan: join the waiting room, poll at the pace of the ETA, hold once
admitted (general admission or the best available seats), check out, then pay with a test card,
pay with a declining one, or walk away from the hold. A FanUser then becomes the next fan, until
`--fans` fans have come. Expected refusals (SOLD_OUT, a declined card, a hold that ended) count as
successes in locust's table; anything else, and every 5xx, as a failure.

Every id the system acknowledges (holds, orders, paid orders) is appended to `--record-file`, so
the check afterwards can find each one in Postgres. One locust process: the fan numbers and the
record file belong to it.
"""

import itertools
import json
import os
import random
import time
import uuid
from typing import Any

import gevent
from geventhttpclient.client import HTTPClientPool
from locust import FastHttpUser, between, events, task
from locust.exception import StopUser

from gateway.auth import DEVELOPMENT_TENANT_ID, Role, sign_development_token

SECRET_VARIABLE = "ONSALE_JWT_SECRET"
PAYING_CARD = "4242424242424242"
DECLINING_CARD = "4000000000000002"
TOKEN_TTL_S = 3_600
TICKETS_PER_FAN_MAX = 4
POLL_INTERVAL_MIN_S = 0.5
POLL_INTERVAL_MAX_S = 15.0
# A waiting fan polls again after this share of the ETA, so polls thin out far from the door.
POLL_ETA_SHARE = 0.5
POLLS_MAX = 2_000
HOLD_ATTEMPTS_MAX = 20
# After a SOLD_OUT a fan looks at the event page again after a wait that doubles each time it
# still shows nothing, from RECHECK_FIRST_S up to RECHECK_MAX_S, RECHECKS_MAX times at most.
RECHECK_FIRST_S = 2.0
RECHECK_MAX_S = 15.0
RECHECK_JITTER = 0.5
RECHECKS_MAX = 10
GENERAL = "general"
SEATED = "seated"
SALE_NOT_OPEN_RETRY_S = 1.0
RETRY_AFTER_DEFAULT_S = 1.0
TRANSIENT_RETRIES_MAX = 3
CONNECTIONS = 256
# FastHttpUser's status when no answer came: refused, reset, or past its network timeout.
NO_ANSWER = 0
QUEUE_PATH = "/v1/events/[event]/queue"


# locust's EventHook.add_listener has no annotations
@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]
def add_arguments(parser: Any) -> None:
    group = parser.add_argument_group("onsale")
    group.add_argument("--event-id", default="", help="the event on sale (required)")
    group.add_argument("--fans", type=int, default=20_000, help="fans who come, at most")
    group.add_argument("--decline-share", type=float, default=0.05, help="cards declined")
    group.add_argument("--abandon-share", type=float, default=0.05, help="holds walked away from")
    group.add_argument("--seed", type=int, default=7, help="seed of every fan's choices")
    group.add_argument("--record-file", default="", help="append acknowledged ids here (JSONL)")


class AcknowledgedLog:
    """The ids the system acknowledged, one JSON object a line, flushed as they come."""

    def __init__(self, path: str) -> None:
        self._file = open(path, "a", buffering=1) if path else None  # noqa: SIM115

    def note(self, kind: str, identifier: str, **extra: object) -> None:
        if self._file is not None:
            self._file.write(json.dumps({"kind": kind, "id": identifier, **extra}) + "\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class LoadRun:
    """What every user of this process shares: the secret, the fans handed out, the record."""

    def __init__(self, options: Any) -> None:
        secret = os.environ.get(SECRET_VARIABLE, "")
        if not options.event_id:
            raise SystemExit("loadtest: --event-id is required")
        if not secret:
            raise SystemExit(f"loadtest: set {SECRET_VARIABLE} to the system's development secret")
        self.options = options
        self.event_id = options.event_id
        self.secret = secret
        self.acknowledged = AcknowledgedLog(options.record_file)
        self._fan_numbers = itertools.count()

    def next_fan_number(self) -> int | None:
        number = next(self._fan_numbers)
        return number if number < self.options.fans else None

    def token(self, user_id: str, role: Role, email: str | None = None) -> str:
        return sign_development_token(
            self.secret,
            user_id=user_id,
            tenant_id=DEVELOPMENT_TENANT_ID,
            roles=[role],
            ttl_s=TOKEN_TTL_S,
            now_s=int(time.time()),
            email=email,
        )


RUN: LoadRun | None = None


# locust's EventHook.add_listener has no annotations
@events.test_start.add_listener  # type: ignore[untyped-decorator]
def start_run(environment: Any, **_: Any) -> None:
    global RUN
    RUN = LoadRun(environment.parsed_options)


# locust's EventHook.add_listener has no annotations
@events.quitting.add_listener  # type: ignore[untyped-decorator]
def close_run(environment: Any, **_: Any) -> None:
    if RUN is not None:
        RUN.acknowledged.close()


def the_run() -> LoadRun:
    assert RUN is not None, "the test has not started"
    return RUN


def error_code(response: Any) -> str | None:
    try:
        code: str = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code


def describe(response: Any) -> str:
    """What went wrong, for locust's failure table: the body's start, or the transport error."""
    if response.status_code == NO_ANSWER:
        return repr(response.error)
    return (response.text or "")[:200]


def retry_after_s(response: Any) -> float:
    try:
        return float((response.headers or {}).get("Retry-After") or RETRY_AFTER_DEFAULT_S)
    except ValueError:
        return RETRY_AFTER_DEFAULT_S


def poll_delay_s(place: dict[str, Any], jitter: float) -> float:
    eta_s = place.get("eta_s")
    delay = POLL_INTERVAL_MIN_S if eta_s is None else eta_s * POLL_ETA_SHARE
    return min(POLL_INTERVAL_MAX_S, max(POLL_INTERVAL_MIN_S, delay)) * (0.8 + 0.4 * jitter)


class Fan:
    """One fan's wishes, drawn from a generator seeded by the fan's number."""

    def __init__(self, number: int, run: LoadRun) -> None:
        self.random = random.Random(run.options.seed * 1_000_003 + number)
        self.user_id = f"load-fan-{number}"
        self.wants_general = False
        self.quantity = self.random.randint(1, TICKETS_PER_FAN_MAX)
        self.contiguous = True
        draw = self.random.random()
        self.declines = draw < run.options.decline_share
        self.abandons = not self.declines and draw < (
            run.options.decline_share + run.options.abandon_share
        )
        self.headers = {
            "Authorization": "Bearer "
            + run.token(self.user_id, Role.FAN, email=f"{self.user_id}@example.com")
        }

    def settle_for(self, available: dict[str, int]) -> None:
        """Any seats rather than side by side, of whichever kind is left, no more than are."""
        self.contiguous = False
        if available.get(GENERAL, 0) == 0 or available.get(SEATED, 0) == 0:
            self.wants_general = available.get(GENERAL, 0) > 0
        left = available[GENERAL if self.wants_general else SEATED]
        self.quantity = min(self.quantity, left)


class FanUser(FastHttpUser):
    """Fans, one after another: each task is one fan's whole journey. Every FanUser shares one
    pool of CONNECTIONS kept-alive connections, so thousands of them can wait in the queue at
    once without a socket each."""

    weight = 50
    client_pool = HTTPClientPool(concurrency=CONNECTIONS)
    wait_time = between(0.0, 0.5)

    def on_start(self) -> None:
        self.run_ = the_run()
        self.event_path = f"/v1/events/{self.run_.event_id}"
        self.type_ids: dict[str, str] = {}
        self.general_share = 0.0

    @task
    def buy_tickets(self) -> None:
        number = self.run_.next_fan_number()
        if number is None:
            raise StopUser()
        fan = Fan(number, self.run_)
        if not self.type_ids and not self.read_event_page(fan):
            return
        fan.wants_general = fan.random.random() < self.general_share
        access_token = self.wait_for_admission(fan)
        if access_token is None:
            return
        hold = self.hold(fan, access_token)
        if hold is None or fan.abandons:
            return
        order_id = self.check_out(fan, hold["hold_id"])
        if order_id is not None:
            self.pay(fan, order_id)

    def read_event_page(self, fan: Fan) -> bool:
        """The event's ticket types, and the share of its tickets that are general admission
        (fans want each kind in proportion, so both run out together)."""
        status, page = self.call("GET", self.event_path, "/v1/events/[event]", fan, {200})
        if status != 200:
            return False
        ticket_types = page["ticket_types"]
        self.type_ids = {row["kind"]: row["id"] for row in ticket_types}
        capacity = sum(row["available"] for row in ticket_types) or 1
        general = sum(row["available"] for row in ticket_types if row["kind"] == GENERAL)
        self.general_share = general / capacity
        return True

    def call(
        self, method: str, path: str, name: str, fan: Fan, expected: set[int], **kwargs: Any
    ) -> tuple[int, Any]:
        """One request: the status and JSON body. Statuses in `expected` count as successes, so
        are API refusals a fan is told of. A 429 is waited out as Retry-After says; no answer or
        a 503 is tried again a few times, as a fan presses the button again, with the same
        headers, so the same Idempotency-Key."""
        headers = {**fan.headers, **kwargs.pop("headers", {})}
        retries_left = TRANSIENT_RETRIES_MAX
        while True:
            with self.client.request(
                method, path, name=name, headers=headers, catch_response=True, **kwargs
            ) as response:
                status = response.status_code
                if status == 429:
                    response.success()
                    delay_s = retry_after_s(response)
                elif status in expected:
                    response.success()
                    return status, response.json()
                else:
                    if status >= 500:
                        self.run_.acknowledged.note("server_error", str(status))
                    response.failure(f"{status} {error_code(response) or describe(response)}")
                    if status not in (NO_ANSWER, 503) or retries_left == 0:
                        return status, None
                    retries_left -= 1
                    delay_s = retry_after_s(response)
            gevent.sleep(delay_s)

    def wait_for_admission(self, fan: Fan) -> str | None:
        status, place = self.call("POST", f"{self.event_path}/queue", QUEUE_PATH, fan, {200})
        for _ in range(POLLS_MAX):
            if status != 200 or place["state"] == "expired":
                return None
            if place["state"] == "admitted":
                access_token: str = place["access_token"]
                return access_token
            gevent.sleep(poll_delay_s(place, fan.random.random()))
            status, place = self.call(
                "GET",
                f"{self.event_path}/queue/{place['queue_id']}",
                QUEUE_PATH + "/[queue]",
                fan,
                {200},
            )
        return None

    def hold_body(self, fan: Fan) -> dict[str, Any]:
        general_id = self.type_ids.get(GENERAL)
        reserved_id = self.type_ids.get(SEATED)
        if (fan.wants_general and general_id) or not reserved_id:
            return {"items": [{"ticket_type_id": general_id, "quantity": fan.quantity}]}
        return {
            "best_available": {
                "ticket_type_id": reserved_id,
                "quantity": fan.quantity,
                "contiguous": fan.contiguous,
            }
        }

    def hold(self, fan: Fan, access_token: str) -> dict[str, Any] | None:
        """Hold what the fan wants: any seats after SEAT_UNAVAILABLE, what is left once tickets
        come back after SOLD_OUT."""
        for _ in range(HOLD_ATTEMPTS_MAX):
            status, body = self.call(
                "POST",
                f"{self.event_path}/holds",
                "/v1/events/[event]/holds",
                fan,
                {201, 409},
                json=self.hold_body(fan),
                headers={"X-Access-Token": access_token, "Idempotency-Key": uuid.uuid4().hex},
            )
            if status == 201:
                held: dict[str, Any] = body
                self.run_.acknowledged.note("hold", held["hold_id"], fan=fan.user_id)
                return held
            if status != 409:
                return None
            code = body["error"]["code"]
            if code == "SALE_NOT_OPEN":
                gevent.sleep(SALE_NOT_OPEN_RETRY_S)
            elif code == "SEAT_UNAVAILABLE":
                fan.contiguous = False
            elif code != "SOLD_OUT" or not self.wait_for_tickets(fan):
                return None
        return None

    def wait_for_tickets(self, fan: Fan) -> bool:
        """After SOLD_OUT, look at the event page, less often each time, until it shows tickets
        (abandoned holds and declined payments bring them back); then settle for what is left.
        False when nothing came back."""
        wait_s = RECHECK_FIRST_S
        for _ in range(RECHECKS_MAX):
            available = self.available_by_kind(fan)
            if any(available.values()):
                fan.settle_for(available)
                return True
            gevent.sleep(wait_s * (1 - RECHECK_JITTER * fan.random.random()))
            wait_s = min(RECHECK_MAX_S, wait_s * 2)
        return False

    def available_by_kind(self, fan: Fan) -> dict[str, int]:
        status, page = self.call("GET", self.event_path, "/v1/events/[event]", fan, {200})
        if status != 200:
            return {}
        return {row["kind"]: row["available"] for row in page["ticket_types"]}

    def check_out(self, fan: Fan, hold_id: str) -> str | None:
        status, body = self.call(
            "POST",
            f"/v1/holds/{hold_id}/checkout",
            "/v1/holds/[hold]/checkout",
            fan,
            {201, 404, 409},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if status != 201:
            return None
        order_id: str = body["order_id"]
        self.run_.acknowledged.note("order", order_id, fan=fan.user_id)
        return order_id

    def pay(self, fan: Fan, order_id: str) -> None:
        card = DECLINING_CARD if fan.declines else PAYING_CARD
        status, body = self.call(
            "POST",
            f"/v1/dev/orders/{order_id}/pay",
            "/v1/dev/orders/[order]/pay",
            fan,
            {200, 402, 404, 409},
            json={"card": card},
        )
        if status == 200 and body["status"] in ("paid", "fulfilled"):
            self.run_.acknowledged.note("paid", order_id, fan=fan.user_id)


class VenueUser(FastHttpUser):
    """Venue staff with the dashboard open: the event's stats, about once a second."""

    weight = 1
    fixed_count = 2
    wait_time = between(0.8, 1.2)

    def on_start(self) -> None:
        run = the_run()
        self.path = f"/v1/venue/events/{run.event_id}/stats"
        self.headers = {"Authorization": "Bearer " + run.token("load-venue", Role.VENUE_MANAGER)}

    @task
    def watch_stats(self) -> None:
        self.client.get(self.path, name="/v1/venue/events/[event]/stats", headers=self.headers)
