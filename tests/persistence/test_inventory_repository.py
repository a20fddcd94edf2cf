"""The group commit and the rebuild agree: what `write_changes` records, `load_inventory_rows` reads
back into an inventory equal to the one that decided it; a batch that Postgres refuses leaves
nothing behind; the outbox rows commit with the changes they announce; a batch planned before its
transaction opens is written the same."""

import typing
import uuid

import asyncpg
import msgspec
import pytest

from engine import limits
from engine.changes import (
    Change,
    HoldConverted,
    HoldPlaced,
    HoldReleased,
    IdempotencyKeyRecorded,
    IdempotencyKeysForgotten,
    SaleCancelled,
    SeatsBlocked,
)
from engine.commands import (
    AddCodes,
    CancelSale,
    ChangeTicketTypeSales,
    Command,
    ConvertHold,
    ExpireHolds,
    HoldBestAvailable,
    HoldSeats,
    IssueComps,
    ItemRequest,
    JoinWaitList,
    PlaceHold,
    RefundOrder,
    ReleaseHold,
    ResumeSale,
    ReturnWithheldUnits,
    Withholding,
    WithholdUnits,
)
from engine.holds import Hold, HoldItem
from engine.inventory.apply import execute
from engine.inventory.decision import Decision
from engine.inventory.state import Inventory
from engine.simulation import Simulation
from engine.simulation_event import OPENS_AT_MS, simulation_configuration
from persistence.event_configuration import load_inventory_configuration
from persistence.inventory_outbox import InventoryChangeMessage
from persistence.inventory_reads import load_inventory_rows
from persistence.inventory_rows import plan_changes
from persistence.inventory_writes import InventoryConflict, write_changes, write_planned
from persistence.tenancy import tenant_transaction
from tests.persistence.builders import (
    CreatedEventOfTenant,
    create_event_of_new_tenant,
    fenced_writer,
    simulation_event,
)

ROUND_TRIP_SEEDS = (1, 2, 4, 9)
ROUND_TRIP_BATCHES = 60
COMMANDS_PER_BATCH_MAX = 6
COMPARE_EVERY_BATCHES = 10
RESUME_WHEN_PAUSED_PERCENT = 30
NOW_MS = OPENS_AT_MS + 1_000
# Creating an event gives it epoch 0; these tests write as its first writer.
EPOCH = 0

OUTBOX_MESSAGE_DECODER = msgspec.json.Decoder(InventoryChangeMessage)


