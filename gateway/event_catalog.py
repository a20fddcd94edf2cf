"""The events this gateway serves, as cached copies of their details, and where each id leads.

Details change only when a venue changes them, so each is read from Postgres at most once per
EVENT_DETAILS_CACHE_TTL_MS per process (unknown ids too, so a flood of made-up ids costs one read
each per period). Requests that find a copy out of date together wait for one read, so a sale's
crowd never sends a burst of identical reads when the period ends.

The tenant comes from the event directory, so a fan of any tenant can read any event while every
read stays fenced to the event's own tenant.
"""

import asyncio
import time
import uuid
from collections.abc import Callable

import asyncpg

from engine import limits
from persistence.event_details import (
    EventDetails,
    EventLocation,
    find_event_location,
    find_event_location_by_number,
    load_event_details,
)
from persistence.located_ids import event_number_of
from persistence.tenancy import tenant_transaction


class EventCatalog:
    def __init__(
        self, pool: asyncpg.Pool, *, monotonic_s: Callable[[], float] = time.monotonic
    ) -> None:
        self._pool = pool
        self._monotonic_s = monotonic_s
        self._details: dict[uuid.UUID, tuple[float, EventDetails | None]] = {}
        self._numbers: dict[int, uuid.UUID] = {}
        self._reading: dict[uuid.UUID, asyncio.Task[EventDetails | None]] = {}

    async def details(self, event_id: uuid.UUID) -> EventDetails | None:
        """The event's details, or None when no event has this id."""
        cached = self._details.get(event_id)
        if (
            cached is not None
            and self._monotonic_s() - cached[0] < limits.EVENT_DETAILS_CACHE_TTL_MS / 1_000
        ):
            return cached[1]
        reading = self._reading.get(event_id)
        if reading is None:
            reading = asyncio.create_task(self._read(event_id))
            self._reading[event_id] = reading
            reading.add_done_callback(lambda done: self._read_ended(event_id, done))
        # A caller that gives up does not cancel the read the others wait for.
        return await asyncio.shield(reading)

    async def details_of_located_id(self, located_id: uuid.UUID) -> EventDetails | None:
        """The event a hold or order id was minted for; None when the id names no event."""
        event_number = event_number_of(located_id)
        if event_number is None:
            return None
        event_id = self._numbers.get(event_number)
        if event_id is None:
            location = await find_event_location_by_number(self._pool, event_number=event_number)
            if location is None:
                return None
            event_id = location.event_id
        return await self.details(event_id)

    def forget(self, event_id: uuid.UUID) -> None:
        """Drop the cached copy after this process changed the event; a read already under way
        may predate the change, so it is not kept either."""
        self._details.pop(event_id, None)
        self._reading.pop(event_id, None)

    async def _read(self, event_id: uuid.UUID) -> EventDetails | None:
        read_at_s = self._monotonic_s()
        details = await self._load(event_id)
        if self._reading.get(event_id) is asyncio.current_task():
            if len(self._details) >= limits.EVENTS_CACHED_PER_PROCESS_MAX:
                self._details.clear()
            self._details[event_id] = (read_at_s, details)
            if details is not None:
                self._numbers[details.location.event_number] = event_id
        return details

    def _read_ended(self, event_id: uuid.UUID, done: "asyncio.Task[EventDetails | None]") -> None:
        if self._reading.get(event_id) is done:
            del self._reading[event_id]
        if not done.cancelled():
            done.exception()  # every waiter has heard it; nothing is left unretrieved

    async def _load(self, event_id: uuid.UUID) -> EventDetails | None:
        location: EventLocation | None = await find_event_location(self._pool, event_id=event_id)
        if location is None:
            return None
        async with tenant_transaction(self._pool, location.tenant_id) as connection:
            return await load_event_details(connection, location=location)
