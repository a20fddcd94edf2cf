"""The InventoryActor through its client, on real Ray and Postgres: group commit, no oversell,
acknowledged holds survive kills and a Postgres outage, stale instances are fenced, holds expire,
a failed commit takes down the batch decided on top of it too, and changed sale settings outlive
the actor."""

import asyncio
import pathlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
import ray

from actors.actor_calls import ACTOR_CALL_ERRORS
from actors.inventory_client import InventoryClient
from actors.inventory_figures import CountDifference
from actors.names import NAMESPACE, inventory_actor_name
from embedded.postgres_part import EmbeddedPostgres
from engine.commands import ChangeSaleSettings, ItemRequest, PlaceHold
from engine.outcomes import Acknowledged, HoldView
from engine.rejections import Reason, Rejected
from loadtests.seeding import event_on_sale_now, seed_event
from persistence.epochs import take_epoch
from persistence.migrate import migrate
from persistence.pool import service_url
from persistence.tenancy import tenant_transaction
from tests.actors.clocks import FileClock

pytestmark = pytest.mark.usefixtures("ray_cluster")
KILLS = 3
HOLDS_BETWEEN_KILLS = 40
FAN_PAUSE_S = 0.01


class Sale:
    def __init__(self, owner_url: str, tenant_id: uuid.UUID, event_id: uuid.UUID, ga: str):
        self.owner_url = owner_url
        self.tenant_id = tenant_id
        self.event_id = event_id
        self.general_admission = ga

    def hold(self, fan: str, quantity: int, key: str | None = None) -> PlaceHold:
        return PlaceHold(
            new_hold_id=str(uuid.uuid4()),
            fan_id=fan,
            items=(ItemRequest(ticket_type_id=self.general_admission, quantity=quantity),),
            idempotency_key=key,
        )

    def actor(self) -> ray.actor.ActorHandle:
        return ray.get_actor(inventory_actor_name(str(self.event_id)), namespace=NAMESPACE)

    async def fetchval(self, query: str, *arguments: object) -> object:
        connection = await asyncpg.connect(self.owner_url)
        try:
            return await connection.fetchval(query, *arguments)
        finally:
            await connection.close()

    async def active_hold_ids(self) -> set[str]:
        connection = await asyncpg.connect(self.owner_url)
        try:
            rows = await connection.fetch(
                "select id from holds where event_id = $1 and status = 'active'", self.event_id
            )
        finally:
            await connection.close()
        return {str(row["id"]) for row in rows}


async def open_sale(owner_url: str, general_capacity: int) -> Sale:
    tenant_id, created = await seed_event(
        owner_url, event_on_sale_now(general_capacity=general_capacity)
    )
    ga = next(str(t.ticket_type_id) for t in created.ticket_types if t.key == "GA")
    return Sale(owner_url, tenant_id, created.event_id, ga)


@pytest.fixture
async def sale(migrated_database_url: str) -> AsyncIterator[Sale]:
    sale = await open_sale(migrated_database_url, general_capacity=200)
    yield sale
    ray.kill(sale.actor(), no_restart=True)


@pytest.fixture
def clock(tmp_path: pathlib.Path) -> FileClock:
    return FileClock(tmp_path / "now_ms")


def client_of(sale: Sale, clock: FileClock) -> InventoryClient:
    return InventoryClient(str(sale.event_id), service_url(sale.owner_url), clock)


async def buy_until_sold_out(client: InventoryClient, sale: Sale, fan: str) -> list[HoldView]:
    held: list[HoldView] = []
    while True:
        result = await client.execute(sale.hold(fan, 1, key=str(uuid.uuid4())))
        if isinstance(result, HoldView):
            held.append(result)
        elif result.reason is Reason.SOLD_OUT:
            return held
        else:
            assert result.reason is Reason.LIMIT_EXCEEDED, result
            return held


