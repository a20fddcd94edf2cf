"""The codes' part of an inventory's group commit: new code rows, codes turned on or off, and
each code's tally (`held`, `uses`, and its fans' `taken`) moved by the batch's holds and sales,
in the caller's fenced transaction with the hold rows. Postgres's checks on `codes` and
`code_fan_uses` then refuse an over-use even if the engine were wrong.

The columns are worked out with no I/O (`code_columns`, `tally_deltas`); `write_new_codes` runs
before the holds are written (they refer to the codes), `write_code_tallies` after.
"""

import typing
import uuid
from typing import NamedTuple

import asyncpg

from engine.ids import CodeId, FanId
from persistence.inventory_batch import ACTIVE, LIVE, BatchEffect

INSERT_CODES = """
INSERT INTO codes (id, tenant_id, event_id, code, code_key, kind, unlocks, applies_to,
                   valid_from, valid_until, max_uses, max_uses_per_fan, discount_percent,
                   discount_amount_cents, active, created_at)
SELECT new.id, $1, $2, new.code, upper(new.code), new.kind,
       string_to_array(new.unlocks, ' ')::uuid[], string_to_array(new.applies_to, ' ')::uuid[],
       timestamptz 'epoch' + new.valid_from_ms * interval '1 millisecond',
       timestamptz 'epoch' + new.valid_until_ms * interval '1 millisecond',
       new.max_uses, new.max_uses_per_fan, new.discount_percent, new.discount_amount_cents,
       new.active, timestamptz 'epoch' + $3::bigint * interval '1 millisecond'
FROM unnest($4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[],
            $10::bigint[], $11::integer[], $12::integer[], $13::integer[], $14::bigint[],
            $15::boolean[])
     AS new (id, code, kind, unlocks, applies_to, valid_from_ms, valid_until_ms, max_uses,
             max_uses_per_fan, discount_percent, discount_amount_cents, active)
"""

UPDATE_CODE_ACTIVITY = """
UPDATE codes SET active = changed.active
FROM unnest($2::uuid[], $3::boolean[]) AS changed (id, active)
WHERE codes.id = changed.id AND codes.event_id = $1
"""

UPDATE_CODE_TALLIES = """
WITH updated AS (
    UPDATE codes SET held = codes.held + deltas.held, uses = codes.uses + deltas.uses
    FROM unnest($2::uuid[], $3::integer[], $4::integer[]) AS deltas (id, held, uses)
    WHERE codes.id = deltas.id AND codes.event_id = $1
    RETURNING 1
)
SELECT count(*) FROM updated
"""

# As for withheld units: rows that exist are updated, the others inserted with their code's
# per-fan cap, so `taken <= cap` is checked on every row a batch leaves.
UPSERT_CODE_FAN_USES = """
WITH deltas AS (
    SELECT * FROM unnest($3::uuid[], $4::text[], $5::integer[]) AS deltas (code_id, user_id, taken)
),
updated AS (
    UPDATE code_fan_uses
    SET taken = code_fan_uses.taken + deltas.taken
    FROM deltas
    WHERE code_fan_uses.code_id = deltas.code_id AND code_fan_uses.user_id = deltas.user_id
    RETURNING code_fan_uses.code_id, code_fan_uses.user_id
)
INSERT INTO code_fan_uses (code_id, tenant_id, event_id, user_id, taken, cap)
SELECT deltas.code_id, $1, $2, deltas.user_id, deltas.taken, codes.max_uses_per_fan
FROM deltas
JOIN codes ON codes.id = deltas.code_id AND codes.event_id = $2
WHERE NOT EXISTS (
    SELECT FROM updated
    WHERE updated.code_id = deltas.code_id AND updated.user_id = deltas.user_id
)
"""


class CodeTallyDeltas(NamedTuple):
    code_ids: list[CodeId]
    held: list[int]
    uses: list[int]
    fan_code_ids: list[CodeId]
    fan_ids: list[FanId]
    taken: list[int]


