"""The schema and the engine's lifecycles name the same states: each table's `status` CHECK (or
its other state column's) lists exactly the values of its lifecycle's enum, so a state SQL writes
or reads ('active', 'paid', ...) is one the engine knows, and a state the engine adds cannot be
written before a migration allows it."""

import enum
import re

import asyncpg
import pytest

from engine.hold_lifecycle import HoldStatus
from engine.inventory.wait_list import WaitListStatus
from engine.order_lifecycle import OrderStatus
from engine.payment_lifecycle import PaymentStatus
from engine.refund_lifecycle import RefundStatus
from engine.stock import Stock
from engine.tickets import TicketStatus

SELECT_STATUS_CHECKS = """
SELECT pg_get_constraintdef(oid) AS definition
FROM pg_constraint
WHERE conrelid = $1::regclass AND contype = 'c'
  AND pg_get_constraintdef(oid) LIKE '%(' || $2 || ' = ANY%'
"""

QUOTED_VALUE = re.compile(r"'([^']*)'::text")


@pytest.mark.parametrize(
    ("table", "column", "lifecycle"),
    [
        ("holds", "status", HoldStatus),
        ("orders", "status", OrderStatus),
        ("payments", "status", PaymentStatus),
        ("refunds", "status", RefundStatus),
        ("tickets", "status", TicketStatus),
        ("waiting_rooms", "stock", Stock),
        ("wait_list_entries", "status", WaitListStatus),
    ],
)
async def test_status_check_lists_the_lifecycle_states_when_migrated(
    owner_connection: asyncpg.Connection, table: str, column: str, lifecycle: type[enum.StrEnum]
) -> None:
    definitions = [
        row["definition"]
        for row in await owner_connection.fetch(SELECT_STATUS_CHECKS, table, column)
    ]

    assert len(definitions) == 1, definitions
    assert set(QUOTED_VALUE.findall(definitions[0])) == {state.value for state in lifecycle}
