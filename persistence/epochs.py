"""The epoch fence: which InventoryActor may write an event's inventory.

An actor takes the next epoch when it takes an event over; every group commit runs in a
`fenced_transaction`, which checks under a share lock on the epoch row that its epoch is still the
newest, so a stale actor (a zombie after a restart) raises `StaleEpoch` before it writes anything.
A take waits for the commits in flight. The check rides in the round trip that opens the
transaction, so the fence costs the group commit no round trip of its own.
"""

import dataclasses
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from persistence.tenancy import tenant_transaction

# What `check_inventory_epoch()` (migration 0017) raises for a writer whose epoch is not the newest.
STALE_EPOCH_SQLSTATE = "OS001"


class StaleEpoch(RuntimeError):
    """Another actor took the event over: this writer must stop and change nothing."""


TAKE_EPOCH = """
INSERT INTO event_epochs (event_id, tenant_id, epoch, holder, taken_at)
VALUES ($1, $2, 1, $3, now())
ON CONFLICT (event_id) DO UPDATE
    SET epoch = event_epochs.epoch + 1, holder = excluded.holder, taken_at = excluded.taken_at
RETURNING epoch
"""


async def take_epoch(
    connection: asyncpg.Connection, *, tenant_id: uuid.UUID, event_id: uuid.UUID, holder: str
) -> int:
    """Make `holder` the event's only writer and return its epoch, one above the last."""
    epoch: int = await connection.fetchval(TAKE_EPOCH, event_id, tenant_id, holder)
    return epoch


@dataclasses.dataclass(frozen=True, slots=True)
class FencedTransaction:
    """A transaction acting for `tenant_id` that passed `event_id`'s epoch fence: the only kind
    the group commit writes in."""

    connection: asyncpg.Connection
    tenant_id: uuid.UUID
    event_id: uuid.UUID


@asynccontextmanager
async def fenced_transaction(
    pool_or_connection: asyncpg.Pool | asyncpg.Connection,
    *,
    tenant_id: uuid.UUID,
    event_id: uuid.UUID,
    epoch: int,
) -> AsyncIterator[FencedTransaction]:
    """A tenant transaction that opens only if `epoch` is the event's newest, else StaleEpoch.

    The share lock on the epoch row lasts until the transaction ends, so a concurrent
    `take_epoch` waits for this commit and never slips between the check and the writes.
    """
    check = f"SELECT check_inventory_epoch('{uuid.UUID(str(event_id))}', {int(epoch)})"
    try:
        async with tenant_transaction(
            pool_or_connection, tenant_id, opening_check=check
        ) as connection:
            yield FencedTransaction(connection=connection, tenant_id=tenant_id, event_id=event_id)
    except asyncpg.PostgresError as error:
        if error.sqlstate != STALE_EPOCH_SQLSTATE:
            raise
        raise StaleEpoch(error.args[0] if error.args else str(error)) from None
