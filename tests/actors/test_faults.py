"""Faults heal without a hand, on real Ray and Postgres: a loop meeting asyncpg's
InternalClientError (what a Postgres shutdown in the middle of a query raises) answers UNAVAILABLE
and goes on; a loop meeting what it does not expect crashes its actor, which Ray restarts from
Postgres; the Supervisor's watchdog restarts an actor that stopped answering or moving, and a
dispatcher whose loop stopped turning."""

import asyncio
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest
import ray

import actors.inventory_actor
import actors.outbox_dispatcher
import actors.waiting_room_actor
import actors.watchdog
from actors.inventory_actor import InventoryActor
from actors.inventory_client import InventoryClient
from actors.inventory_wire import COMMANDS_ENCODER, RESULTS_DECODER
from actors.names import NAMESPACE, inventory_actor_name
from actors.outbox_dispatcher import OutboxDispatcher
from actors.placement import per_event
from actors.supervisor import Supervisor
from engine import limits
from engine.commands import Command, ItemRequest, PlaceHold
from engine.outcomes import HoldView
from engine.rejections import Reason, Rejected
from engine.waiting_room.views import PlaceView
from loadtests.seeding import event_on_sale_now, seed_event
from persistence.event_repository import CreatedEvent, WaitingRoomSettings
from persistence.pool import service_url
from tests.persistence.builders import create_tenant

pytestmark = pytest.mark.usefixtures("ray_cluster")
INTERNAL_CLIENT_ERROR = asyncpg.exceptions.InternalClientError(
    "cannot switch to state 15; another operation (state 12) is in progress"
)
HANG = "fan-hang"
BLOCK = "fan-block"
CRASH = "fan-crash"
WAIT_S = 30.0
POLL_S = 0.05


class FaultyInventory(InventoryActor):
    """An InventoryActor whose decisions misbehave on purpose for one fan: hang forever (the loop
    awaits), block its event loop (a call that never returns), or fail (a bug)."""

    async def _decide(self, batch: list[Any], decided: Any) -> Any:
        fans = {
            getattr(command, "fan_id", None) for request in batch for command in request.commands
        }
        if HANG in fans:
            await asyncio.Event().wait()
        if BLOCK in fans:
            # blocking the actor's event loop is the fault under test
            time.sleep(3_600)  # noqa: ASYNC251
        if CRASH in fans:
            raise RuntimeError("a bug in deciding")
        return await super()._decide(batch, decided)


def hold(event: CreatedEvent, fan: str, *, keyed: bool = True) -> PlaceHold:
    general = next(str(t.ticket_type_id) for t in event.ticket_types if t.key == "GA")
    return PlaceHold(
        new_hold_id=str(uuid.uuid4()),
        fan_id=fan,
        items=(ItemRequest(ticket_type_id=general, quantity=1),),
        idempotency_key=str(uuid.uuid4()) if keyed else None,
    )


def failing_once(real: Callable[..., Any]) -> Callable[..., Any]:
    """`real`, except that its first call raises InternalClientError."""
    calls = 0

    async def call(*arguments: object, **keywords: object) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise INTERNAL_CLIENT_ERROR
        return await real(*arguments, **keywords)

    return call


async def until(check: Callable[[], Any], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(POLL_S)
    raise AssertionError(f"{what} never happened")


@pytest.fixture
async def event(migrated_database_url: str) -> CreatedEvent:
    _, created = await seed_event(migrated_database_url, event_on_sale_now(general_capacity=50))
    return created


@pytest.fixture
async def faulty(migrated_database_url: str, event: CreatedEvent) -> AsyncIterator[str]:
    """The event's InventoryActor is a FaultyInventory, found by its usual name."""
    name = inventory_actor_name(str(event.event_id))
    ray.remote(FaultyInventory).options(**per_event(name)).remote(
        event_id=str(event.event_id), database_url=service_url(migrated_database_url)
    )
    yield name
    ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=True)


@pytest.fixture
async def supervisor(migrated_database_url: str, redis_url: str) -> AsyncIterator[Supervisor]:
    supervisor = Supervisor(
        database_url=service_url(migrated_database_url),
        redis_url=redis_url,
        access_secret=secrets.token_bytes(32),
    )
    yield supervisor
    await supervisor.close()


