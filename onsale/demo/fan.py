"""One fan's journey over HTTP: join the waiting room, poll at the pace of the ETA, hold once
admitted, check out and pay (or decline, or walk away from the hold and release it).

A fan told SOLD_OUT on a hold while the event has not sold out watches the event page and tries
again with what is left (released holds and declined payments bring tickets back), or, with the
wait list on, joins it. A fan still in the queue leaves when a poll answers `sold_out`, some of
them for the wait list; a shopper stops as soon as the venue sees every ticket sold. A fan's
choices are drawn from a generator seeded by the fan's number; what they ask a hold for is
`wanted_hold.py`'s.
"""

import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from loadtests.scenario import Ending, FanPlan, Want
from onsale.demo.queue_pace import is_stalled, observed_eta_s, poll_delay_s
from onsale.demo.record import TRANSPORT_FAILURE, DriverRecord, Outcome, Step
from onsale.demo.sale_facts import SaleFacts
from onsale.demo.sale_watch import SaleWatch
from onsale.demo.timed_client import Answer, Lane, TimedClient
from onsale.demo.wait_list import WAIT_LIST_SHARE, WaitListSpot
from onsale.demo.wanted_hold import WantedHold, adjacent_available_runs

PAYING_CARD = "4242424242424242"
DECLINING_CARD = "4000000000000002"
# After a SOLD_OUT a fan looks at the event page again after a wait that doubles each time it
# still shows nothing for them, from RECHECK_FIRST_S up to RECHECK_MAX_S, and holds again only
# once something is available: tickets come back as holds are released and payments fail.
RECHECK_FIRST_S = 2.0
RECHECK_MAX_S = 15.0
RECHECK_JITTER = 0.5
RECHECKS_MAX = 100
POLLS_MAX = 1_000
SALE_NOT_OPEN_RETRY_S = 1.0
PURCHASE_ATTEMPTS_MAX = 3
HOLD_ATTEMPTS_MAX = 200
# A fan who walks away from their hold looks at it a moment, then releases it, so its tickets
# return at once rather than when it runs out (a 30 s hold would set the sell-out's pace).
ABANDON_THINK_MIN_S = 1.0
ABANDON_THINK_MAX_S = 4.0
# A checkout of a hold that just ran out: HOLD_EXPIRED, or NOT_FOUND once the inventory has
# swept it from memory while Postgres still has it active.
HOLD_ENDED_CODES = frozenset({"HOLD_EXPIRED", "NOT_FOUND"})
# A member's hold refused for the code goes on without it; one of VIP refused for the code or
# VIP's stock goes on with what the member wanted besides.
CODE_REFUSALS = frozenset({"CODE_INVALID", "CODE_EXHAUSTED"})
VIP_REFUSALS = CODE_REFUSALS | {"SOLD_OUT", "LIMIT_EXCEEDED"}
ACCESS_TOKEN_HEADER = "X-Access-Token"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class CheckedOut(msgspec.Struct, frozen=True, kw_only=True):
    """An order waiting for the fan's payment."""

    order_id: str
    tickets: int


CheckOutStep = Callable[[], Awaitable["CheckedOut | Outcome | None"]]


def is_transient(answer: Answer) -> bool:
    """No answer, or one that says to come back later: a fan keeps refreshing."""
    return answer.status == TRANSPORT_FAILURE or answer.status == 429 or answer.status >= 500