class PersistedSimulation(Simulation):
    """`engine.simulation`'s command mix on an inventory read from Postgres: ids are UUIDs."""

    def __init__(self, seed: int, inventory: Inventory, ticket_type_ids: dict[str, str]) -> None:
        super().__init__(seed)
        self.inventory = inventory
        self.ticket_type_ids = ticket_type_ids

    def next_id(self, prefix: str) -> str:
        self.serial += 1
        if prefix == "key":
            return f"key-{self.seed}-{self.serial}"
        return str(uuid.UUID(int=(self.seed << 64) | self.serial))

    def pick_command(self) -> Command:
        """The simulation's pick, but a paused sale soon resumes, so most batches sell."""
        if self.inventory.paused and self.generator.chance(RESUME_WHEN_PAUSED_PERCENT):
            return ResumeSale()
        return super().pick_command()

    def translated(self, command: Command) -> Command:
        """The command with the simulation's ticket type keys replaced by the event's ids."""
        ticket_type_ids = self.ticket_type_ids

        def items(requests: tuple[ItemRequest, ...]) -> tuple[ItemRequest, ...]:
            return tuple(
                ItemRequest(
                    ticket_type_id=ticket_type_ids.get(item.ticket_type_id, item.ticket_type_id),
                    quantity=item.quantity,
                )
                for item in requests
            )

        match command:
            case PlaceHold() | IssueComps():
                return msgspec.structs.replace(command, items=items(command.items))
            case HoldBestAvailable() | WithholdUnits() | ReturnWithheldUnits():
                ticket_type_id = ticket_type_ids.get(command.ticket_type_id, command.ticket_type_id)
                return msgspec.structs.replace(command, ticket_type_id=ticket_type_id)
            case ChangeTicketTypeSales(patches=patches):
                return ChangeTicketTypeSales(
                    patches=tuple(
                        msgspec.structs.replace(
                            patch,
                            ticket_type_id=ticket_type_ids.get(
                                patch.ticket_type_id, patch.ticket_type_id
                            ),
                        )
                        for patch in patches
                    )
                )
            case AddCodes(new_codes=codes):
                return msgspec.structs.replace(
                    command,
                    new_codes=tuple(
                        msgspec.structs.replace(
                            code,
                            applies_to=tuple(
                                ticket_type_ids.get(key, key) for key in code.applies_to
                            ),
                        )
                        for code in codes
                    ),
                )
            case JoinWaitList(ticket_type_id=str(key)):
                return msgspec.structs.replace(
                    command, ticket_type_id=ticket_type_ids.get(key, key)
                )
            case _:
                return command

    def next_batch(self) -> list[Change]:
        changes: list[Change] = []
        for _ in range(self.generator.between(1, COMMANDS_PER_BATCH_MAX)):
            self.advance_clock()
            command = self.translated(self.pick_command())
            result = execute(self.inventory, command, self.now_ms)
            if not isinstance(result, Decision):
                continue
            changes.extend(result.changes)
            if any(isinstance(change, IdempotencyKeyRecorded) for change in result.changes):
                self.keyed_commands.append((command, result))
        return changes


async def snapshot_of(
    connection: asyncpg.Connection, event: CreatedEventOfTenant
) -> dict[str, object]:
    tables = (
        "holds",
        "hold_seats",
        "sales",
        "sale_items",
        "withheld_units",
        "inventory_idempotency_records",
        "wait_list_entries",
    )
    counts: dict[str, object] = {
        table: await connection.fetchval(
            f"SELECT count(*) FROM {table} WHERE event_id = $1", event.event_id
        )
        for table in tables
    }
    counts["hold_items"] = await connection.fetch(
        """
        SELECT id, item_ticket_type_ids, item_quantities, item_unit_prices_cents FROM holds
        WHERE event_id = $1 ORDER BY id
        """,
        event.event_id,
    )
    counts["outbox"] = await connection.fetchval(
        "SELECT count(*) FROM outbox WHERE tenant_id = $1", event.tenant_id
    )
    counts["seats"] = await connection.fetch(
        "SELECT label, state FROM seats WHERE event_id = $1 ORDER BY seat_index", event.event_id
    )
    counts["ticket_types"] = await connection.fetch(
        "SELECT id, held_quantity, sold_quantity FROM ticket_types WHERE event_id = $1 ORDER BY id",
        event.event_id,
    )
    return counts


async def write_batch(
    service_pool: asyncpg.Pool, event: CreatedEventOfTenant, changes: list[Change], now_ms: int
) -> None:
    async with fenced_writer(service_pool, event, EPOCH) as transaction:
        await write_changes(transaction, changes=changes, now_ms=now_ms)


async def stored_inventory(service_pool: asyncpg.Pool, event: CreatedEventOfTenant) -> Inventory:
    async with tenant_transaction(service_pool, event.tenant_id) as connection:
        rows = await load_inventory_rows(connection, event_id=event.event_id)
    return Inventory.rebuild(rows)


