"""The waiting room round-trips through Postgres exactly, and Postgres refuses a stale or
impossible write: real Postgres, the service role, one new event per test."""

import uuid

import asyncpg
import pytest

from engine.waiting_room import apply as waiting_room
from engine.waiting_room.changes import AccessEnded, AccessEndReason, FansJoined
from engine.waiting_room.commands import (
    AdmitFans,
    ChangeWaitingRoomSettings,
    EndAccess,
    ExpireAccess,
    JoinFans,
    OpenWaitingRoom,
    RecordPolls,
    WaitingRoomCommand,
)
from engine.waiting_room.decide import decide
from engine.waiting_room.rows import rebuild_waiting_room, snapshot_waiting_room
from engine.waiting_room.state import PlaceState, WaitingRoom
from persistence.tenancy import tenant_transaction
from persistence.waiting_room_reads import UnknownWaitingRoom, load_waiting_room
from persistence.waiting_room_writes import (
    StaleWaitingRoomEpoch,
    WaitingRoomConflict,
    take_waiting_room_epoch,
    write_waiting_room_changes,
)
from tests.persistence.builders import INSERT_EVENT, INSERT_VENUE, create_tenant

DRAW_SEED_ABOVE_SIGNED_64_BITS = (1 << 63) + 12_345
ACCESS_TTL_MS = 900_000


