"""The venue's view of the sale while it runs: `GET /v1/venue/events/{id}/stats` once a second,
kept as a timeline of samples, and the one signal every fan listens for: the event sold out.

"Sold out" here is the end of the sale, every ticket sold; the API's `sold_out` status already
shows when nothing is available, while abandoned and unpaid holds can still come back. Fans in
the queue learn of the sell-out from their own polls (`state: "sold_out"`); the watch only bounds
their wait: SOLD_OUT_GRACE_S after it saw the sell-out, whoever still waits is stopped.
"""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import msgspec

from onsale.demo.broadcast import Broadcast
from onsale.demo.mailbox import Mailbox
from onsale.demo.record import Step
from onsale.demo.timed_client import TimedClient

STATS_INTERVAL_S = 1.0
# Longer than a waiting fan's longest pause between polls (queue_pace.POLL_INTERVAL_MAX_S), so
# every fan polls at least once after the sell-out before the driver stops them.
SOLD_OUT_GRACE_S = 65.0


class Sample(msgspec.Struct, frozen=True, kw_only=True):
    """One reading of the stats, `at_s` seconds after the driver started."""

    at_s: float
    capacity: int
    sold: int
    held: int
    available: int
    waiting: int
    pre_queue: int
    admitted: int
    paid_orders: int
    failed_orders: int
    minted: int
    mints_pending: int
    emails: int


def sample_of(stats: dict[str, Any], *, at_s: float, emails: int) -> Sample:
    queue, orders, mints = stats["queue"], stats["orders"], stats["mints"]
    return Sample(
        at_s=at_s,
        capacity=stats["capacity"],
        sold=stats["sold"],
        held=stats["held"],
        available=stats["available"],
        waiting=queue["waiting"],
        pre_queue=queue.get("pre_queue", 0),
        admitted=queue["admitted"],
        paid_orders=orders["paid"] + orders["fulfilled"],
        failed_orders=orders["payment_failed"],
        minted=mints["minted"],
        mints_pending=mints["pending"],
        emails=emails,
    )


class SaleWatch:
    def __init__(
        self,
        client: TimedClient,
        *,
        event_id: str,
        venue_token: str,
        mailbox: Mailbox,
        started_at: float,
    ) -> None:
        self._client = client
        self._path = f"/v1/venue/events/{event_id}/stats"
        self._venue_token = venue_token
        self._mailbox = mailbox
        self._started_at = started_at
        self.samples: list[Sample] = []
        self.sold_out = Broadcast()
        self.waiting_ended = Broadcast()
        self.sold_out_at_s: float | None = None

    async def sleep_unless_sold_out(self, delay_s: float) -> bool:
        """Wait `delay_s`, or less if the event sells out meanwhile; True once it has."""
        return await self.sold_out.sleep(delay_s)

    async def sleep_unless_waiting_ended(self, delay_s: float) -> bool:
        """Wait `delay_s`, or less if the grace after the sell-out runs out; True once it has."""
        return await self.waiting_ended.sleep(delay_s)

    async def read_once(self) -> Sample | None:
        answer = await self._client.call(Step.STATS, "GET", self._path, token=self._venue_token)
        if answer.status != 200:
            return None
        stats: dict[str, Any] = answer.body
        at_s = time.monotonic() - self._started_at
        sample = sample_of(stats, at_s=at_s, emails=self._mailbox.count())
        self.samples.append(sample)
        if sample.capacity and sample.sold >= sample.capacity and not self.sold_out.is_set():
            self.sold_out_at_s = at_s
            self.sold_out.set()
            asyncio.get_running_loop().call_later(SOLD_OUT_GRACE_S, self.waiting_ended.set)
        return sample

    async def run(self, on_sample: Callable[[Sample], None]) -> None:
        """Read the stats every STATS_INTERVAL_S until cancelled."""
        while True:
            sample = await self.read_once()
            if sample is not None:
                on_sample(sample)
            await asyncio.sleep(STATS_INTERVAL_S)