async def test_exactly_the_capacity_is_held_when_sixty_fans_race(
    sale: Sale, clock: FileClock
) -> None:
    client = client_of(sale, clock)
    holds = await asyncio.gather(*(buy_until_sold_out(client, sale, f"fan-{n}") for n in range(60)))

    acknowledged = [hold for fan_holds in holds for hold in fan_holds]
    assert len(acknowledged) == 200
    assert {hold.hold_id for hold in acknowledged} == await sale.active_hold_ids()
    assert (
        await sale.fetchval(
            "select held_quantity from ticket_types where id = $1",
            uuid.UUID(sale.general_admission),
        )
        == 200
    )
    stats = await sale.actor().stats.remote()
    assert stats.batch_size_max > 1
    assert stats.batches_committed < stats.commands_decided


async def test_every_acknowledged_hold_survives_when_the_actor_is_killed_repeatedly(
    migrated_database_url: str, clock: FileClock
) -> None:
    sale = await open_sale(migrated_database_url, general_capacity=4_000)
    client = client_of(sale, clock)
    acknowledged: list[HoldView] = []
    selling = True

    async def fan(number: int) -> None:
        while selling:
            command = sale.hold(f"fan-{number}-{uuid.uuid4()}", 2, str(uuid.uuid4()))
            result = await client.execute(command)
            if isinstance(result, HoldView):
                acknowledged.append(result)
            elif result.reason is Reason.SOLD_OUT:
                return
            await asyncio.sleep(FAN_PAUSE_S)

    async def until_the_instance_has_served() -> None:
        served_before = len(acknowledged)
        # the fans only append to a list, with no signal to wait on: look at its length
        while len(acknowledged) < served_before + HOLDS_BETWEEN_KILLS:  # noqa: ASYNC110
            await asyncio.sleep(0.05)

    fans = [asyncio.create_task(fan(number)) for number in range(20)]
    for _ in range(KILLS):
        await asyncio.wait_for(until_the_instance_has_served(), timeout=60)
        ray.kill(sale.actor(), no_restart=False)
    await asyncio.wait_for(until_the_instance_has_served(), timeout=60)
    selling = False
    await asyncio.gather(*fans)

    in_database = await sale.active_hold_ids()
    assert {hold.hold_id for hold in acknowledged} <= in_database
    held = await sale.fetchval(
        "select held_quantity from ticket_types where id = $1", uuid.UUID(sale.general_admission)
    )
    assert held == 2 * len(in_database) <= 4_000
    counts = await sale.actor().counts.remote()
    assert [(count.held, count.sold) for count in counts] == [(held, 0)]
    assert (await sale.actor().stats.remote()).epoch == KILLS + 1, "each instance took an epoch"
    assert await sale.actor().reconcile.remote() == []
    ray.kill(sale.actor(), no_restart=True)


async def test_requests_get_unavailable_and_nothing_is_lost_when_postgres_stops(
    tmp_path: pathlib.Path, clock: FileClock
) -> None:
    postgres = EmbeddedPostgres(tmp_path / "postgres")
    owner_url = postgres.start()
    try:
        await migrate(owner_url)
        sale = await open_sale(owner_url, general_capacity=100)
        client = client_of(sale, clock)
        before = [await client.execute(sale.hold(f"fan-{n}", 1, f"before-{n}")) for n in range(5)]
        assert all(isinstance(result, HoldView) for result in before)

        postgres.stop()
        during = [await client.execute(sale.hold(f"fan-{n}", 1, f"during-{n}")) for n in range(3)]
        assert [result.reason for result in during] == [Reason.UNAVAILABLE] * 3

        postgres.start()
        after = None
        for _ in range(40):
            after = await client.execute(sale.hold("fan-after", 1, "after"))
            if isinstance(after, HoldView):
                break
            await asyncio.sleep(0.25)
        assert isinstance(after, HoldView)
        in_database = await sale.active_hold_ids()
        assert {hold.hold_id for hold in before} | {after.hold_id} == in_database
        ray.kill(sale.actor(), no_restart=True)
    finally:
        postgres.stop()


