"""The InventoryActor in this process, on real Postgres and Ray: a command whose data Postgres
refuses fails alone instead of sinking its batch, an idle instance retires only when nothing
depends on it, and a tenant's events start no more actors than its cap.

The batch test first shows what the guard prevents: with the one-at-a-time replay switched off,
one poisoned hold takes every hold batched with it down."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import ray

from actors.inventory_actor import InventoryActor
from actors.inventory_batches import Request
from actors.inventory_client import InventoryClient
from actors.inventory_wire import COMMANDS_ENCODER, RESULTS_DECODER
from actors.lifecycle import ActorRetired, refused_data
from actors.names import NAMESPACE, inventory_actor_name
from engine import limits
from engine.commands import ItemRequest, PlaceHold, ReleaseHold
from engine.outcomes import Acknowledged, HoldView
from engine.rejections import Reason, Rejected
from loadtests.seeding import event_on_sale_now, seed_event
from persistence.event_repository import create_event
from persistence.pool import create_pool, service_url
from persistence.tenancy import tenant_transaction

pytestmark = pytest.mark.usefixtures("ray_cluster")
FANS = 50
POISONED_FAN = "fan-\x00-poisoned"
RETIREMENT_ASKS_MAX = 100


class Event:
    def __init__(self, owner_url: str, event_id: uuid.UUID, general: str) -> None:
        self.owner_url = owner_url
        self.event_id = event_id
        self.general = general

    def hold(self, fan: str) -> PlaceHold:
        return PlaceHold(
            new_hold_id=str(uuid.uuid4()),
            fan_id=fan,
            items=(ItemRequest(ticket_type_id=self.general, quantity=1),),
            idempotency_key=str(uuid.uuid4()),
        )

    async def held_by(self) -> list[str]:
        owner = await asyncpg.connect(self.owner_url)
        try:
            rows = await owner.fetch(
                "SELECT user_id FROM holds WHERE event_id = $1 AND status = 'active'",
                self.event_id,
            )
        finally:
            await owner.close()
        return sorted(row["user_id"] for row in rows)


@pytest.fixture
async def event(migrated_database_url: str) -> Event:
    _, created = await seed_event(
        migrated_database_url, event_on_sale_now(general_capacity=FANS * 2)
    )
    general = next(str(t.ticket_type_id) for t in created.ticket_types if t.key == "GA")
    return Event(migrated_database_url, created.event_id, general)


@pytest.fixture
async def actor(event: Event) -> AsyncIterator[InventoryActor]:
    actor = InventoryActor(event_id=str(event.event_id), database_url=service_url(event.owner_url))
    yield actor
    await actor.close()


async def submit(actor: InventoryActor, command: PlaceHold) -> HoldView | Rejected:
    [result] = RESULTS_DECODER.decode(await actor.submit(COMMANDS_ENCODER.encode([command])))
    assert isinstance(result, HoldView | Rejected)
    return result


async def fifty_holds_one_poisoned(actor: InventoryActor, event: Event) -> list[object]:
    """Fifty fans hold at once, one of them named with a NUL that Postgres refuses to store."""
    fans = [f"fan-{number:02}" for number in range(FANS - 1)] + [POISONED_FAN]
    return list(await asyncio.gather(*(submit(actor, event.hold(fan)) for fan in fans)))


async def test_one_poisoned_hold_sinks_its_whole_batch_when_replay_is_off(
    actor: InventoryActor, event: Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse_the_batch(self: InventoryActor, requests: list[Request]) -> None:
        self._answer_all(requests, refused_data())

    monkeypatch.setattr(InventoryActor, "_replay_one_by_one", refuse_the_batch)

    results = await fifty_holds_one_poisoned(actor, event)

    refused = [result for result in results if isinstance(result, Rejected)]
    assert len(refused) > 1
    assert len(await event.held_by()) == FANS - len(refused)


async def test_only_the_poisoned_hold_fails_when_its_batch_is_replayed_one_by_one(
    actor: InventoryActor, event: Event
) -> None:
    results = await fifty_holds_one_poisoned(actor, event)

    assert all(isinstance(result, HoldView) for result in results[:-1]), results
    poisoned = results[-1]
    assert isinstance(poisoned, Rejected) and poisoned.reason is Reason.VALIDATION_ERROR
    assert await event.held_by() == [f"fan-{number:02}" for number in range(FANS - 1)]
    assert await actor.reconcile() == []
    after = await submit(actor, event.hold("fan-after"))
    assert isinstance(after, HoldView)


async def retired_once_between_batches(actor: InventoryActor) -> bool:
    """Ask as the Supervisor does, round after round: a request may be on its way (the expiry
    sweep's, say), and the instance retires at the first ask that finds none."""
    for _ in range(RETIREMENT_ASKS_MAX):
        if await actor.retire(0):
            return True
        await asyncio.sleep(0.01)
    return False


async def test_an_instance_retires_only_when_idle_with_no_live_hold(
    actor: InventoryActor, event: Event
) -> None:
    held = await submit(actor, event.hold("fan-1"))
    assert isinstance(held, HoldView)

    kept_for_its_hold = await actor.retire(0)
    [released] = RESULTS_DECODER.decode(
        await actor.submit(
            COMMANDS_ENCODER.encode([ReleaseHold(hold_id=held.hold_id, fan_id="fan-1")])
        )
    )
    assert isinstance(released, Acknowledged)
    kept_while_recent = await actor.retire(3_600)
    retired = await retired_once_between_batches(actor)

    assert (kept_for_its_hold, kept_while_recent, retired) == (False, False, True)
    with pytest.raises(ActorRetired):
        await submit(actor, event.hold("fan-2"))
    with pytest.raises(ActorRetired):
        await actor.snapshot(False)


async def second_event_of_the_tenant(owner_url: str, first: uuid.UUID) -> uuid.UUID:
    """Another event of the tenant of the event `first`, in the same venue."""
    owner = await asyncpg.connect(owner_url)
    try:
        tenant_id, venue_id = await owner.fetchrow(
            "SELECT tenant_id, venue_id FROM events WHERE id = $1", first
        )
    finally:
        await owner.close()
    pool = await create_pool(service_url(owner_url), min_size=1, max_size=1)
    try:
        async with tenant_transaction(pool, tenant_id) as connection:
            created = await create_event(
                connection,
                tenant_id=tenant_id,
                venue_id=venue_id,
                event=event_on_sale_now(general_capacity=10),
            )
    finally:
        await pool.close()
    return created.event_id


async def test_a_tenant_at_its_cap_starts_no_more_actors_until_one_stops(
    event: Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "LIVE_EVENTS_PER_TENANT_MAX", 1)
    running = InventoryClient(str(event.event_id), service_url(event.owner_url))
    assert isinstance(await running.execute(event.hold("fan-1")), HoldView)
    second_id = await second_event_of_the_tenant(event.owner_url, event.event_id)
    second = InventoryActor(event_id=str(second_id), database_url=service_url(event.owner_url))
    try:
        [refused] = RESULTS_DECODER.decode(
            await second.submit(
                COMMANDS_ENCODER.encode([ReleaseHold(hold_id=str(uuid.uuid4()), fan_id="x")])
            )
        )
        ray.kill(
            ray.get_actor(inventory_actor_name(str(event.event_id)), namespace=NAMESPACE),
            no_restart=True,
        )
        [started] = RESULTS_DECODER.decode(
            await second.submit(
                COMMANDS_ENCODER.encode([ReleaseHold(hold_id=str(uuid.uuid4()), fan_id="x")])
            )
        )
    finally:
        await second.close()

    assert isinstance(refused, Rejected) and refused.reason is Reason.UNAVAILABLE
    assert (
        refused.message == "this venue already has the most events live at once (1); retry shortly"
    )
    assert isinstance(started, Rejected) and started.reason is Reason.NOT_FOUND
