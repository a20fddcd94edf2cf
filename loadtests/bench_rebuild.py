"""B4: how long an InventoryActor takes to rebuild an event after a kill, from Postgres.

Seeds a fresh database (embedded Postgres in a temporary directory unless DATABASE_URL is set) with
an event of 50,000 seats and 10,000 active holds, written through the engine and `write_changes`
as the actor writes them, plus sales and idempotency records. The figure is the median over a few
runs of `load_inventory_rows` then `Inventory.rebuild`, and the rebuilt inventory must equal the
one that wrote the rows.
"""

import asyncio
import datetime
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

from embedded.postgres_part import EmbeddedPostgres
from engine.changes import Change
from engine.commands import Command, ConvertHold, HoldSeats, ItemRequest, PlaceHold
from engine.inventory.apply import execute
from engine.inventory.configuration import TicketKind
from engine.inventory.decision import Decision
from engine.inventory.state import Inventory
from persistence.epochs import fenced_transaction, take_epoch
from persistence.event_configuration import load_inventory_configuration
from persistence.event_repository import (
    NewEvent,
    NewRow,
    NewSection,
    NewTicketType,
    WaitingRoomSettings,
    create_event,
)
from persistence.inventory_reads import load_inventory_rows
from persistence.inventory_writes import write_changes
from persistence.migrate import migrate
from persistence.pool import create_pool, service_url
from persistence.scratch_databases import create_database, drop_database
from persistence.tenancy import tenant_transaction

TARGET_REBUILD_S = 2.0
SECTIONS = 20
ROWS_PER_SECTION = 50
SEATS_PER_ROW = 50
GENERAL_CAPACITY = 100_000
ACTIVE_SEAT_HOLDS = 6_000
ACTIVE_GENERAL_HOLDS = 4_000
CONVERTED_HOLDS = 2_000
SEATS_PER_HOLD_MAX = 4
CHANGES_PER_BATCH = 500
REBUILD_RUNS = 3
OPENS_AT = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
NOW_MS = int(OPENS_AT.timestamp() * 1_000) + 60_000


def bench_event() -> NewEvent:
    return NewEvent(
        name="Stadium Night",
        starts_at=OPENS_AT + datetime.timedelta(days=30),
        ends_at=OPENS_AT + datetime.timedelta(days=30, hours=3),
        currency="USD",
        opens_at=OPENS_AT,
        closes_at=OPENS_AT + datetime.timedelta(days=7),
        hold_ttl_s=3_600,
        max_tickets_per_user=6,
        waiting_room=WaitingRoomSettings(
            enabled=True, admit_per_second=500, max_active_shoppers=20_000, access_ttl_s=900
        ),
        ticket_types=(
            NewTicketType(
                key="GA",
                name="General Admission",
                kind=TicketKind.GENERAL,
                price_cents=5_000,
                capacity=GENERAL_CAPACITY,
            ),
            NewTicketType(key="RES", name="Reserved", kind=TicketKind.SEATED, price_cents=8_000),
        ),
        sections=tuple(
            NewSection(
                section_id=f"{100 + section}",
                ticket_type_key="RES",
                rows=tuple(
                    NewRow(row_id=f"R{row}", seats=SEATS_PER_ROW) for row in range(ROWS_PER_SECTION)
                ),
            )
            for section in range(SECTIONS)
        ),
    )


def seeding_commands(inventory: Inventory, general_ticket_type_id: str) -> list[Command]:
    """Seat holds of one to four adjacent seats, general holds, and holds that convert."""
    commands: list[Command] = []
    seat_map = inventory.seat_map
    seat_index = 0
    for number in range(ACTIVE_SEAT_HOLDS + CONVERTED_HOLDS):
        size = 1 + number % SEATS_PER_HOLD_MAX
        row_end = next(
            start + length
            for start, length in zip(seat_map.row_starts, seat_map.row_lengths, strict=True)
            if start <= seat_index < start + length
        )
        if seat_index + size > row_end:
            seat_index = row_end
        hold_id = str(uuid.UUID(int=number + 1))
        commands.append(
            HoldSeats(
                new_hold_id=hold_id,
                fan_id=f"fan-{number}",
                seats=seat_map.labels(range(seat_index, seat_index + size)),
                idempotency_key=f"hold-{number}",
            )
        )
        if number < CONVERTED_HOLDS:
            commands.append(
                ConvertHold(hold_id=hold_id, new_order_id=str(uuid.UUID(int=10**9 + number)))
            )
        seat_index += size + 1
    for number in range(ACTIVE_GENERAL_HOLDS):
        commands.append(
            PlaceHold(
                new_hold_id=str(uuid.UUID(int=10**6 + number)),
                fan_id=f"general-fan-{number}",
                items=(ItemRequest(ticket_type_id=general_ticket_type_id, quantity=2),),
                idempotency_key=f"general-{number}",
            )
        )
    return commands


