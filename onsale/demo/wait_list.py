"""A fan's side of the wait list (API.md, "Sell-out and the wait list"): joining it when the
queue answers `sold_out` with `wait_list: true`, and waiting, slowly, for an offer: a hold of
theirs, checked out and paid as any other. The demo's event opens its wait list
(`WAIT_LIST_SETTINGS`).
"""

import uuid
from typing import Any

from onsale.demo.record import DriverRecord, Step
from onsale.demo.sale_watch import SaleWatch
from onsale.demo.timed_client import TimedClient

# Of the fans told `sold_out` while the wait list is open, the share who join it (drawn from
# each fan's seeded generator).
WAIT_LIST_SHARE = 0.2
WAIT_LIST_QUANTITY = 1
OFFER_TTL_S = 60
# Offers come as stock returns, seconds apart at best: an entry is read this often.
WAIT_LIST_POLL_S = 5.0
WAIT_LIST_POLLS_MAX = 200
IDEMPOTENCY_HEADER = "Idempotency-Key"


WAIT_LIST_SETTINGS: dict[str, object] = {"wait_list": {"enabled": True, "offer_ttl_s": OFFER_TTL_S}}


def offered_hold(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The hold an `offered` entry carries, shaped as a hold answer for the checkout."""
    hold_id = entry.get("hold_id")
    if entry.get("status") != "offered" or not isinstance(hold_id, str):
        return None
    quantity = entry.get("quantity", WAIT_LIST_QUANTITY)
    return {"hold_id": hold_id, "items": [{"quantity": quantity}]}


class WaitListSpot:
    """One fan's entry on one event's wait list."""

    def __init__(
        self,
        client: TimedClient,
        *,
        token: str,
        event_id: str,
        watch: SaleWatch,
        record: DriverRecord,
    ) -> None:
        self._client = client
        self._token = token
        self._event_id = event_id
        self._watch = watch
        self._record = record
        self._entry_id: str | None = None

    async def join(self) -> bool:
        answer = await self._client.call(
            Step.WAIT_LIST_JOIN,
            "POST",
            f"/v1/events/{self._event_id}/wait-list",
            token=self._token,
            body={"quantity": WAIT_LIST_QUANTITY},
            headers={IDEMPOTENCY_HEADER: uuid.uuid4().hex},
        )
        if answer.status not in (200, 201):
            return False
        self._entry_id = answer.body["entry_id"]
        self._record.wait_list_joins += 1
        return True

    async def wait_for_offer(self) -> dict[str, Any] | None:
        """The offered hold, or None once the entry ends without one or every ticket is sold
        (nothing can come back then: no offer is live)."""
        assert self._entry_id is not None, "join first"
        path = f"/v1/wait-list/{self._entry_id}"
        for _ in range(WAIT_LIST_POLLS_MAX):
            if await self._watch.sleep_unless_sold_out(WAIT_LIST_POLL_S):
                return None
            answer = await self._client.call(Step.WAIT_LIST_POLL, "GET", path, token=self._token)
            if answer.status != 200:
                continue
            hold = offered_hold(answer.body)
            if hold is not None:
                self._record.wait_list_offers += 1
                return hold
            if answer.body.get("status") in ("converted", "expired"):
                return None
        return None

    async def leave(self) -> None:
        if self._entry_id is not None:
            path = f"/v1/wait-list/{self._entry_id}"
            await self._client.call(Step.WAIT_LIST_POLL, "DELETE", path, token=self._token)
