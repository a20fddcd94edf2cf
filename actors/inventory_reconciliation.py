"""The comparison of an InventoryActor's memory with Postgres, with both its counters and its
recounted rows. Any difference is a bug to look into: the Supervisor asks every few rounds, and
a difference is logged as an error.
"""

import logging
import uuid

import asyncpg

from actors.inventory_figures import CountDifference
from engine.inventory.state import Inventory
from engine.inventory.unit_counts import TicketTypeCounts
from persistence.reconciliation import StoredCounts, count_stored_inventory
from persistence.tenancy import tenant_transaction

log = logging.getLogger(__name__)


async def differences_from_postgres(
    pool: asyncpg.Pool, *, tenant_id: uuid.UUID, event_id: uuid.UUID, inventory: Inventory
) -> list[CountDifference]:
    """How `inventory` differs from what Postgres stores for the event; raises what Postgres
    raises."""
    async with tenant_transaction(pool, tenant_id) as connection:
        stored = await count_stored_inventory(connection, event_id=event_id)
    memory = [inventory.ticket_type_counts(type_id) for type_id in inventory.ticket_types]
    differences = count_differences(memory, stored)
    if differences:
        log.error(
            "inventory differs from postgres",
            extra={"event_id": str(event_id), "differences": len(differences)},
        )
    return differences


def count_differences(
    memory: list[TicketTypeCounts], stored: list[StoredCounts]
) -> list[CountDifference]:
    """Compare memory with both the counters and the recounted rows of Postgres."""
    stored_by_type = {counts.ticket_type_id: counts for counts in stored}
    differences = []
    for counts in memory:
        row = stored_by_type.get(counts.ticket_type_id)
        if row is None:
            differences.append(
                CountDifference(
                    ticket_type_id=counts.ticket_type_id,
                    measure="ticket_type",
                    in_memory=counts.capacity,
                    in_postgres=0,
                )
            )
            continue
        for measure, in_memory, in_postgres in (
            ("capacity", counts.capacity, row.capacity),
            ("held_counter", counts.held, row.held_counter),
            ("held_in_rows", counts.held, row.held_in_rows),
            ("sold_counter", counts.sold, row.sold_counter),
            ("sold_in_rows", counts.sold, row.sold_in_rows),
            ("withheld_in_rows", counts.withheld, row.withheld_in_rows),
        ):
            if in_memory != in_postgres:
                differences.append(
                    CountDifference(
                        ticket_type_id=counts.ticket_type_id,
                        measure=measure,
                        in_memory=in_memory,
                        in_postgres=in_postgres,
                    )
                )
    return differences
