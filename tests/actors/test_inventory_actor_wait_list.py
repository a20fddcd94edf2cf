"""The wait list in the InventoryActor, on real Ray and Postgres with a clock the test moves: a hold
that expires after a sell-out becomes an offer to the first entry, an offer not bought by its
expiry passes to the next entry, each offer's notice is queued in the same commit, and a rebuilt
actor carries on from the rows."""

import asyncio
import pathlib
import uuid
from collections.abc import AsyncIterator

import asyncpg
import msgspec
import pytest
import ray

from actors.inventory_client import InventoryClient
from actors.names import NAMESPACE, inventory_actor_name
from engine.commands import ItemRequest, JoinWaitList, PlaceHold
from engine.inventory.wait_list import offer_hold_id
from engine.outcomes import HoldView, WaitListEntryView
from engine.rejections import Reason, Rejected
from loadtests.seeding import event_on_sale_now, seed_event
from persistence.event_repository import WaitListSettings
from persistence.pool import service_url
from tests.actors.clocks import FileClock

pytestmark = pytest.mark.usefixtures("ray_cluster")
OFFER_TTL_S = 60
HOLD_TTL_MS = 60_000
STATUS_POLLS = 150
STATUS_POLL_INTERVAL_S = 0.1
# A command without a key meeting the restart is answered UNAVAILABLE; a join is safe to send again.
RETRIES_AFTER_A_RESTART = 3


class WaitListSale(msgspec.Struct, kw_only=True):
    owner_url: str
    event_id: uuid.UUID
    general_admission: str

    def hold(self, fan: str, quantity: int) -> PlaceHold:
        return PlaceHold(
            new_hold_id=str(uuid.uuid4()),
            fan_id=fan,
            items=(ItemRequest(ticket_type_id=self.general_admission, quantity=quantity),),
            idempotency_key=str(uuid.uuid4()),
        )

    async def statuses(self) -> dict[str, str]:
        connection = await asyncpg.connect(self.owner_url)
        try:
            rows = await connection.fetch(
                "SELECT user_id, status FROM wait_list_entries WHERE event_id = $1", self.event_id
            )
        finally:
            await connection.close()
        return {row["user_id"]: row["status"] for row in rows}

    async def offer_notices(self) -> list[str]:
        connection = await asyncpg.connect(self.owner_url)
        try:
            rows = await connection.fetch(
                "SELECT payload->>'user_id' AS fan FROM outbox "
                "WHERE topic = 'notice.wait_list_offered' AND payload->>'event_id' = $1 "
                "ORDER BY position",
                str(self.event_id),
            )
        finally:
            await connection.close()
        return [row["fan"] for row in rows]

    async def statuses_once(self, expected: dict[str, str]) -> dict[str, str]:
        statuses = await self.statuses()
        for _ in range(STATUS_POLLS):
            if statuses == expected:
                break
            await asyncio.sleep(STATUS_POLL_INTERVAL_S)
            statuses = await self.statuses()
        return statuses


@pytest.fixture
async def sale(migrated_database_url: str) -> AsyncIterator[WaitListSale]:
    event = msgspec.structs.replace(
        event_on_sale_now(general_capacity=2),
        wait_list=WaitListSettings(enabled=True, offer_ttl_s=OFFER_TTL_S),
    )
    _, created = await seed_event(migrated_database_url, event)
    general = next(str(t.ticket_type_id) for t in created.ticket_types if t.key == "GA")
    sale = WaitListSale(
        owner_url=migrated_database_url, event_id=created.event_id, general_admission=general
    )
    yield sale
    ray.kill(
        ray.get_actor(inventory_actor_name(str(sale.event_id)), namespace=NAMESPACE),
        no_restart=True,
    )


@pytest.fixture
def clock(tmp_path: pathlib.Path) -> FileClock:
    return FileClock(tmp_path / "now_ms")


def join(fan: str) -> JoinWaitList:
    return JoinWaitList(new_entry_id=str(uuid.uuid4()), fan_id=fan, quantity=2, email=f"{fan}@x.io")


async def test_an_unbought_offer_passes_to_the_next_entry_when_its_time_runs_out(
    sale: WaitListSale, clock: FileClock
) -> None:
    client = InventoryClient(str(sale.event_id), service_url(sale.owner_url), clock)
    assert isinstance(await client.execute(sale.hold("holder", 2)), HoldView)
    first = await client.execute(join("first"))
    second = await client.execute(join("second"))
    assert isinstance(first, WaitListEntryView) and isinstance(second, WaitListEntryView)

    clock.advance(HOLD_TTL_MS + 1_000)
    offered = await sale.statuses_once({"first": "offered", "second": "waiting"})
    refused = await client.execute(sale.hold("general", 1))

    assert offered == {"first": "offered", "second": "waiting"}
    assert isinstance(refused, Rejected) and refused.reason is Reason.SOLD_OUT

    clock.advance(OFFER_TTL_S * 1_000 + 1_000)
    passed = await sale.statuses_once({"first": "expired", "second": "offered"})

    assert passed == {"first": "expired", "second": "offered"}
    assert await sale.offer_notices() == ["first", "second"]
    ray.kill(
        ray.get_actor(inventory_actor_name(str(sale.event_id)), namespace=NAMESPACE),
        no_restart=False,
    )
    again = await client.execute(join("second"))
    for _ in range(RETRIES_AFTER_A_RESTART):
        if not isinstance(again, Rejected) or again.reason is not Reason.UNAVAILABLE:
            break
        again = await client.execute(join("second"))
    assert isinstance(again, WaitListEntryView), again
    assert again.hold_id == offer_hold_id(second.entry_id)
    refused_again = await client.execute(sale.hold("general", 1))
    assert isinstance(refused_again, Rejected) and refused_again.reason is Reason.SOLD_OUT
