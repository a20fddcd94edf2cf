"""An event's codes read back from Postgres: the definitions `Inventory.rebuild` reads, and the
venue's list with each code's tally (the group commit keeps `uses` and `held` current).

Reads only; persistence.code_writes is the one writer of these tables.
"""

import uuid

import asyncpg
import msgspec

from engine.inventory.codes import CodeDefinition, CodeKind, code_key

CODE_COLUMNS = """
id::text AS code_id, code, kind, unlocks::text[] AS unlocks, applies_to::text[] AS applies_to,
(extract(epoch FROM valid_from) * 1000)::bigint AS valid_from_ms,
(extract(epoch FROM valid_until) * 1000)::bigint AS valid_until_ms,
max_uses, max_uses_per_fan, discount_percent, discount_amount_cents, active, uses, held
"""

SELECT_CODES = f"SELECT {CODE_COLUMNS} FROM codes WHERE event_id = $1 ORDER BY id"

SELECT_CODES_PAGE = f"""
SELECT {CODE_COLUMNS} FROM codes
WHERE event_id = $1 AND code_key > $2
ORDER BY code_key
LIMIT $3
"""

SELECT_CODE = f"SELECT {CODE_COLUMNS} FROM codes WHERE event_id = $1 AND id = $2"


class StoredCode(msgspec.Struct, frozen=True, kw_only=True):
    definition: CodeDefinition
    uses: int
    held: int


def code_of_row(row: asyncpg.Record) -> CodeDefinition:
    return CodeDefinition(
        code_id=row["code_id"],
        code=row["code"],
        kind=CodeKind(row["kind"]),
        unlocks=tuple(row["unlocks"]),
        applies_to=tuple(row["applies_to"]),
        valid_from_ms=row["valid_from_ms"],
        valid_until_ms=row["valid_until_ms"],
        max_uses=row["max_uses"],
        max_uses_per_fan=row["max_uses_per_fan"],
        discount_percent=row["discount_percent"],
        discount_amount_cents=row["discount_amount_cents"],
        active=row["active"],
    )


def stored_code_of_row(row: asyncpg.Record) -> StoredCode:
    return StoredCode(definition=code_of_row(row), uses=row["uses"], held=row["held"])


async def load_codes(
    connection: asyncpg.Connection, event_id: uuid.UUID
) -> tuple[CodeDefinition, ...]:
    """Every code of the event, sorted by id (the order `Inventory.rows()` writes)."""
    return tuple(code_of_row(row) for row in await connection.fetch(SELECT_CODES, event_id))


async def list_codes(
    connection: asyncpg.Connection, *, event_id: uuid.UUID, after_key: str, limit: int
) -> list[StoredCode]:
    """A page of the event's codes in the order of their keys, after `after_key`."""
    rows = await connection.fetch(SELECT_CODES_PAGE, event_id, after_key, limit)
    return [stored_code_of_row(row) for row in rows]


async def load_code(
    connection: asyncpg.Connection, *, event_id: uuid.UUID, code_id: uuid.UUID
) -> StoredCode | None:
    row = await connection.fetchrow(SELECT_CODE, event_id, code_id)
    return None if row is None else stored_code_of_row(row)


SELECT_CODE_BY_KEY = f"SELECT {CODE_COLUMNS} FROM codes WHERE event_id = $1 AND code_key = $2"


async def load_code_by_text(
    connection: asyncpg.Connection, *, event_id: uuid.UUID, text: str
) -> StoredCode | None:
    """The event's code a fan typed, in any case."""
    row = await connection.fetchrow(SELECT_CODE_BY_KEY, event_id, code_key(text))
    return None if row is None else stored_code_of_row(row)
