"""The epoch fence: which InventoryActor may write an event's inventory.

An actor takes the next epoch when it takes an event over; every group commit first checks, under
a share lock on the epoch row, that its epoch is still the newest, so a stale actor (a zombie after
a restart) raises `StaleEpoch` before it writes anything. A take waits for the commits in flight.
"""

import uuid

import asyncpg


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


SELECT_EPOCH_FOR_SHARE = "SELECT epoch FROM event_epochs WHERE event_id = $1 FOR SHARE"


async def check_epoch(connection: asyncpg.Connection, *, event_id: uuid.UUID, epoch: int) -> None:
    """Raise StaleEpoch unless `epoch` is the event's newest; hold it until the transaction ends.

    The share lock makes a concurrent `take_epoch` wait for this transaction, so a take never
    slips between this check and the commit of the writes behind it.
    """
    current = await connection.fetchval(SELECT_EPOCH_FOR_SHARE, event_id)
    if current != epoch:
        raise StaleEpoch(f"event {event_id} is at epoch {current}; this writer holds {epoch}")