async def seed(owner_url: str, pool: asyncpg.Pool) -> tuple[uuid.UUID, uuid.UUID, Inventory, float]:
    """Create the event and write its holds; return its tenant, id, inventory and seconds spent."""
    owner = await asyncpg.connect(owner_url)
    try:
        tenant_id = await owner.fetchval("INSERT INTO tenants (name) VALUES ('Bench') RETURNING id")
    finally:
        await owner.close()
    async with tenant_transaction(pool, tenant_id) as connection:
        venue_id = await connection.fetchval(
            "INSERT INTO venues (tenant_id, name) VALUES ($1, 'Stadium') RETURNING id", tenant_id
        )
        created = await create_event(
            connection, tenant_id=tenant_id, venue_id=venue_id, event=bench_event()
        )
        epoch = await take_epoch(
            connection, tenant_id=tenant_id, event_id=created.event_id, holder="bench"
        )
        configuration = await load_inventory_configuration(connection, event_id=created.event_id)
    inventory = Inventory(configuration)
    general_ticket_type_id = str(created.ticket_types[0].ticket_type_id)

    async def write(batch: list[Change]) -> None:
        async with fenced_transaction(
            pool, tenant_id=tenant_id, event_id=created.event_id, epoch=epoch
        ) as fenced:
            await write_changes(fenced, changes=batch, now_ms=NOW_MS)

    started = time.perf_counter()
    changes: list[Change] = []
    for command in seeding_commands(inventory, general_ticket_type_id):
        decision = execute(inventory, command, NOW_MS)
        assert isinstance(decision, Decision), decision
        changes.extend(decision.changes)
        if len(changes) >= CHANGES_PER_BATCH:
            await write(changes)
            changes = []
    await write(changes)
    return tenant_id, created.event_id, inventory, time.perf_counter() - started


async def time_rebuild(
    pool: asyncpg.Pool, tenant_id: uuid.UUID, event_id: uuid.UUID, expected: Inventory
) -> tuple[float, float]:
    """Seconds to load the rows and seconds to rebuild from them."""
    started = time.perf_counter()
    async with tenant_transaction(pool, tenant_id) as connection:
        rows = await load_inventory_rows(connection, event_id=event_id)
    loaded = time.perf_counter()
    rebuilt = Inventory.rebuild(rows)
    finished = time.perf_counter()
    assert rebuilt == expected, "the rebuilt inventory differs from the one that wrote the rows"
    return loaded - started, finished - loaded


async def measure(owner_url: str) -> float:
    await migrate(owner_url)
    pool = await create_pool(service_url(owner_url), min_size=1, max_size=2)
    try:
        tenant_id, event_id, inventory, seed_s = await seed(owner_url, pool)
        counts = [inventory.ticket_type_counts(ticket_type) for ticket_type in inventory.counts]
        print(
            f"seeded {inventory.seat_map.seat_count} seats, {len(inventory.holds)} active holds, "
            f"{len(inventory.sales)} sales, {len(inventory.idempotency_records)} idempotency "
            f"records in {seed_s:.2f} s through write_changes"
        )
        for count in counts:
            print(f"  {count.ticket_type_id}: held {count.held} sold {count.sold}")
        totals: list[float] = []
        for run in range(REBUILD_RUNS):
            load_s, rebuild_s = await time_rebuild(pool, tenant_id, event_id, inventory)
            totals.append(load_s + rebuild_s)
            print(
                f"run {run + 1}: load_inventory_rows {load_s:.3f} s + Inventory.rebuild "
                f"{rebuild_s:.3f} s = {load_s + rebuild_s:.3f} s"
            )
        return statistics.median(totals)
    finally:
        await pool.close()


async def on_fresh_database(server_url: str) -> float:
    url = await create_database(server_url, "onsale_bench")
    try:
        return await measure(url)
    finally:
        await drop_database(server_url, url)


def main() -> int:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        rebuild_s = asyncio.run(on_fresh_database(configured))
    else:
        with tempfile.TemporaryDirectory(prefix="onsale-bench-") as directory:
            postgres = EmbeddedPostgres(Path(directory) / "postgres")
            try:
                rebuild_s = asyncio.run(on_fresh_database(postgres.start()))
            finally:
                postgres.stop()
    met = rebuild_s <= TARGET_REBUILD_S
    print(f"B4 rebuild_s={rebuild_s:.3f} target={TARGET_REBUILD_S} {'ok' if met else 'short'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
