"""HOLDS: general-admission holds decided and applied in memory per second, by batch size.

This is the engine's share of B1 with no Ray and no Postgres: each batch is decided and applied
command by command, as the InventoryActor does before its one commit. Every hold carries an
idempotency key, as holds from the API do. The figure is the rate at batches of 512.
"""

import time

from engine.commands import ItemRequest, PlaceHold
from engine.inventory.apply import execute
from engine.inventory.configuration import InventoryConfiguration, TicketKind, TicketTypeDefinition
from engine.inventory.decision import Decision
from engine.inventory.state import Inventory

BATCH_SIZES = (1, 64, 512)
HOLDS_PER_BATCH_SIZE = 50_000
TARGET_HOLDS_PER_S = 50_000
CAPACITY = 1_000_000


def configuration() -> InventoryConfiguration:
    return InventoryConfiguration(
        opens_at_ms=0,
        closes_at_ms=10**12,
        hold_ttl_ms=600_000,
        max_tickets_per_user=6,
        ticket_types=(
            TicketTypeDefinition(
                ticket_type_id="GA", kind=TicketKind.GENERAL, price_cents=5_000, capacity=CAPACITY
            ),
        ),
    )


def holds_per_second(batch_size: int) -> float:
    inventory = Inventory(configuration())
    batches = HOLDS_PER_BATCH_SIZE // batch_size
    elapsed_ns = 0
    for batch_number in range(batches):
        commands = [
            PlaceHold(
                new_hold_id=f"hold-{batch_number}-{position}",
                fan_id=f"fan-{batch_number}-{position}",
                items=(ItemRequest(ticket_type_id="GA", quantity=2),),
                idempotency_key=f"key-{batch_number}-{position}",
            )
            for position in range(batch_size)
        ]
        now_ms = 1_000 + batch_number
        started_ns = time.perf_counter_ns()
        results = [execute(inventory, command, now_ms) for command in commands]
        elapsed_ns += time.perf_counter_ns() - started_ns
        assert all(isinstance(result, Decision) for result in results)
    assert inventory.ticket_type_counts("GA").held == 2 * batches * batch_size
    return batches * batch_size / (elapsed_ns / 1e9)


def main() -> int:
    rates = {batch_size: holds_per_second(batch_size) for batch_size in BATCH_SIZES}
    for batch_size, rate in rates.items():
        print(f"batch={batch_size} holds_per_s={rate:,.0f}")
    figure = rates[BATCH_SIZES[-1]]
    met = figure >= TARGET_HOLDS_PER_S
    print(f"HOLDS holds_per_s={figure:.0f} target={TARGET_HOLDS_PER_S} {'ok' if met else 'short'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