async def assert_stored_equals(
    service_pool: asyncpg.Pool, event: CreatedEventOfTenant, inventory: Inventory, seed: int
) -> None:
    async with tenant_transaction(service_pool, event.tenant_id) as connection:
        rows = await load_inventory_rows(connection, event_id=event.event_id)
        counts = await connection.fetch(
            "SELECT id::text AS id, held_quantity, sold_quantity FROM ticket_types "
            "WHERE event_id = $1",
            event.event_id,
        )
    assert rows == inventory.rows(), f"seed={seed}"
    rebuilt = Inventory.rebuild(rows)
    rebuilt.assert_consistent()
    assert rebuilt == inventory, f"seed={seed}"
    for row in counts:
        engine_counts = inventory.ticket_type_counts(row["id"])
        assert (row["held_quantity"], row["sold_quantity"]) == (
            engine_counts.held,
            engine_counts.sold,
        ), f"seed={seed} ticket type {row['id']}"


@pytest.fixture
async def event(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection
) -> CreatedEventOfTenant:
    return await create_event_of_new_tenant(service_pool, owner_connection, simulation_event())


async def in_memory_inventory(service_pool: asyncpg.Pool, event: CreatedEventOfTenant) -> Inventory:
    async with tenant_transaction(service_pool, event.tenant_id) as connection:
        configuration = await load_inventory_configuration(connection, event_id=event.event_id)
    return Inventory(configuration)


@pytest.mark.parametrize("seed", ROUND_TRIP_SEEDS)
async def test_rebuilt_inventory_equals_the_engines_when_random_batches_were_written(
    service_pool: asyncpg.Pool, event: CreatedEventOfTenant, seed: int
) -> None:
    simulation = PersistedSimulation(
        seed, await in_memory_inventory(service_pool, event), event.ticket_type_ids()
    )
    written = 0
    for batch in range(ROUND_TRIP_BATCHES):
        changes = simulation.next_batch()
        await write_batch(service_pool, event, changes, simulation.now_ms)
        written += len(changes)
        if batch % COMPARE_EVERY_BATCHES == COMPARE_EVERY_BATCHES - 1:
            await assert_stored_equals(service_pool, event, simulation.inventory, seed)

    assert written >= ROUND_TRIP_BATCHES, f"seed={seed}: too few changes to prove anything"
    await assert_stored_equals(service_pool, event, simulation.inventory, seed)


def test_round_trip_seeds_write_every_kind_of_change_but_forgotten_keys_when_simulated() -> None:
    kinds: set[type] = set()
    for seed in ROUND_TRIP_SEEDS:
        simulation = PersistedSimulation(seed, Inventory(simulation_configuration()), {})
        for _ in range(ROUND_TRIP_BATCHES):
            kinds.update(type(change) for change in simulation.next_batch())

    # A cancellation ends the sale for good, so the simulation never makes one: the test below
    # writes it.
    assert kinds == set(typing.get_args(Change)) - {IdempotencyKeysForgotten, SaleCancelled}


def decided(inventory: Inventory, command: Command, now_ms: int = NOW_MS) -> list[Change]:
    result = execute(inventory, command, now_ms)
    assert isinstance(result, Decision), result
    return list(result.changes)


async def test_every_kind_of_change_reads_back_when_written_in_one_batch(
    service_pool: asyncpg.Pool, event: CreatedEventOfTenant
) -> None:
    inventory = await in_memory_inventory(service_pool, event)
    ticket_type_ids = event.ticket_type_ids()
    hold_ids = [str(uuid.uuid4()) for _ in range(4)]
    order_ids = [str(uuid.uuid4()) for _ in range(2)]
    commands: list[Command] = [
        HoldSeats(new_hold_id=hold_ids[0], fan_id="fan-1", seats=("101-A-1", "101-A-2")),
        ReleaseHold(hold_id=hold_ids[0], fan_id="fan-1"),
        HoldSeats(new_hold_id=hold_ids[1], fan_id="fan-2", seats=("101-A-2", "101-A-3")),
        ConvertHold(hold_id=hold_ids[1], new_order_id=order_ids[0], idempotency_key="pay-1"),
        PlaceHold(
            new_hold_id=hold_ids[2],
            fan_id="fan-3",
            items=(ItemRequest(ticket_type_id=ticket_type_ids["GA"], quantity=3),),
        ),
        WithholdUnits(
            ticket_type_id=ticket_type_ids["GA"], quantity=5, withholding=Withholding.PRESS
        ),
        IssueComps(
            new_order_id=order_ids[1],
            fan_id="fan-9",
            allocation=Withholding.PRESS,
            items=(ItemRequest(ticket_type_id=ticket_type_ids["GA"], quantity=2),),
        ),
        HoldBestAvailable(
            new_hold_id=hold_ids[3],
            fan_id="fan-4",
            ticket_type_id=ticket_type_ids["BOX"],
            quantity=2,
        ),
    ]
    changes: list[Change] = []
    for command in commands:
        changes.extend(decided(inventory, command))

    await write_batch(service_pool, event, changes, NOW_MS)

    await assert_stored_equals(service_pool, event, inventory, 0)
    assert inventory.ticket_type_counts(ticket_type_ids["GA"]).withheld == 3


