"""Codes in the group commit: their rows and tallies are written with the holds that use them,
read back into the engine's tallies, and Postgres refuses an over-use even if the engine allowed
one (a code's `held + uses` and a fan's `taken` are checked on every row a batch leaves)."""

import uuid

import asyncpg
import pytest

from engine.changes import Change, CodesAdded, HoldPlaced
from engine.commands import AddCodes, ConvertHold, ItemRequest, PlaceHold, ReleaseHold
from engine.holds import Hold, HoldItem
from engine.inventory.codes import CodeDefinition, CodeKind
from engine.inventory.state import Inventory
from persistence.tenancy import tenant_transaction
from tests.persistence.builders import CreatedEventOfTenant
from tests.persistence.test_inventory_repository import (
    NOW_MS,
    assert_stored_equals,
    decided,
    event,
    in_memory_inventory,
    write_batch,
)

__all__ = ["event"]


def capped_code(max_uses: int | None = 2, max_uses_per_fan: int | None = None) -> CodeDefinition:
    return CodeDefinition(
        code_id=str(uuid.uuid4()),
        code="Spring25",
        kind=CodeKind.DISCOUNT,
        max_uses=max_uses,
        max_uses_per_fan=max_uses_per_fan,
        discount_percent=25,
    )


def coded_hold(code_id: str, ticket_type_id: str, fan_id: str) -> HoldPlaced:
    return HoldPlaced(
        hold=Hold(
            hold_id=str(uuid.uuid4()),
            fan_id=fan_id,
            items=(HoldItem(ticket_type_id=ticket_type_id, quantity=1, unit_price_cents=3_746),),
            seats=(),
            expires_at_ms=NOW_MS + 60_000,
            code_id=code_id,
        )
    )


async def code_rows(
    service_pool: asyncpg.Pool, event: CreatedEventOfTenant
) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int | None]]]:
    async with tenant_transaction(service_pool, event.tenant_id) as connection:
        codes = await connection.fetch(
            "SELECT code_key, held, uses FROM codes WHERE event_id = $1", event.event_id
        )
        fans = await connection.fetch(
            "SELECT user_id, taken, cap FROM code_fan_uses WHERE event_id = $1 ORDER BY user_id",
            event.event_id,
        )
    return (
        [(row["code_key"], row["held"], row["uses"]) for row in codes],
        [(row["user_id"], row["taken"], row["cap"]) for row in fans],
    )


def hold_with_code(hold_id: str, fan_id: str, ticket_type_id: str) -> PlaceHold:
    return PlaceHold(
        new_hold_id=hold_id,
        fan_id=fan_id,
        items=(ItemRequest(ticket_type_id=ticket_type_id, quantity=2),),
        code="spring25",
    )


async def test_code_tallies_follow_the_holds_and_sales_that_use_them(
    service_pool: asyncpg.Pool, event: CreatedEventOfTenant
) -> None:
    inventory: Inventory = await in_memory_inventory(service_pool, event)
    general = event.ticket_type_ids()["GA"]
    holds = [str(uuid.uuid4()) for _ in range(3)]
    changes = decided(inventory, AddCodes(new_codes=(capped_code(3, 2),)))
    changes += decided(inventory, hold_with_code(holds[0], "fan-1", general))
    changes += decided(inventory, hold_with_code(holds[1], "fan-1", general))
    await write_batch(service_pool, event, changes, NOW_MS)
    assert await code_rows(service_pool, event) == (
        [("SPRING25", 2, 0)],
        [("fan-1", 2, 2)],
    )
    changes = decided(inventory, ReleaseHold(hold_id=holds[0], fan_id="fan-1"))
    changes += decided(inventory, ConvertHold(hold_id=holds[1], new_order_id=str(uuid.uuid4())))
    changes += decided(inventory, hold_with_code(holds[2], "fan-2", general))
    await write_batch(service_pool, event, changes, NOW_MS)
    assert await code_rows(service_pool, event) == (
        [("SPRING25", 1, 1)],
        [("fan-1", 1, 2), ("fan-2", 1, 2)],
    )
    await assert_stored_equals(service_pool, event, inventory, 0)


@pytest.mark.parametrize(("max_uses", "per_fan"), [(1, None), (None, 1)])
async def test_postgres_refuses_an_over_use_the_engine_should_never_have_decided(
    service_pool: asyncpg.Pool,
    event: CreatedEventOfTenant,
    max_uses: int | None,
    per_fan: int | None,
) -> None:
    code = capped_code(max_uses, per_fan)
    general = event.ticket_type_ids()["GA"]
    await write_batch(
        service_pool,
        event,
        [CodesAdded(codes=(code,)), coded_hold(code.code_id, general, "fan-1")],
        NOW_MS,
    )
    over: list[Change] = [coded_hold(code.code_id, general, "fan-1")]
    with pytest.raises(asyncpg.CheckViolationError):
        await write_batch(service_pool, event, over, NOW_MS)
    assert (await code_rows(service_pool, event))[0] == [("SPRING25", 1, 0)]