def code_columns(effect: BatchEffect) -> list[list[typing.Any]]:
    """The arrays of INSERT_CODES from $4 on."""
    codes = effect.new_codes
    return [
        [code.code_id for code in codes],
        [code.code for code in codes],
        [code.kind.value for code in codes],
        [" ".join(code.unlocks) for code in codes],
        [" ".join(code.applies_to) for code in codes],
        [code.valid_from_ms for code in codes],
        [code.valid_until_ms for code in codes],
        [code.max_uses for code in codes],
        [code.max_uses_per_fan for code in codes],
        [code.discount_percent for code in codes],
        [code.discount_amount_cents for code in codes],
        [code.active for code in codes],
    ]


def tally_deltas(effect: BatchEffect) -> CodeTallyDeltas:
    """How the batch moves each code's tally: a hold with a code holds a use while active, a sale
    with one keeps it while live; a fan's `taken` counts both. Nothing that nets to 0."""
    held: dict[CodeId, int] = {}
    uses: dict[CodeId, int] = {}
    taken: dict[tuple[CodeId, FanId], int] = {}
    for hold_draft in effect.holds.values():
        code_id = hold_draft.hold.code_id
        factor = (hold_draft.status == ACTIVE) - (not hold_draft.is_new)
        if code_id is not None and factor:
            held[code_id] = held.get(code_id, 0) + factor
            key = (code_id, hold_draft.hold.fan_id)
            taken[key] = taken.get(key, 0) + factor
    for sale_draft in effect.sales.values():
        code_id = sale_draft.sale.code_id
        factor = (sale_draft.status == LIVE) - (not sale_draft.is_new)
        if code_id is not None and factor:
            uses[code_id] = uses.get(code_id, 0) + factor
            key = (code_id, sale_draft.sale.fan_id)
            taken[key] = taken.get(key, 0) + factor
    code_ids = [
        code_id
        for code_id in dict.fromkeys([*held, *uses])
        if held.get(code_id, 0) or uses.get(code_id, 0)
    ]
    fans = [(key, delta) for key, delta in taken.items() if delta]
    return CodeTallyDeltas(
        code_ids=code_ids,
        held=[held.get(code_id, 0) for code_id in code_ids],
        uses=[uses.get(code_id, 0) for code_id in code_ids],
        fan_code_ids=[code_id for (code_id, _), _ in fans],
        fan_ids=[fan_id for (_, fan_id), _ in fans],
        taken=[delta for _, delta in fans],
    )


async def write_new_codes(
    connection: asyncpg.Connection,
    tenant_id: uuid.UUID,
    event_id: uuid.UUID,
    effect: BatchEffect,
    now_ms: int,
) -> None:
    if effect.new_codes:
        await connection.execute(INSERT_CODES, tenant_id, event_id, now_ms, *code_columns(effect))


async def write_code_tallies(
    connection: asyncpg.Connection, tenant_id: uuid.UUID, event_id: uuid.UUID, effect: BatchEffect
) -> str | None:
    """Codes turned on or off, and the tallies the batch moves; what conflicts, or None."""
    if effect.code_activity:
        await connection.execute(
            UPDATE_CODE_ACTIVITY,
            event_id,
            list(effect.code_activity),
            list(effect.code_activity.values()),
        )
    deltas = tally_deltas(effect)
    if deltas.code_ids:
        updated = await connection.fetchval(
            UPDATE_CODE_TALLIES, event_id, deltas.code_ids, deltas.held, deltas.uses
        )
        if updated != len(deltas.code_ids):
            return f"event {event_id}: a code the batch uses is not a code of the event"
    if deltas.fan_ids:
        await connection.execute(
            UPSERT_CODE_FAN_USES,
            tenant_id,
            event_id,
            deltas.fan_code_ids,
            deltas.fan_ids,
            deltas.taken,
        )
    return None