async def test_a_cancellation_reads_back_with_its_holds_released_when_written(
    service_pool: asyncpg.Pool, event: CreatedEventOfTenant
) -> None:
    inventory = await in_memory_inventory(service_pool, event)
    hold_id = str(uuid.uuid4())
    changes = decided(inventory, HoldSeats(new_hold_id=hold_id, fan_id="fan-1", seats=("101-A-1",)))
    await write_batch(service_pool, event, changes, NOW_MS)
    cancelled = decided(inventory, CancelSale(reason="the roof leaks"))

    await write_batch(service_pool, event, cancelled, NOW_MS)

    assert cancelled[-1] == SaleCancelled(reason="the roof leaks")
    await assert_stored_equals(service_pool, event, inventory, 0)
    async with tenant_transaction(service_pool, event.tenant_id) as connection:
        row = await connection.fetchrow(
            "SELECT status, cancellation_reason, cancelled_at IS NOT NULL AS dated FROM events "
            "WHERE id = $1",
            event.event_id,
        )
        topics = await connection.fetch(
            "SELECT topic FROM outbox WHERE topic = 'sale.cancelled' AND aggregate_id = $1",
            str(event.event_id),
        )
    assert dict(row) == {
        "status": "cancelled",
        "cancellation_reason": "the roof leaks",
        "dated": True,
    }
    assert len(topics) == 1


async def test_claim_of_a_released_seat_ends_when_another_hold_takes_it_in_a_later_batch(
    service_pool: asyncpg.Pool, event: CreatedEventOfTenant
) -> None:
    inventory = await in_memory_inventory(service_pool, event)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    await write_batch(
        service_pool,
        event,
        decided(inventory, HoldSeats(new_hold_id=first, fan_id="fan-1", seats=("102-A-1",))),
        NOW_MS,
    )
    changes = decided(inventory, ReleaseHold(hold_id=first, fan_id="fan-1"))
    changes += decided(inventory, HoldSeats(new_hold_id=second, fan_id="fan-2", seats=("102-A-1",)))
    await write_batch(service_pool, event, changes, NOW_MS)

    async with tenant_transaction(service_pool, event.tenant_id) as connection:
        claims = await connection.fetch(
            "SELECT hold_id::text AS hold_id, live FROM hold_seats WHERE event_id = $1",
            event.event_id,
        )
    assert {(row["hold_id"], row["live"]) for row in claims} == {(first, False), (second, True)}
    await assert_stored_equals(service_pool, event, inventory, 0)


def seat_hold(hold_id: str, seats: tuple[str, ...], ticket_type_id: str) -> HoldPlaced:
    return HoldPlaced(
        hold=Hold(
            hold_id=hold_id,
            fan_id="fan-9",
            items=(
                HoldItem(
                    ticket_type_id=ticket_type_id, quantity=len(seats), unit_price_cents=8_000
                ),
            ),
            seats=seats,
            expires_at_ms=NOW_MS + 60_000,
        )
    )