async def test_a_commit_meeting_an_internal_client_error_is_unavailable_and_the_loop_goes_on(
    migrated_database_url: str, event: CreatedEvent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        actors.inventory_actor,
        "write_planned",
        failing_once(actors.inventory_actor.write_planned),
    )
    actor = InventoryActor(
        event_id=str(event.event_id), database_url=service_url(migrated_database_url)
    )
    try:
        first = await submit(actor, hold(event, "fan-1"))
        second = await submit(actor, hold(event, "fan-2"))
    finally:
        await actor.close()

    assert isinstance(first, Rejected) and first.reason is Reason.UNAVAILABLE
    assert isinstance(second, HoldView)


async def test_the_inventory_rebuild_goes_on_when_it_meets_an_internal_client_error(
    migrated_database_url: str, event: CreatedEvent, monkeypatch: pytest.MonkeyPatch
) -> None:
    actor = InventoryActor(
        event_id=str(event.event_id), database_url=service_url(migrated_database_url)
    )
    try:
        assert isinstance(await submit(actor, hold(event, "fan-1")), HoldView)
        monkeypatch.setattr(
            actors.inventory_actor,
            "write_planned",
            failing_once(actors.inventory_actor.write_planned),
        )
        monkeypatch.setattr(
            actors.inventory_actor,
            "load_inventory_rows",
            failing_once(actors.inventory_actor.load_inventory_rows),
        )
        refused_commit = await submit(actor, hold(event, "fan-2"))
        refused_rebuild = await submit(actor, hold(event, "fan-3"))
        served = await submit(actor, hold(event, "fan-4"))
    finally:
        await actor.close()

    assert [result.reason for result in (refused_commit, refused_rebuild)] == [
        Reason.UNAVAILABLE,
        Reason.UNAVAILABLE,
    ]
    assert isinstance(served, HoldView)