async def test_a_replaced_instance_cannot_write_when_a_newer_epoch_was_taken(
    sale: Sale, clock: FileClock
) -> None:
    client = client_of(sale, clock)
    assert isinstance(await client.execute(sale.hold("fan-1", 1, "first")), HoldView)
    owner = await asyncpg.connect(sale.owner_url)
    try:
        async with tenant_transaction(owner, sale.tenant_id) as connection:
            await take_epoch(
                connection, tenant_id=sale.tenant_id, event_id=sale.event_id, holder="usurper"
            )
    finally:
        await owner.close()

    refused = await client.execute(sale.hold("fan-2", 1, "second"))

    assert isinstance(refused, Rejected) and refused.reason is Reason.UNAVAILABLE
    assert len(await sale.active_hold_ids()) == 1


async def test_hold_is_expired_durably_within_two_seconds_when_its_time_passes(
    sale: Sale, clock: FileClock
) -> None:
    client = client_of(sale, clock)
    hold = await client.execute(sale.hold("fan-1", 2, "expiring"))
    assert isinstance(hold, HoldView)

    clock.advance(61_000)
    status = None
    for _ in range(20):
        status = await sale.fetchval(
            "select status from holds where id = $1", uuid.UUID(hold.hold_id)
        )
        if status == "expired":
            break
        await asyncio.sleep(0.1)

    assert status == "expired"
    assert (
        await sale.fetchval(
            "select count(*) from outbox where topic = 'holds.expired' and tenant_id = $1",
            sale.tenant_id,
        )
        == 1
    )
    counts = await sale.actor().counts.remote()
    assert [(count.available, count.held) for count in counts] == [(200, 0)]


async def test_reconciliation_finds_nothing_when_memory_and_postgres_agree(
    sale: Sale, clock: FileClock
) -> None:
    client = client_of(sale, clock)
    for number in range(5):
        assert isinstance(
            await client.execute(sale.hold(f"fan-{number}", 2, f"k{number}")), HoldView
        )

    assert await sale.actor().reconcile.remote() == []


async def test_reconciliation_reports_the_difference_when_a_counter_was_changed_behind_it(
    sale: Sale, clock: FileClock
) -> None:
    client = client_of(sale, clock)
    assert isinstance(await client.execute(sale.hold("fan-1", 2, "k1")), HoldView)
    owner = await asyncpg.connect(sale.owner_url)
    try:
        await owner.execute(
            "update ticket_types set held_quantity = held_quantity + 1 where id = $1",
            uuid.UUID(sale.general_admission),
        )
    finally:
        await owner.close()

    differences = await sale.actor().reconcile.remote()

    assert differences == [
        CountDifference(
            ticket_type_id=sale.general_admission,
            measure="held_counter",
            in_memory=2,
            in_postgres=3,
        )
    ]


async def until(condition: Callable[[], Awaitable[bool]], timeout_s: float = 20.0) -> None:
    async def poll() -> None:
        # the condition reads a state that gives no signal to wait on: ask it again
        while not await condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout=timeout_s)