def general_hold(hold_id: str, quantity: int, ticket_type_id: str) -> HoldPlaced:
    return HoldPlaced(
        hold=Hold(
            hold_id=hold_id,
            fan_id="fan-8",
            items=(
                HoldItem(ticket_type_id=ticket_type_id, quantity=quantity, unit_price_cents=4_995),
            ),
            seats=(),
            expires_at_ms=NOW_MS + 60_000,
        )
    )


@pytest.mark.parametrize(
    ("bad_change", "error"),
    [
        ("seat_held_twice", (asyncpg.UniqueViolationError, InventoryConflict)),
        ("general_oversold", asyncpg.CheckViolationError),
        ("unknown_hold_released", InventoryConflict),
        ("held_seat_blocked", InventoryConflict),
    ],
)
async def test_nothing_of_the_batch_is_written_when_postgres_refuses_one_change(
    service_pool: asyncpg.Pool,
    owner_connection: asyncpg.Connection,
    event: CreatedEventOfTenant,
    bad_change: str,
    error: type[Exception] | tuple[type[Exception], ...],
) -> None:
    ticket_type_ids = event.ticket_type_ids()
    await write_batch(
        service_pool,
        event,
        [seat_hold(str(uuid.uuid4()), ("101-B-4",), ticket_type_ids["RES"])],
        NOW_MS,
    )
    before = await snapshot_of(owner_connection, event)
    bad: Change = {
        "seat_held_twice": lambda: seat_hold(
            str(uuid.uuid4()), ("101-B-4",), ticket_type_ids["RES"]
        ),
        "general_oversold": lambda: general_hold(str(uuid.uuid4()), 21, ticket_type_ids["GA"]),
        "held_seat_blocked": lambda: SeatsBlocked(seats=("101-B-4",), withholding=Withholding.KILL),
        "unknown_hold_released": lambda: HoldReleased(hold_id=str(uuid.uuid4())),
    }[bad_change]()
    good = general_hold(str(uuid.uuid4()), 2, ticket_type_ids["GA"])

    with pytest.raises(error):
        await write_batch(service_pool, event, [good, bad], NOW_MS)

    assert await snapshot_of(owner_connection, event) == before


async def test_outbox_rows_appear_with_the_changes_and_only_at_commit_when_a_batch_is_written(
    service_pool: asyncpg.Pool, owner_connection: asyncpg.Connection, event: CreatedEventOfTenant
) -> None:
    inventory = await in_memory_inventory(service_pool, event)
    hold_id, order_id = str(uuid.uuid4()), str(uuid.uuid4())
    changes = decided(inventory, HoldSeats(new_hold_id=hold_id, fan_id="fan-1", seats=("101-A-5",)))
    changes += decided(inventory, ConvertHold(hold_id=hold_id, new_order_id=order_id))
    select_outbox = (
        "SELECT topic, payload::text AS payload FROM outbox WHERE tenant_id = $1 ORDER BY position"
    )

    async with fenced_writer(service_pool, event, EPOCH) as transaction:
        await write_changes(transaction, changes=changes, now_ms=NOW_MS)
        inside = await transaction.connection.fetch(select_outbox, event.tenant_id)
        outside_before_commit = await owner_connection.fetch(select_outbox, event.tenant_id)
    after_commit = await owner_connection.fetch(select_outbox, event.tenant_id)

    assert [row["topic"] for row in inside] == ["hold.converted"]
    assert outside_before_commit == []
    assert [tuple(row) for row in after_commit] == [tuple(row) for row in inside]
    messages = [OUTBOX_MESSAGE_DECODER.decode(row["payload"]) for row in after_commit]
    assert [message.change for message in messages] == [
        change for change in changes if isinstance(change, HoldConverted)
    ]
    assert {message.event_id for message in messages} == {event.event_id}