async def test_the_waiting_room_loop_goes_on_when_a_commit_meets_an_internal_client_error(
    migrated_database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, event = await seed_event(
        migrated_database_url,
        event_on_sale_now(
            general_capacity=10,
            waiting_room=WaitingRoomSettings(
                enabled=True, admit_per_second=10, max_active_shoppers=10, access_ttl_s=600
            ),
        ),
    )
    monkeypatch.setattr(
        actors.waiting_room_actor,
        "write_waiting_room_changes",
        failing_once(actors.waiting_room_actor.write_waiting_room_changes),
    )
    room = actors.waiting_room_actor.WaitingRoomActor(
        event_id=str(event.event_id),
        database_url=service_url(migrated_database_url),
        redis_url=redis_url,
        access_secret=secrets.token_bytes(32),
    )
    try:
        await room.ready()
        joined: list[Any] = []

        async def fan_joined() -> bool:
            [answer] = await room.join(["fan-1"])
            joined.append(answer)
            return isinstance(answer, PlaceView)

        await until(fan_joined, "a join after the failed commit")
    finally:

        async def room_retired() -> bool:
            """The fan's access ended (once admitted), the room empty and retired, so its
            loops stop with this test."""
            await room.end_access(["fan-1"])
            return await room.retire(0)

        await until(room_retired, "the room's retirement")

    assert isinstance(joined[-1], PlaceView)


async def test_the_dispatcher_delivers_on_when_its_round_meets_an_internal_client_error(
    migrated_database_url: str,
    owner_connection: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant_id = await create_tenant(owner_connection, "A")
    await owner_connection.execute(
        "insert into outbox (tenant_id, topic, aggregate_id, payload) "
        "values ($1, 'holds.expired', 'hold-1', '{}')",
        tenant_id,
    )
    monkeypatch.setattr(
        actors.outbox_dispatcher,
        "due_messages",
        failing_once(actors.outbox_dispatcher.due_messages),
    )
    monkeypatch.setattr(
        actors.outbox_dispatcher,
        "tenants_with_due_messages",
        failing_once(actors.outbox_dispatcher.tenants_with_due_messages),
    )
    dispatcher = OutboxDispatcher(
        database_url=service_url(migrated_database_url), routes={"holds.expired": ()}
    )
    await dispatcher.start()
    try:

        async def delivered() -> bool:
            status = await owner_connection.fetchval("select status from outbox")
            return bool(status == "dispatched")

        await until(delivered, "the delivery after two failed rounds")
    finally:
        await dispatcher.close()


async def test_a_stuck_dispatcher_is_replaced_and_the_new_one_delivers(
    supervisor: Supervisor,
    owner_connection: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant_id = await create_tenant(owner_connection, "A")
    await owner_connection.execute(
        "insert into outbox (tenant_id, topic, aggregate_id, payload) "
        "values ($1, 'holds.expired', 'hold-1', '{}')",
        tenant_id,
    )
    real = actors.outbox_dispatcher.tenants_with_due_messages
    calls = 0

    async def hanging_first(connection: asyncpg.Connection) -> list[uuid.UUID]:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.Event().wait()
        return await real(connection)

    monkeypatch.setattr(actors.outbox_dispatcher, "tenants_with_due_messages", hanging_first)
    monkeypatch.setattr(limits, "DISPATCHER_STALLED_MAX_MS", 200)
    monkeypatch.setattr(limits, "SUPERVISOR_ROUND_INTERVAL_MS", 100)
    await supervisor.start()

    async def delivered() -> bool:
        status = await owner_connection.fetchval("select status from outbox")
        return bool(status == "dispatched")

    await until(delivered, "the replacing dispatcher's delivery")
    assert calls >= 2


async def test_an_inventory_that_stops_answering_is_restarted_by_the_watchdog(
    migrated_database_url: str,
    event: CreatedEvent,
    faulty: str,
    supervisor: Supervisor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(actors.watchdog, "CALL_TIMEOUT_S", 1.0)
    client = InventoryClient(str(event.event_id), service_url(migrated_database_url))
    warm = await client.execute(hold(event, "fan-0"))
    assert isinstance(warm, HoldView)
    blocked = asyncio.create_task(client.execute(hold(event, BLOCK, keyed=False)))
    await asyncio.sleep(0.5)

    report = await supervisor.supervise_round()
    answer = await blocked
    after = await client.execute(hold(event, "fan-1"))

    assert report.restarted == 1
    assert isinstance(answer, Rejected) and answer.reason is Reason.UNAVAILABLE
    assert isinstance(after, HoldView)
    stats = await ray.get_actor(faulty, namespace=NAMESPACE).stats.remote()
    assert stats.epoch == 2


async def test_an_inventory_whose_requests_wait_unanswered_is_restarted_by_the_watchdog(
    migrated_database_url: str,
    event: CreatedEvent,
    faulty: str,
    supervisor: Supervisor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(limits, "ACTOR_STALLED_MAX_MS", 500)
    client = InventoryClient(str(event.event_id), service_url(migrated_database_url))
    hanging = asyncio.create_task(client.execute(hold(event, HANG, keyed=False)))

    async def stalled() -> bool:
        stats = await ray.get_actor(faulty, namespace=NAMESPACE).stats.remote()
        return bool(stats.stalled_for_ms > limits.ACTOR_STALLED_MAX_MS)

    await until(stalled, "the hanging request to stall the actor")

    report = await supervisor.supervise_round()
    answer = await hanging
    after = await client.execute(hold(event, "fan-1"))

    assert report.restarted == 1
    assert isinstance(answer, Rejected) and answer.reason is Reason.UNAVAILABLE
    assert isinstance(after, HoldView)


async def test_an_inventory_whose_loop_fails_crashes_and_ray_restarts_it_from_postgres(
    migrated_database_url: str, event: CreatedEvent, faulty: str
) -> None:
    client = InventoryClient(str(event.event_id), service_url(migrated_database_url))
    before = await client.execute(hold(event, "fan-0"))
    assert isinstance(before, HoldView)

    crashed = await client.execute(hold(event, CRASH, keyed=False))
    after = await client.execute(hold(event, "fan-1"))

    assert isinstance(crashed, Rejected) and crashed.reason is Reason.UNAVAILABLE
    assert isinstance(after, HoldView)
    stats = await ray.get_actor(faulty, namespace=NAMESPACE).stats.remote()
    assert stats.epoch == 2
    assert await ray.get_actor(faulty, namespace=NAMESPACE).reconcile.remote() == []


async def submit(actor: InventoryActor, command: Command) -> HoldView | Rejected:
    [result] = RESULTS_DECODER.decode(await actor.submit(COMMANDS_ENCODER.encode([command])))
    assert isinstance(result, HoldView | Rejected)
    return result