class FanJourney:
    def __init__(
        self,
        plan: FanPlan,
        *,
        token: str,
        sale: SaleFacts,
        client: TimedClient,
        watch: SaleWatch,
        record: DriverRecord,
        started_at: float,
        seed: int,
        member: bool = False,
    ) -> None:
        self._plan = plan
        self._token = token
        self._sale = sale
        self._client = client
        self._watch = watch
        self._record = record
        self._started_at = started_at
        self._random = random.Random(seed * 1_000_003 + plan.number)
        self._wanted = WantedHold(plan, sale, member=member)
        self._access_token = ""

    async def run(self) -> None:
        arrives_at = self._started_at + self._plan.arrives_after_s
        if await self._watch.sleep_unless_waiting_ended(max(0.0, arrives_at - time.monotonic())):
            self._record.note_outcome(Outcome.NEVER_ADMITTED)
            return
        self._record.note_outcome(await self._journey())

    async def _journey(self) -> Outcome:
        not_admitted = await self._wait_for_admission()
        if not_admitted is not None:
            return not_admitted
        self._record.fans_admitted += 1
        return await self._buy(self._hold_and_check_out)

    async def _buy(self, check_out: "CheckOutStep") -> Outcome:
        """Hold and check out as `check_out` does, then pay; again when the hold ended first."""
        for _ in range(PURCHASE_ATTEMPTS_MAX):
            checked_out = await check_out()
            if isinstance(checked_out, Outcome):
                return checked_out
            if checked_out is not None:
                outcome = await self._pay(checked_out)
                if outcome is not None:
                    return outcome
        return Outcome.FAILED

    async def _wait_for_admission(self) -> Outcome | None:
        """Join and poll until admitted (None), or why the fan never was."""
        answer = await self._client.call(
            Step.JOIN,
            "POST",
            f"/v1/events/{self._sale.event_id}/queue",
            token=self._token,
            body={"code": self._wanted.code} if self._wanted.code else None,
        )
        if answer.status != 200:
            return Outcome.FAILED
        self._record.fans_arrived += 1
        place = answer.body
        if self._wanted.code:
            self._record.presale.members_queued += 1
        stalls = 0
        seen_eta_s: float | None = None
        answered_at = time.monotonic()
        for _ in range(POLLS_MAX):
            match place["state"]:
                case "admitted":
                    self._access_token = place["access_token"]
                    if self._wanted.code and time.monotonic() < self._sale.opens_at_monotonic:
                        self._record.presale.members_admitted_early += 1
                    return None
                case "expired":
                    return Outcome.PLACE_EXPIRED
                case "sold_out":
                    self._record.told_sold_out_at_s.append(time.time())
                    return await self._after_sell_out(place)
            delay = poll_delay_s(
                state=place["state"],
                eta_s=place["eta_s"],
                seconds_to_open=self._sale.opens_at_monotonic - time.monotonic(),
                jitter=self._random.random(),
                stalls=stalls,
                observed_eta_s=seen_eta_s,
            )
            if await self._watch.sleep_unless_waiting_ended(delay):
                self._record.stopped_while_waiting += 1
                return Outcome.NEVER_ADMITTED
            path = f"/v1/events/{self._sale.event_id}/queue/{place['queue_id']}"
            answer = await self._client.call(Step.POLL, "GET", path, token=self._token)
            if answer.status == 200:
                stalls = stalls + 1 if is_stalled(place, answer.body) else 0
                now = time.monotonic()
                seen_eta_s = observed_eta_s(place, answer.body, now - answered_at)
                place, answered_at = answer.body, now
            elif not is_transient(answer):
                return Outcome.FAILED
        return Outcome.FAILED

    async def _after_sell_out(self, place: dict[str, Any]) -> Outcome:
        """Told the event sold out: leave, or join the wait list when it is open and this fan
        is one who would."""
        if place.get("wait_list") is True and self._wants_wait_list():
            return await self._wait_on_the_list()
        return Outcome.TOLD_SOLD_OUT

    def _wants_wait_list(self) -> bool:
        return self._random.random() < WAIT_LIST_SHARE

    async def _wait_on_the_list(self) -> Outcome:
        """Join the wait list and buy what it offers, or leave it when nothing comes."""
        spot = WaitListSpot(
            self._client,
            token=self._token,
            event_id=self._sale.event_id,
            watch=self._watch,
            record=self._record,
        )
        if not await spot.join():
            return Outcome.FAILED

        async def check_out_the_offer() -> CheckedOut | Outcome | None:
            hold = await spot.wait_for_offer()
            if hold is None:
                await spot.leave()
                return Outcome.LEFT_WAIT_LIST
            return await self._check_out(hold)

        outcome = await self._buy(check_out_the_offer)
        if outcome is Outcome.BOUGHT:
            self._record.wait_list_conversions += 1
        return outcome

    async def _hold_and_check_out(self) -> CheckedOut | Outcome | None:
        """Hold what the fan wants, or what is left, and check out at once on the same
        connection; None when the hold ended before the checkout and the fan holds again."""
        for _ in range(HOLD_ATTEMPTS_MAX):
            if self._watch.sold_out.is_set():
                return Outcome.LEFT_SOLD_OUT
            body = await self._wanted.body(self._pick_seats)
            async with self._client.connection(Lane.PURCHASE, Step.HOLD):
                answer = await self._client.call(
                    Step.HOLD,
                    "POST",
                    f"/v1/events/{self._sale.event_id}/holds",
                    token=self._token,
                    body=body,
                    headers={
                        ACCESS_TOKEN_HEADER: self._access_token,
                        IDEMPOTENCY_HEADER: uuid.uuid4().hex,
                    },
                    held=True,
                )
                if answer.status == 201:
                    at_s = time.monotonic() - self._started_at
                    self._record.note_hold(answer.body["hold_id"], at_s)
                    if self._plan.ending is not Ending.ABANDON:
                        return await self._check_out(answer.body)
            if answer.status == 201:
                return await self._abandon(answer.body["hold_id"])
            if self._wanted.wants_vip and answer.code in VIP_REFUSALS:
                self._wanted.wants_vip = False
                continue
            if self._wanted.code and answer.code in CODE_REFUSALS:
                self._wanted.code = None
                continue
            if answer.code == "SOLD_OUT" and self._wants_wait_list():
                # Returned stock goes to the wait list first; the others watch the event page,
                # and buy what comes back once nobody waits on the list for it.
                return await self._wait_on_the_list()
            if not await self._recover_from(answer):
                return Outcome.LEFT_SOLD_OUT if self._watch.sold_out.is_set() else Outcome.FAILED
        return Outcome.FAILED

    async def _recover_from(self, refusal: Answer) -> bool:
        """Change the request or wait as the refusal suggests; False when the fan gives up."""
        match refusal.code:
            case "SEAT_UNAVAILABLE":
                self._wanted.want = Want.BEST_AVAILABLE
                return True
            case "SOLD_OUT":
                return await self._wait_for_tickets_to_come_back()
            case "SALE_NOT_OPEN":
                return not await self._watch.sleep_unless_sold_out(SALE_NOT_OPEN_RETRY_S)
            case _:
                return False

    async def _wait_for_tickets_to_come_back(self) -> bool:
        """Look at the event page, less often each time, until it shows tickets; then settle
        for what is left. False when the event sold out meanwhile."""
        wait_s = RECHECK_FIRST_S
        for _ in range(RECHECKS_MAX):
            jittered_s = wait_s * (1 - RECHECK_JITTER * self._random.random())
            if await self._watch.sleep_unless_sold_out(jittered_s):
                return False
            answer = await self._client.call(
                Step.EVENT_PAGE, "GET", f"/v1/events/{self._sale.event_id}", token=self._token
            )
            if answer.status == 200:
                available = {row["id"]: row["available"] for row in answer.body["ticket_types"]}
                if any(available.values()):
                    self._wanted.settle_for_what_is_left(available)
                    return True
            wait_s = min(RECHECK_MAX_S, wait_s * 2)
        return False

    async def _pick_seats(self, quantity: int) -> list[str]:
        answer = await self._client.call(
            Step.SEATMAP, "GET", f"/v1/events/{self._sale.event_id}/seatmap", token=self._token
        )
        if answer.status != 200:
            return []
        runs = adjacent_available_runs(answer.body, quantity)
        return self._random.choice(runs) if runs else []

    async def _check_out(self, hold: dict[str, Any]) -> CheckedOut | Outcome | None:
        checkout = await self._client.call(
            Step.CHECKOUT,
            "POST",
            f"/v1/holds/{hold['hold_id']}/checkout",
            token=self._token,
            headers={IDEMPOTENCY_HEADER: uuid.uuid4().hex},
            held=True,
        )
        if checkout.code in HOLD_ENDED_CODES:
            return None
        if checkout.status != 201:
            return Outcome.FAILED
        order_id = checkout.body["order_id"]
        self._record.note_order(order_id, paid=False)
        tickets = sum(item["quantity"] for item in hold["items"])
        return CheckedOut(order_id=order_id, tickets=tickets)

    async def _abandon(self, hold_id: str) -> Outcome:
        """Look at the hold a moment, then release it."""
        think_s = self._random.uniform(ABANDON_THINK_MIN_S, ABANDON_THINK_MAX_S)
        await self._watch.sleep_unless_sold_out(think_s)
        await self._client.call(Step.RELEASE, "DELETE", f"/v1/holds/{hold_id}", token=self._token)
        return Outcome.ABANDONED

    async def _pay(self, checked_out: CheckedOut) -> Outcome | None:
        """Pay with the fan's card; None when the order ended first and the fan holds again."""
        declines = self._plan.ending is Ending.DECLINE
        paid = await self._client.call(
            Step.PAY,
            "POST",
            f"/v1/dev/orders/{checked_out.order_id}/pay",
            token=self._token,
            body={"card": DECLINING_CARD if declines else PAYING_CARD},
        )
        if paid.status == 200 and paid.body["status"] in ("paid", "fulfilled"):
            self._record.note_order(checked_out.order_id, paid=True)
            self._record.tickets_bought += checked_out.tickets
            return Outcome.BOUGHT
        if paid.status == 402:
            return Outcome.DECLINED
        if paid.code in HOLD_ENDED_CODES:
            return None
        return Outcome.FAILED