async def test_sold_seat_claim_ends_when_its_order_is_refunded_in_the_batch_that_sold_it(
    service_pool: asyncpg.Pool, event: CreatedEventOfTenant
) -> None:
    inventory = await in_memory_inventory(service_pool, event)
    first, second, order_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    await write_batch(
        service_pool,
        event,
        decided(inventory, HoldSeats(new_hold_id=first, fan_id="fan-1", seats=("B1-1-1",))),
        NOW_MS,
    )
    changes = decided(inventory, ConvertHold(hold_id=first, new_order_id=order_id))
    changes += decided(inventory, RefundOrder(order_id=order_id))
    changes += decided(inventory, HoldSeats(new_hold_id=second, fan_id="fan-2", seats=("B1-1-1",)))
    await write_batch(service_pool, event, changes, NOW_MS)

    await assert_stored_equals(service_pool, event, inventory, 0)
    stored = await stored_inventory(service_pool, event)
    assert set(stored.holds) == {second}
    assert stored.sales == {}


async def test_forgotten_keys_go_and_later_keys_keep_their_order_when_expiry_passes_their_ttl(
    service_pool: asyncpg.Pool, event: CreatedEventOfTenant
) -> None:
    inventory = await in_memory_inventory(service_pool, event)
    ticket_type_ids = event.ticket_type_ids()
    ttl_ms = limits.IDEMPOTENCY_KEY_TTL_MS

    def keyed_hold(key: str) -> PlaceHold:
        return PlaceHold(
            new_hold_id=str(uuid.uuid4()),
            fan_id=f"fan-{key}",
            items=(ItemRequest(ticket_type_id=ticket_type_ids["GA"], quantity=1),),
            idempotency_key=key,
        )

    await write_batch(service_pool, event, decided(inventory, keyed_hold("old")), NOW_MS)
    later_ms = NOW_MS + ttl_ms // 2
    changes = decided(inventory, keyed_hold("middle"), later_ms)
    changes += decided(inventory, keyed_hold("recent"), later_ms)
    await write_batch(service_pool, event, changes, later_ms)
    expiry_ms = NOW_MS + ttl_ms
    changes = decided(inventory, ExpireHolds(), expiry_ms)
    changes += decided(inventory, keyed_hold("new"), expiry_ms)
    await write_batch(service_pool, event, changes, expiry_ms)

    assert any(isinstance(change, IdempotencyKeysForgotten) for change in changes)
    assert list(inventory.idempotency_records) == ["middle", "recent", "new"]
    await assert_stored_equals(service_pool, event, inventory, 0)


async def test_plan_made_before_the_transaction_writes_the_batch_when_it_only_creates(
    service_pool: asyncpg.Pool, event: CreatedEventOfTenant
) -> None:
    inventory = await in_memory_inventory(service_pool, event)
    ticket_type_ids = event.ticket_type_ids()
    first = PlaceHold(
        new_hold_id=str(uuid.uuid4()),
        fan_id="fan-1",
        items=(ItemRequest(ticket_type_id=ticket_type_ids["GA"], quantity=2),),
        idempotency_key="first",
    )
    created = decided(inventory, first)
    ahead = plan_changes(created, event_id=event.event_id, now_ms=NOW_MS)
    async with fenced_writer(service_pool, event, EPOCH) as transaction:
        await write_planned(transaction, plan=ahead)
    hold_id = first.new_hold_id
    released = decided(inventory, ReleaseHold(hold_id=hold_id, fan_id="fan-1"))
    inside = plan_changes(released, event_id=event.event_id, now_ms=NOW_MS)
    async with fenced_writer(service_pool, event, EPOCH) as transaction:
        await write_planned(transaction, plan=inside)

    assert ahead.effect is not None and ahead.main_columns is not None
    assert inside.effect is None and inside.hold_ids == [hold_id]
    await assert_stored_equals(service_pool, event, inventory, 0)