async def test_both_batches_get_unavailable_and_none_is_kept_when_a_commit_fails_under_another(
    sale: Sale, clock: FileClock
) -> None:
    client = client_of(sale, clock)
    before = await client.execute(sale.hold("fan-0", 1, "before"))
    assert isinstance(before, HoldView)
    doomed = sale.hold("fan-1", 1, "first")

    async def held_in_memory() -> int:
        counts = await sale.actor().counts.remote()
        return int(counts[0].held)

    async def a_commit_waits_for_the_squatter() -> bool:
        waiting = await sale.fetchval(
            "select count(*) from pg_stat_activity "
            "where datname = current_database() and wait_event_type = 'Lock'"
        )
        return waiting == 1

    async def second_is_decided_on_top() -> bool:
        return await held_in_memory() == 3

    owner = await asyncpg.connect(sale.owner_url)
    try:
        # An uncommitted row takes the first hold's id: its commit waits on it, then is refused.
        squatter = owner.transaction()
        await squatter.start()
        await owner.execute(
            "insert into holds (id, tenant_id, event_id, user_id, status, subtotal_cents, "
            "expires_at, ended_at, item_ticket_type_ids, item_quantities, "
            "item_unit_prices_cents) values ($1, $2, $3, 'squatter', 'released', 0, now(), now(), "
            "array[$4::uuid], array[1], array[0::bigint])",
            uuid.UUID(doomed.new_hold_id),
            sale.tenant_id,
            sale.event_id,
            uuid.UUID(sale.general_admission),
        )
        first = asyncio.create_task(client.execute(doomed))
        await until(a_commit_waits_for_the_squatter)
        second = asyncio.create_task(client.execute(sale.hold("fan-2", 1, "second")))
        await until(second_is_decided_on_top)
        await squatter.commit()
        refused = await asyncio.gather(first, second)
    finally:
        await owner.close()

    assert [result.reason if isinstance(result, Rejected) else result for result in refused] == [
        Reason.UNAVAILABLE,
        Reason.UNAVAILABLE,
    ]
    after = await client.execute(sale.hold("fan-3", 1, "after"))
    assert isinstance(after, HoldView)
    assert await sale.active_hold_ids() == {before.hold_id, after.hold_id}
    assert await held_in_memory() == 2
    assert await sale.actor().reconcile.remote() == []


async def test_changed_sale_settings_are_kept_when_the_actor_is_killed(
    sale: Sale, clock: FileClock
) -> None:
    client = client_of(sale, clock)
    before = await client.execute(sale.hold("fan-1", 4, "before"))
    assert isinstance(before, HoldView)
    closes_at_ms = clock() + 2 * 86_400_000
    change = ChangeSaleSettings(
        closes_at_ms=closes_at_ms, hold_ttl_ms=120_000, max_tickets_per_user=None
    )
    assert isinstance(await client.execute(change), Acknowledged)
    epoch = (await sale.actor().stats.remote()).epoch

    async def rebuilt() -> bool:
        """Whether the instance Ray put in the killed one's place has read the event back."""
        try:
            return bool((await sale.actor().stats.remote()).epoch == epoch + 1)
        except ACTOR_CALL_ERRORS:
            return False

    ray.kill(sale.actor(), no_restart=False)
    await until(rebuilt)
    after = await client.execute(sale.hold("fan-1", 150, "after"))

    assert isinstance(after, HoldView), after
    assert after.expires_at_ms == clock() + 120_000
    stored_expiry_ms = await sale.fetchval(
        "select (extract(epoch from expires_at) * 1000)::bigint from holds where id = $1",
        uuid.UUID(before.hold_id),
    )
    assert stored_expiry_ms == before.expires_at_ms
    connection = await asyncpg.connect(sale.owner_url)
    try:
        settings = await connection.fetchrow(
            "select (extract(epoch from closes_at) * 1000)::bigint as closes_at_ms, hold_ttl_s, "
            "max_tickets_per_user from events where id = $1",
            sale.event_id,
        )
    finally:
        await connection.close()
    assert tuple(settings.values()) == (closes_at_ms, 120, None)
    lowered = await client.execute(ChangeSaleSettings(max_tickets_per_user=2))
    assert isinstance(lowered, Acknowledged)
    refused = await client.execute(sale.hold("fan-1", 1, "past the lowered limit"))
    assert isinstance(refused, Rejected) and refused.reason is Reason.LIMIT_EXCEEDED
    counts = await sale.actor().counts.remote()
    assert [count.held for count in counts] == [154]
    assert await sale.actor().reconcile.remote() == []
