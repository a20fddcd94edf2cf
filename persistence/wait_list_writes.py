"""The wait list's rows of a group commit, written in the batch's fenced transaction after its holds
(an offer names its hold): new entries, entries that moved, and the notice of each offer.

An entry that moved must exist in a state it can leave: otherwise the caller raises its
InventoryConflict (the engine decided what it should never have) and the transaction rolls back
whole.
"""

import uuid

import asyncpg

from persistence.wait_list_batch import (
    WaitListDraft,
    changed_wait_list_entries,
    new_wait_list_entries,
    offers_to_announce,
)

INSERT_WAIT_LIST_ENTRIES = """
INSERT INTO wait_list_entries (id, tenant_id, event_id, user_id, email, quantity, ticket_type_id,
                               sequence, status, hold_id, offer_expires_at_ms, joined_at,
                               updated_at)
SELECT new.id, $1, $2, new.user_id, new.email, new.quantity, new.ticket_type_id, new.sequence,
       new.status, new.hold_id, new.offer_expires_at_ms,
       timestamptz 'epoch' + $3::bigint * interval '1 millisecond',
       timestamptz 'epoch' + $3::bigint * interval '1 millisecond'
FROM unnest($4::uuid[], $5::text[], $6::text[], $7::integer[], $8::uuid[], $9::bigint[],
            $10::text[], $11::uuid[], $12::bigint[])
     AS new (id, user_id, email, quantity, ticket_type_id, sequence, status, hold_id,
             offer_expires_at_ms)
"""

# A waiting entry may be offered or leave; an offered one may end. An ended entry never moves.
UPDATE_WAIT_LIST_ENTRIES = """
WITH updated AS (
    UPDATE wait_list_entries
    SET status = moved.status,
        hold_id = coalesce(moved.hold_id, wait_list_entries.hold_id),
        offer_expires_at_ms = coalesce(moved.offer_expires_at_ms,
                                       wait_list_entries.offer_expires_at_ms),
        updated_at = timestamptz 'epoch' + $2::bigint * interval '1 millisecond'
    FROM unnest($3::uuid[], $4::text[], $5::uuid[], $6::bigint[])
         AS moved (id, status, hold_id, offer_expires_at_ms)
    WHERE wait_list_entries.id = moved.id
      AND wait_list_entries.event_id = $1
      AND wait_list_entries.status IN ('waiting', 'offered')
    RETURNING 1
)
SELECT count(*) FROM updated
"""

# One notice per offer, in the shape of notifications.notices.Notice (kind `wait_list_offered`,
# under its `notice.` topic), keyed by its hold: an entry is offered once. It is built here, beside
# the rows it reads, because persistence sits below the notifications package.
WAIT_LIST_OFFERED = "wait_list_offered"
INSERT_OFFER_NOTICES = """
INSERT INTO outbox (tenant_id, topic, aggregate_id, payload)
SELECT $1, 'notice.' || $3::text, entries.hold_id::text,
       jsonb_build_object(
           'kind', $3::text, 'tenant_id', $1::uuid, 'event_id', events.id,
           'event_name', events.name, 'order_id', NULL, 'user_id', entries.user_id,
           'email', entries.email, 'total_cents', holds.subtotal_cents,
           'currency', events.currency, 'hold_id', entries.hold_id,
           'quantity', entries.quantity, 'offer_expires_at_ms', entries.offer_expires_at_ms)
FROM wait_list_entries AS entries
JOIN holds ON holds.id = entries.hold_id AND holds.event_id = entries.event_id
JOIN events ON events.id = entries.event_id
WHERE entries.event_id = $2 AND entries.id = ANY($4::uuid[])
ORDER BY entries.sequence
"""


async def write_wait_list(
    connection: asyncpg.Connection,
    tenant_id: uuid.UUID,
    event_id: uuid.UUID,
    drafts: dict[str, WaitListDraft],
    now_ms: int,
) -> str | None:
    """Write the batch's entries and queue its offers' notices; the conflict found, if any."""
    if not drafts:
        return None
    new = new_wait_list_entries(drafts)
    if new.entry_ids:
        await connection.execute(INSERT_WAIT_LIST_ENTRIES, tenant_id, event_id, now_ms, *new)
    moved = changed_wait_list_entries(drafts)
    if moved.entry_ids:
        updated = await connection.fetchval(UPDATE_WAIT_LIST_ENTRIES, event_id, now_ms, *moved)
        if updated != len(moved.entry_ids):
            return f"event {event_id}: a wait-list entry the batch moves has ended"
    offered = offers_to_announce(drafts)
    if offered:
        await connection.execute(
            INSERT_OFFER_NOTICES, tenant_id, event_id, WAIT_LIST_OFFERED, offered
        )
    return None
