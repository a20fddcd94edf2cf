"""What the queue asks when a fan joins it: how a code of the event stands at that moment, and
whether the fan already has a place. Reads only: codes are written by the event's InventoryActor
(their uses are decided by holds, so a code's uses are not looked at here) and places by its
WaitingRoomActor."""

import enum
import uuid

import asyncpg
import msgspec


class CodeKind(enum.StrEnum):
    PRESALE = "presale"
    DISCOUNT = "discount"


class CodeStanding(msgspec.Struct, frozen=True, kw_only=True):
    """A code of the event; `valid`: active, and inside its dates at the moment asked about."""

    kind: CodeKind
    valid: bool


SELECT_CODE_STANDING = """
SELECT kind,
       active
       AND (valid_from IS NULL OR valid_from <= to_timestamp($3::bigint / 1000.0))
       AND (valid_until IS NULL OR to_timestamp($3::bigint / 1000.0) < valid_until) AS valid
FROM codes
WHERE event_id = $1 AND code_key = upper($2)
"""


async def code_standing(
    connection: asyncpg.Connection, *, event_id: uuid.UUID, code: str, at_ms: int
) -> CodeStanding | None:
    """How `code` (in any case) stands for the event at `at_ms`; None when it is not the event's."""
    row = await connection.fetchrow(SELECT_CODE_STANDING, event_id, code, at_ms)
    if row is None:
        return None
    return CodeStanding(kind=CodeKind(row["kind"]), valid=row["valid"])


SELECT_HAS_PLACE = """
SELECT EXISTS (SELECT 1 FROM waiting_room_places WHERE event_id = $1 AND fan_id = $2)
"""


async def has_place(connection: asyncpg.Connection, *, event_id: uuid.UUID, fan_id: str) -> bool:
    """Whether the fan holds a place in the event's queue (one answered to it was committed)."""
    found: bool = await connection.fetchval(SELECT_HAS_PLACE, event_id, fan_id)
    return found