async def new_event(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> tuple[uuid.UUID, uuid.UUID]:
    tenant_id = await create_tenant(owner_connection, f"Tenant {uuid.uuid4().hex[:8]}")
    async with tenant_transaction(service_pool, tenant_id) as connection:
        venue_id = await connection.fetchval(INSERT_VENUE, tenant_id)
        event_id: uuid.UUID = await connection.fetchval(INSERT_EVENT, tenant_id, venue_id)
    return tenant_id, event_id


async def open_room(
    service_pool: asyncpg.Pool, tenant_id: uuid.UUID, event_id: uuid.UUID
) -> tuple[int, WaitingRoom]:
    async with tenant_transaction(service_pool, tenant_id) as connection:
        epoch = await take_waiting_room_epoch(connection, event_id=event_id, holder="test")
        room_row, place_rows = await load_waiting_room(connection, event_id=event_id)
    return epoch, rebuild_waiting_room(room_row, place_rows)


async def commit(
    service_pool: asyncpg.Pool,
    tenant_id: uuid.UUID,
    room: WaitingRoom,
    epoch: int,
    commands: list[WaitingRoomCommand],
    now_ms: int,
) -> None:
    """Decide and apply `commands` as one batch, then write the batch in one transaction."""
    changes = []
    for command in commands:
        decision = decide(room, command, now_ms)
        assert isinstance(decision, list), decision
        for change in decision:
            waiting_room.apply(room, change)
        changes.extend(decision)
    async with tenant_transaction(service_pool, tenant_id) as connection:
        await write_waiting_room_changes(
            connection,
            tenant_id=tenant_id,
            event_id=uuid.UUID(room.settings.event_id),
            epoch=epoch,
            room=room,
            changes=changes,
        )


async def load(
    service_pool: asyncpg.Pool, tenant_id: uuid.UUID, event_id: uuid.UUID
) -> tuple[object, object]:
    async with tenant_transaction(service_pool, tenant_id) as connection:
        return await load_waiting_room(connection, event_id=event_id)


async def test_room_rebuilds_exactly_when_every_change_kind_was_written(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> None:
    tenant_id, event_id = await new_event(service_pool, owner_connection)
    epoch, room = await open_room(service_pool, tenant_id, event_id)
    opens_at_ms = room.settings.opens_at_ms
    fans = [f"fan-{number}" for number in range(8)]

    steps: list[tuple[int, list[WaitingRoomCommand]]] = [
        (
            opens_at_ms - 10_000,
            [JoinFans(fan_ids=fans[:5]), ChangeWaitingRoomSettings(admit_per_second=2)],
        ),
        (
            opens_at_ms - 9_500,
            [JoinFans(fan_ids=["presale-1", fans[2]], presale_fan_ids=["presale-1", fans[2]])],
        ),
        (
            opens_at_ms - 9_000,
            [JoinFans(fan_ids=[fans[0]]), RecordPolls(fan_ids=[fans[1]]), AdmitFans()],
        ),
        (opens_at_ms, [JoinFans(fan_ids=["late-1"])]),
        (
            opens_at_ms + 10,
            [
                JoinFans(fan_ids=["late-2"]),
                OpenWaitingRoom(draw_seed=DRAW_SEED_ABOVE_SIGNED_64_BITS),
                JoinFans(fan_ids=["late-3"]),
            ],
        ),
        (opens_at_ms + 1_000, [JoinFans(fan_ids=fans[5:]), AdmitFans()]),
        (opens_at_ms + 1_500, [EndAccess(fan_ids=fans), RecordPolls(fan_ids=fans[5:])]),
        (opens_at_ms + 2_000, [AdmitFans(), ChangeWaitingRoomSettings(admit_per_second=3)]),
        (opens_at_ms + 1_000 + ACCESS_TTL_MS, [ExpireAccess(), AdmitFans()]),
    ]
    for now_ms, commands in steps:
        await commit(service_pool, tenant_id, room, epoch, commands, now_ms)
        assert await load(service_pool, tenant_id, event_id) == snapshot_waiting_room(room)

    room_row, place_rows = await load(service_pool, tenant_id, event_id)
    assert room_row.draw_seed == DRAW_SEED_ABOVE_SIGNED_64_BITS
    assert {place.state for place in place_rows} == {PlaceState.ADMITTED, PlaceState.EXPIRED}
    assert any(place.admitted_at_ms is not None for place in place_rows)
    assert any(
        place.state is PlaceState.EXPIRED and place.admitted_at_ms is None for place in place_rows
    )
    rebuilt = rebuild_waiting_room(room_row, place_rows)
    assert snapshot_waiting_room(rebuilt) == snapshot_waiting_room(room)


async def test_commit_is_refused_when_a_newer_epoch_was_taken(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> None:
    tenant_id, event_id = await new_event(service_pool, owner_connection)
    stale_epoch, room = await open_room(service_pool, tenant_id, event_id)
    newer_epoch, _ = await open_room(service_pool, tenant_id, event_id)
    before = await load(service_pool, tenant_id, event_id)

    with pytest.raises(StaleWaitingRoomEpoch):
        await commit(service_pool, tenant_id, room, stale_epoch, [JoinFans(fan_ids=["fan-1"])], 0)

    assert newer_epoch == stale_epoch + 1
    assert await load(service_pool, tenant_id, event_id) == before


async def test_batch_is_refused_when_a_place_is_not_in_the_state_it_leaves(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> None:
    tenant_id, event_id = await new_event(service_pool, owner_connection)
    epoch, room = await open_room(service_pool, tenant_id, event_id)
    now_ms = room.settings.opens_at_ms + 1_000
    await commit(service_pool, tenant_id, room, epoch, [JoinFans(fan_ids=["fan-1"])], now_ms)
    ended = AccessEnded(ended_at_ms=now_ms, sequences=[0], reason=AccessEndReason.FINISHED)
    async with tenant_transaction(service_pool, tenant_id) as connection:
        await write_waiting_room_changes(
            connection,
            tenant_id=tenant_id,
            event_id=event_id,
            epoch=epoch,
            room=room,
            changes=[ended],
        )
    after_first_end = await load(service_pool, tenant_id, event_id)

    with pytest.raises(WaitingRoomConflict):
        async with tenant_transaction(service_pool, tenant_id) as connection:
            await write_waiting_room_changes(
                connection,
                tenant_id=tenant_id,
                event_id=event_id,
                epoch=epoch,
                room=room,
                changes=[ended],
            )

    assert await load(service_pool, tenant_id, event_id) == after_first_end


async def test_second_place_is_refused_when_the_fan_already_has_one(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> None:
    tenant_id, event_id = await new_event(service_pool, owner_connection)
    epoch, room = await open_room(service_pool, tenant_id, event_id)
    now_ms = room.settings.opens_at_ms + 1_000
    await commit(service_pool, tenant_id, room, epoch, [JoinFans(fan_ids=["fan-1"])], now_ms)
    joined_again = FansJoined(
        joined_at_ms=now_ms, first_sequence=1, fan_ids=["fan-1"], into_pre_queue=False
    )
    # A room that wrongly took the fan again, as a faulty decision would leave it.
    wrong_room = rebuild_waiting_room(*snapshot_waiting_room(room))
    waiting_room.apply(wrong_room, joined_again)

    with pytest.raises(asyncpg.UniqueViolationError):
        async with tenant_transaction(service_pool, tenant_id) as connection:
            await write_waiting_room_changes(
                connection,
                tenant_id=tenant_id,
                event_id=event_id,
                epoch=epoch,
                room=wrong_room,
                changes=[joined_again],
            )

    _, place_rows = await load(service_pool, tenant_id, event_id)
    assert [place.fan_id for place in place_rows] == ["fan-1"]


async def test_room_is_unknown_when_the_event_belongs_to_another_tenant(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> None:
    _, event_id = await new_event(service_pool, owner_connection)
    other_tenant_id = await create_tenant(owner_connection, "Other")

    async with tenant_transaction(service_pool, other_tenant_id) as connection:
        with pytest.raises(UnknownWaitingRoom):
            await take_waiting_room_epoch(connection, event_id=event_id, holder="test")
        with pytest.raises(UnknownWaitingRoom):
            await load_waiting_room(connection, event_id=event_id)
