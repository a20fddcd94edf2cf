"""Unused tickets expire a day after their event ends: in the transaction's tenant, every ticket
still `valid` or `locked` (the statuses the state machine lets EXPIRE) of an event that ended
TICKETS_EXPIRE_AFTER_EVENT_ENDS_MS before `now_ms`, a bounded number per call.

Time is passed in, so the sweep is the same function in a test and in the Supervisor's rounds.
"""

import asyncpg

from engine import limits
from engine.tickets import TRANSITIONS, TicketAction, TicketStatus

EXPIRING_STATUSES = sorted(
    status for status, moves in TRANSITIONS.items() if TicketAction.EXPIRE in moves
)
EXPIRED = TicketStatus.EXPIRED

EXPIRE_UNUSED_TICKETS = """
UPDATE tickets SET status = $1, updated_at = now()
WHERE id IN (
    SELECT tickets.id
    FROM tickets JOIN events ON events.id = tickets.event_id
    WHERE events.ends_at <= timestamptz 'epoch' + $2::bigint * interval '1 millisecond'
      AND tickets.status = ANY($3::text[])
    LIMIT $4
    FOR UPDATE OF tickets SKIP LOCKED
)
AND status = ANY($3::text[])
"""


def expiring_events_ended_before_ms(now_ms: int) -> int:
    """The unused tickets of events that ended before this moment expire at `now_ms`."""
    return now_ms - limits.TICKETS_EXPIRE_AFTER_EVENT_ENDS_MS


async def expire_unused_tickets(connection: asyncpg.Connection, *, now_ms: int) -> int:
    """Expire the due tickets, up to TICKETS_EXPIRED_PER_ROUND_MAX; how many were expired."""
    status = await connection.execute(
        EXPIRE_UNUSED_TICKETS,
        EXPIRED,
        expiring_events_ended_before_ms(now_ms),
        EXPIRING_STATUSES,
        limits.TICKETS_EXPIRED_PER_ROUND_MAX,
    )
    return int(status.split()[-1])
