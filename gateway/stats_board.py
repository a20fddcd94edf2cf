"""The live figures of each event, read at most once per STATS_REFRESH_INTERVAL_MS per process.

A hundred dashboards and a million fans reading availability share one refresh: the first reader
after the interval refreshes, everyone else awaits that same refresh or takes the copy it left.
So the InventoryActor answers one snapshot call per second per gateway however many watch, and
the hot path of holds never waits behind the readers. Reading never starts an actor: an event
whose actor is not running (idle, finished, never touched) is read from Postgres instead.
"""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import asyncpg
import redis.asyncio as redis

from actors.inventory_figures import InventorySnapshot
from actors.waiting_room_publication import published_room
from engine import limits
from engine.stock import Stock
from gateway.errors import ApiError, ErrorCode
from gateway.event_clients import EventClients
from gateway.schemas import EventStatus, format_moment
from gateway.stats_schemas import (
    MintStatsView,
    OrderStatsView,
    QueueStatsView,
    RefundStatsView,
    StatsView,
    TicketTypeStatsView,
    wait_list_view,
)
from persistence.database_errors import DATABASE_ERRORS
from persistence.event_details import EventDetails
from persistence.idle_inventory import load_stored_inventory
from persistence.sales_figures import load_sales_figures
from persistence.tenancy import tenant_transaction

T = TypeVar("T")


class CachedRead(Generic[T]):
    """One value refreshed at most once per interval, by one reader at a time."""

    def __init__(self, read: Callable[[], Awaitable[T]]) -> None:
        self._read = read
        self._value: T | None = None
        self._read_at = float("-inf")
        self._refreshing: asyncio.Future[T] | None = None

    async def get(self) -> T:
        if time.monotonic() - self._read_at < limits.STATS_REFRESH_INTERVAL_MS / 1_000:
            assert self._value is not None
            return self._value
        if self._refreshing is not None:
            return await asyncio.shield(self._refreshing)
        self._refreshing = asyncio.get_running_loop().create_future()
        refreshing = self._refreshing
        try:
            value = await self._read()
        except BaseException as error:
            refreshing.set_exception(error)
            refreshing.exception()
            raise
        finally:
            self._refreshing = None
        self._value = value
        self._read_at = time.monotonic()
        refreshing.set_result(value)
        return value


def event_status(details: EventDetails, snapshot: InventorySnapshot, now_ms: int) -> EventStatus:
    if details.cancelled:
        return "cancelled"
    if now_ms >= details.closes_at_ms:
        return "closed"
    if snapshot.paused:
        return "paused"
    if now_ms < details.opens_at_ms:
        return "scheduled"
    if Stock.of_counts(snapshot.counts) is Stock.SOLD_OUT:
        return "sold_out"
    return "on_sale"


