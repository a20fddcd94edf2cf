"""An event's entry policy and its ticket types' zones as Postgres keeps them: `events.entry`
holds the engine's EntryPolicy as msgspec encodes it (NULL for the default policy), and
`ticket_types.zone` each type's zone. A new setting of the policy is a new key of the JSON.
"""

import uuid
from collections.abc import Mapping

import asyncpg
import msgspec

from engine.entry.policy import EntryPolicy
from engine.ids import ZoneId

ENTRY_POLICY_ENCODER = msgspec.json.Encoder()
ENTRY_POLICY_DECODER = msgspec.json.Decoder(EntryPolicy)


def entry_policy_json(policy: EntryPolicy) -> str:
    return ENTRY_POLICY_ENCODER.encode(policy).decode()


def entry_policy_from_json(text: str | None) -> EntryPolicy:
    return EntryPolicy() if text is None else ENTRY_POLICY_DECODER.decode(text)


UPDATE_ENTRY_POLICY = """
UPDATE events SET entry = $2::jsonb, updated_at = now() WHERE id = $1
"""


async def record_entry_policy(
    connection: asyncpg.Connection, *, event_id: uuid.UUID, policy: EntryPolicy
) -> None:
    """The event's whole policy, replacing the one it had; the next scan decides with it."""
    await connection.execute(UPDATE_ENTRY_POLICY, event_id, entry_policy_json(policy))


UPDATE_TICKET_TYPE_ZONES = """
UPDATE ticket_types SET zone = changed.zone
FROM unnest($2::text[], $3::text[]) AS changed (key, zone)
WHERE ticket_types.event_id = $1 AND ticket_types.key = changed.key
"""


async def record_ticket_type_zones(
    connection: asyncpg.Connection, *, event_id: uuid.UUID, zones: Mapping[str, ZoneId | None]
) -> None:
    """The zone of each ticket type named by key (None: the main entrance only)."""
    if zones:
        await connection.execute(
            UPDATE_TICKET_TYPE_ZONES, event_id, list(zones), list(zones.values())
        )
