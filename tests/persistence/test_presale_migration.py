"""Migration 0025 on rooms written before it: pre-queue places lose their slots, the places of a
room not yet drawn that joined after `opens_at` are numbered from 0, and an opened room keeps its
order, so each room rebuilds as it was."""

import pathlib
import shutil
import uuid

import asyncpg

from engine.waiting_room.apply import apply
from engine.waiting_room.commands import OpenWaitingRoom
from engine.waiting_room.decide import decide
from engine.waiting_room.rows import rebuild_waiting_room
from engine.waiting_room.state import WaitingRoom
from engine.waiting_room.views import PlaceView, describe_place
from persistence.migrate import MIGRATIONS_DIRECTORY, migrate
from persistence.waiting_room_reads import load_waiting_room
from tests.persistence.builders import INSERT_EVENT, INSERT_VENUE, create_tenant
from tests.persistence.migration_steps import migrations_before

PRESALE_MIGRATION = "0025_presale_queue.sql"
OPENS_AT_MS = 1_000_000

INSERT_ROOM = """
INSERT INTO waiting_rooms (event_id, tenant_id, epoch, holder, opens_at_ms, admit_per_second,
                           max_active_shoppers, access_ttl_s, pre_queue_count, pre_queue_closed,
                           draw_seed, opened_at_ms, head_slot)
VALUES ($1, $2, 1, 'before', $3, 50, 2000, 900, $4, true, $5, $6, $7)
"""

INSERT_PLACE = """
INSERT INTO waiting_room_places (tenant_id, event_id, sequence, fan_id, slot, state, last_seen_ms,
                                 admitted_at_ms, access_expires_at_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""


async def new_event(connection: asyncpg.Connection) -> tuple[uuid.UUID, uuid.UUID]:
    tenant_id = await create_tenant(connection, f"Tenant {uuid.uuid4().hex[:8]}")
    await connection.execute(
        "SELECT set_config('app.current_tenant_id', $1, false)", str(tenant_id)
    )
    venue_id = await connection.fetchval(INSERT_VENUE, tenant_id)
    event_id: uuid.UUID = await connection.fetchval(INSERT_EVENT, tenant_id, venue_id)
    return tenant_id, event_id


async def rebuilt(
    connection: asyncpg.Connection, tenant_id: uuid.UUID, event_id: uuid.UUID
) -> WaitingRoom:
    await connection.execute(
        "SELECT set_config('app.current_tenant_id', $1, false)", str(tenant_id)
    )
    return rebuild_waiting_room(*await load_waiting_room(connection, event_id=event_id))


def view(room: WaitingRoom, fan_id: str) -> PlaceView:
    place = describe_place(room, fan_id, OPENS_AT_MS, access_secret=b"k" * 32)
    assert isinstance(place, PlaceView), place
    return place


async def test_rooms_rebuild_in_their_order_when_written_before_the_presale_migration(
    empty_database_url: str, tmp_path: pathlib.Path
) -> None:
    directory = migrations_before(tmp_path, PRESALE_MIGRATION)
    await migrate(empty_database_url, directory=directory)
    connection = await asyncpg.connect(empty_database_url)
    try:
        undrawn_tenant, undrawn = await new_event(connection)
        await connection.execute(
            INSERT_ROOM, undrawn, undrawn_tenant, OPENS_AT_MS, 2, None, None, 0
        )
        for sequence, state in enumerate(["pre_queue", "pre_queue", "waiting"]):
            await connection.execute(
                INSERT_PLACE,
                undrawn_tenant,
                undrawn,
                sequence,
                f"fan-{sequence}",
                sequence,
                state,
                OPENS_AT_MS,
                None,
                None,
            )
        opened_tenant, opened = await new_event(connection)
        await connection.execute(
            INSERT_ROOM, opened, opened_tenant, OPENS_AT_MS, 2, 7, OPENS_AT_MS, 1
        )
        for sequence, slot, state in [(0, 1, "waiting"), (1, 0, "admitted")]:
            admitted_at_ms = OPENS_AT_MS if state == "admitted" else None
            await connection.execute(
                INSERT_PLACE,
                opened_tenant,
                opened,
                sequence,
                f"fan-{sequence}",
                slot,
                state,
                OPENS_AT_MS,
                admitted_at_ms,
                None if admitted_at_ms is None else OPENS_AT_MS + 900_000,
            )

        shutil.copy(MIGRATIONS_DIRECTORY / PRESALE_MIGRATION, directory / PRESALE_MIGRATION)
        assert await migrate(empty_database_url, directory=directory) == [PRESALE_MIGRATION]
        undrawn_room = await rebuilt(connection, undrawn_tenant, undrawn)
        opened_room = await rebuilt(connection, opened_tenant, opened)
    finally:
        await connection.close()

    assert list(undrawn_room.slot_of_sequence) == [-1, -1, 0]
    assert view(undrawn_room, "fan-2").position == 2
    drawn = decide(undrawn_room, OpenWaitingRoom(draw_seed=3), OPENS_AT_MS)
    assert isinstance(drawn, list)
    for change in drawn:
        apply(undrawn_room, change)
    assert undrawn_room.slot_of_sequence[2] == 2
    assert view(undrawn_room, "fan-2").position == 2
    assert list(opened_room.slot_of_sequence) == [1, 0]
    assert view(opened_room, "fan-0").position == 0