class StatsBoard:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        redis_client: redis.Redis,
        clients: EventClients,
        clock: Callable[[], int],
    ) -> None:
        self._pool = pool
        self._redis = redis_client
        self._clients = clients
        self._clock = clock
        self._reads: dict[tuple[uuid.UUID, str], CachedRead[object]] = {}
        self._streams = 0

    def open_stream(self) -> bool:
        """Count a new stats stream in; False when this process already serves its maximum."""
        if self._streams >= limits.STATS_STREAMS_PER_PROCESS_MAX:
            return False
        self._streams += 1
        return True

    def close_stream(self) -> None:
        self._streams -= 1

    def forget(self, event_id: uuid.UUID) -> None:
        """Drop the event's cached figures after this process changed them."""
        for key in [key for key in self._reads if key[0] == event_id]:
            del self._reads[key]

    async def inventory(self, details: EventDetails) -> InventorySnapshot:
        """Counts and pause of the event, at most a refresh interval old."""
        snapshot = await self._cached(details, "inventory", self._read_inventory, False)
        assert isinstance(snapshot, InventorySnapshot)
        return snapshot

    async def seat_states(self, details: EventDetails) -> InventorySnapshot:
        """As `inventory`, with the state of every seat."""
        snapshot = await self._cached(details, "seats", self._read_inventory, True)
        assert isinstance(snapshot, InventorySnapshot)
        return snapshot

    async def stats(self, details: EventDetails) -> StatsView:
        stats = await self._cached(details, "stats", self._read_stats, None)
        assert isinstance(stats, StatsView)
        return stats

    async def _cached(
        self,
        details: EventDetails,
        kind: str,
        read: Callable[[EventDetails, bool], Awaitable[object]],
        include_seats: bool | None,
    ) -> object:
        key = (details.location.event_id, kind)
        cached = self._reads.get(key)
        if cached is None:
            if len(self._reads) >= limits.EVENTS_CACHED_PER_PROCESS_MAX:
                self._reads.clear()
            cached = self._reads[key] = CachedRead(lambda: read(details, bool(include_seats)))
        return await cached.get()

    async def _read_inventory(
        self, details: EventDetails, include_seats: bool
    ) -> InventorySnapshot:
        location = details.location
        snapshot = await self._clients.inventory(location.event_id).snapshot(
            include_seats=include_seats
        )
        if snapshot is not None:
            return snapshot
        try:
            async with tenant_transaction(self._pool, location.tenant_id) as connection:
                stored = await load_stored_inventory(
                    connection, event_id=location.event_id, include_seats=include_seats
                )
        except DATABASE_ERRORS as error:
            raise ApiError(ErrorCode.UNAVAILABLE, message="the database is unavailable") from error
        return InventorySnapshot(
            paused=stored.paused, counts=stored.counts, seat_states=stored.seat_states
        )

    async def _read_stats(self, details: EventDetails, _: bool) -> StatsView:
        snapshot = await self.inventory(details)
        event_id = details.location.event_id
        try:
            async with tenant_transaction(self._pool, details.location.tenant_id) as connection:
                figures = await load_sales_figures(connection, event_id=event_id)
        except DATABASE_ERRORS as error:
            raise ApiError(ErrorCode.UNAVAILABLE, message="the database is unavailable") from error
        queue = await self._queue(details)
        now_ms = self._clock()
        keys = {ticket_type.ticket_type_id: ticket_type.key for ticket_type in details.ticket_types}
        by_ticket_type = [
            TicketTypeStatsView(
                ticket_type_id=counts.ticket_type_id,
                key=keys[counts.ticket_type_id],
                capacity=counts.capacity,
                sold=counts.sold,
                held=counts.held,
                available=counts.available,
                withheld=counts.withheld,
                blocked=counts.withheld,
            )
            for counts in snapshot.counts
        ]
        orders = figures.orders_by_status
        mints = figures.mints_by_status
        return StatsView(
            event_id=str(event_id),
            status=event_status(details, snapshot, now_ms),
            as_of=format_moment(now_ms),
            capacity=sum(view.capacity for view in by_ticket_type),
            sold=sum(view.sold for view in by_ticket_type),
            held=sum(view.held for view in by_ticket_type),
            available=sum(view.available for view in by_ticket_type),
            withheld=sum(view.withheld for view in by_ticket_type),
            revenue_cents=figures.revenue_cents,
            by_ticket_type=by_ticket_type,
            queue=queue,
            orders=OrderStatsView(**orders),
            mints=MintStatsView(**mints),
            comps=figures.comps_sold,
            blocked=sum(view.blocked for view in by_ticket_type),
            wait_list=wait_list_view(figures.wait_list),
            refunds=RefundStatsView(
                pending=figures.refunds.pending,
                refunded=figures.refunds.refunded,
                failed=figures.refunds.failed,
            ),
        )

    async def _queue(self, details: EventDetails) -> QueueStatsView:
        """From the room the waiting room last published to Redis; zeros without a room."""
        room = None
        if details.waiting_room.enabled:
            try:
                room = await published_room(self._redis, str(details.location.event_id))
            except (OSError, redis.RedisError):
                room = None
        settings = details.waiting_room
        if room is None:
            return QueueStatsView(
                waiting=0,
                admitted=0,
                admit_per_second=settings.admit_per_second,
                pre_queue=0,
                max_active_shoppers=settings.max_active_shoppers,
                access_ttl_s=settings.access_ttl_s,
                sold_out=0,
                presale_waiting=0,
            )
        return QueueStatsView(
            waiting=room.waiting,
            admitted=room.admitted,
            admit_per_second=room.admit_per_second,
            pre_queue=room.pre_queue,
            max_active_shoppers=(
                settings.max_active_shoppers
                if room.max_active_shoppers is None
                else room.max_active_shoppers
            ),
            access_ttl_s=settings.access_ttl_s if room.access_ttl_s is None else room.access_ttl_s,
            sold_out=room.sold_out,
            presale_waiting=room.presale_waiting,
        )
