"""Applying Stripe's kept events, on the payment workers: the one the webhook route asks for at
once, and the ones still waiting at each payment reconciler round.

An event is taken from its inbox for a lease, applied through services/stripe_events.py's table
and marked applied. An attempt that fails (Stripe, Postgres or an inventory unavailable, or a
handler that raises) puts the event back after a backoff that doubles with its attempts, so it is
applied once the cause is gone and never lost.
"""

import json
import logging

import asyncpg

from engine import limits
from persistence.stripe_event_inbox import (
    mark_stripe_event_applied,
    record_stripe_event_failure,
    take_stripe_event,
    waiting_stripe_events,
)
from services.settlement_parts import SettlementParts
from services.stripe_events import STRIPE_EVENT_HANDLERS

log = logging.getLogger(__name__)


def stripe_event_backoff_ms(attempts: int) -> int:
    """How long an event that failed its `attempts`-th attempt waits for the next."""
    doublings = min(max(attempts - 1, 0), limits.STRIPE_EVENT_BACKOFF_MAX_MS.bit_length())
    return int(
        min(limits.STRIPE_EVENT_BACKOFF_BASE_MS * 2**doublings, limits.STRIPE_EVENT_BACKOFF_MAX_MS)
    )


async def apply_stripe_event(parts: SettlementParts, event_id: str) -> bool | None:
    """Apply the kept event: True when it changed something, False when it was none of ours or
    nothing new; None when it is not applied now (applied already, held by another worker,
    waiting out a backoff, or this attempt failed and it waits for the next)."""
    async with parts.pool.acquire() as connection:
        stored = await take_stripe_event(
            connection, event_id, lease_ms=limits.STRIPE_EVENT_LEASE_MS
        )
    if stored is None:
        return None
    handler = STRIPE_EVENT_HANDLERS.get(stored.event_type)
    try:
        applied = handler is not None and await handler(parts, json.loads(stored.payload))
    except Exception as error:
        log.warning(
            "a Stripe event could not be applied; it is tried again later",
            exc_info=not isinstance(error, asyncpg.PostgresError | OSError),
            extra={"stripe_event_id": event_id, "attempts": stored.attempts},
        )
        async with parts.pool.acquire() as connection:
            await record_stripe_event_failure(
                connection,
                event_id,
                error=repr(error),
                retry_in_ms=stripe_event_backoff_ms(stored.attempts),
            )
        return None
    async with parts.pool.acquire() as connection:
        await mark_stripe_event_applied(connection, event_id)
    return applied


async def apply_waiting_stripe_events(parts: SettlementParts) -> int:
    """Apply the events still waiting that nobody holds; how many were applied now. An event the
    webhook route is still waiting for is left to the worker it asked, so that the route can tell
    Stripe whether it was applied."""
    async with parts.pool.acquire() as connection:
        waiting = await waiting_stripe_events(
            connection,
            limit=limits.STRIPE_EVENTS_APPLIED_PER_ROUND_MAX,
            kept_for_ms=limits.STRIPE_EVENT_WAIT_MS,
        )
    applied = 0
    for event_id in waiting:
        applied += await apply_stripe_event(parts, event_id) is not None
    return applied
