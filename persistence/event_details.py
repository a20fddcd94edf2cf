"""Events as the gateway reads and adjusts them: where an event lives, its details for the API,
its venue, and the settings a venue changes during a sale that no actor owns (the waiting room's
settings as the event shows them, transfers). The sale's own settings are the InventoryActor's.

The directory reads run without a tenant (they name only an event and its tenant); everything else
runs in the caller's tenant transaction, so row-level security fences it.
"""

import uuid

import asyncpg
import msgspec

from engine.entry.policy import EntryPolicy
from engine.ids import ZoneId
from engine.inventory.configuration import TicketKind
from engine.limits import OFFER_TTL_S_DEFAULT
from engine.price_phases import PricePhase
from engine.seat_map import SectionLayout
from persistence.entry_policies import entry_policy_from_json
from persistence.event_configuration import load_sections
from persistence.price_phases_column import price_phases_from_json


class EventLocation(msgspec.Struct, frozen=True, kw_only=True):
    event_id: uuid.UUID
    tenant_id: uuid.UUID
    event_number: int


class TicketTypeDetails(msgspec.Struct, frozen=True, kw_only=True):
    """With `price_phases`, `price_cents` is the first phase's; the price shown is the current
    phase's, worked out from the phases and the type's live counts."""

    ticket_type_id: str
    key: str
    name: str
    kind: TicketKind
    price_cents: int
    capacity: int
    on_sale_from_ms: int | None = None
    on_sale_until_ms: int | None = None
    price_phases: tuple[PricePhase, ...] = ()
    hidden: bool = False
    zone: ZoneId | None = None


class WaitingRoomDetails(msgspec.Struct, frozen=True, kw_only=True):
    """`requires_code`: joining the queue needs a valid code of the event."""

    enabled: bool
    admit_per_second: int
    max_active_shoppers: int
    access_ttl_s: int
    requires_code: bool = False


class WaitListDetails(msgspec.Struct, frozen=True, kw_only=True):
    enabled: bool
    offer_ttl_s: int


class EventDetails(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the API shows of an event that changes only when its venue changes it;
    `max_tickets_per_user` is None when the event sets no per-fan limit, `accessible_release_h`
    None when its accessible seats are never released to general sale, and `refund_until_ms` None
    unless the event was postponed (its fans may ask for a refund until then)."""

    location: EventLocation
    name: str
    venue_name: str
    currency: str
    starts_at_ms: int
    ends_at_ms: int
    opens_at_ms: int
    closes_at_ms: int
    hold_ttl_s: int
    max_tickets_per_user: int | None
    waiting_room: WaitingRoomDetails
    ticket_types: tuple[TicketTypeDetails, ...]
    sections: tuple[SectionLayout, ...]
    webhook_url: str | None
    webhook_secret: str
    transfers_allowed: bool = True
    wait_list: WaitListDetails = WaitListDetails(enabled=False, offer_ttl_s=OFFER_TTL_S_DEFAULT)
    entry: EntryPolicy = EntryPolicy()
    accessible_release_h: int | None = None
    cancelled: bool = False
    refund_until_ms: int | None = None


SELECT_LOCATION = """
SELECT event_id, owner_tenant_id, event_number FROM event_directory WHERE event_id = $1
"""

SELECT_LOCATION_BY_NUMBER = """
SELECT event_id, owner_tenant_id, event_number FROM event_directory WHERE event_number = $1
"""


def _location(row: asyncpg.Record | None) -> EventLocation | None:
    if row is None:
        return None
    return EventLocation(
        event_id=row["event_id"], tenant_id=row["owner_tenant_id"], event_number=row["event_number"]
    )


async def find_event_location(
    pool_or_connection: asyncpg.Pool | asyncpg.Connection, *, event_id: uuid.UUID
) -> EventLocation | None:
    return _location(await pool_or_connection.fetchrow(SELECT_LOCATION, event_id))


async def find_event_location_by_number(
    pool_or_connection: asyncpg.Pool | asyncpg.Connection, *, event_number: int
) -> EventLocation | None:
    return _location(await pool_or_connection.fetchrow(SELECT_LOCATION_BY_NUMBER, event_number))


SELECT_EVENT = """
SELECT events.name, venues.name AS venue_name, events.currency,
       (extract(epoch FROM events.starts_at) * 1000)::bigint AS starts_at_ms,
       (extract(epoch FROM events.ends_at) * 1000)::bigint AS ends_at_ms,
       (extract(epoch FROM events.opens_at) * 1000)::bigint AS opens_at_ms,
       (extract(epoch FROM events.closes_at) * 1000)::bigint AS closes_at_ms,
       events.hold_ttl_s, events.max_tickets_per_user, events.waiting_room_enabled,
       events.admit_per_second, events.max_active_shoppers, events.access_ttl_s,
       events.webhook_url, events.webhook_secret, events.transfers_allowed,
       events.wait_list_enabled, events.offer_ttl_s, events.waiting_room_requires_code,
       events.entry::text AS entry,
       (extract(epoch FROM events.starts_at - events.accessible_release_at) / 3600)::integer
           AS accessible_release_h,
       events.status = 'cancelled' AS cancelled,
       (extract(epoch FROM events.refund_until) * 1000)::bigint AS refund_until_ms
FROM events JOIN venues ON venues.id = events.venue_id
WHERE events.id = $1
"""

SELECT_TICKET_TYPES = """
SELECT id::text AS ticket_type_id, key, name, kind, price_cents, capacity,
       (extract(epoch FROM on_sale_from) * 1000)::bigint AS on_sale_from_ms,
       (extract(epoch FROM on_sale_until) * 1000)::bigint AS on_sale_until_ms,
       price_phases::text AS price_phases, hidden, zone
FROM ticket_types
WHERE event_id = $1
ORDER BY position
"""


async def load_event_details(
    connection: asyncpg.Connection, *, location: EventLocation
) -> EventDetails | None:
    """The event as the API shows it; None when the transaction's tenant cannot see it."""
    event = await connection.fetchrow(SELECT_EVENT, location.event_id)
    if event is None:
        return None
    ticket_types = tuple(
        TicketTypeDetails(
            ticket_type_id=row["ticket_type_id"],
            key=row["key"],
            name=row["name"],
            kind=TicketKind(row["kind"]),
            price_cents=row["price_cents"],
            capacity=row["capacity"],
            on_sale_from_ms=row["on_sale_from_ms"],
            on_sale_until_ms=row["on_sale_until_ms"],
            price_phases=price_phases_from_json(row["price_phases"]),
            hidden=row["hidden"],
            zone=row["zone"],
        )
        for row in await connection.fetch(SELECT_TICKET_TYPES, location.event_id)
    )
    return EventDetails(
        location=location,
        name=event["name"],
        venue_name=event["venue_name"],
        currency=event["currency"],
        starts_at_ms=event["starts_at_ms"],
        ends_at_ms=event["ends_at_ms"],
        opens_at_ms=event["opens_at_ms"],
        closes_at_ms=event["closes_at_ms"],
        hold_ttl_s=event["hold_ttl_s"],
        max_tickets_per_user=event["max_tickets_per_user"],
        waiting_room=WaitingRoomDetails(
            enabled=event["waiting_room_enabled"],
            admit_per_second=event["admit_per_second"],
            max_active_shoppers=event["max_active_shoppers"],
            access_ttl_s=event["access_ttl_s"],
            requires_code=event["waiting_room_requires_code"],
        ),
        ticket_types=ticket_types,
        sections=await load_sections(connection, event_id=location.event_id),
        webhook_url=event["webhook_url"],
        webhook_secret=event["webhook_secret"],
        transfers_allowed=event["transfers_allowed"],
        wait_list=WaitListDetails(
            enabled=event["wait_list_enabled"], offer_ttl_s=event["offer_ttl_s"]
        ),
        entry=entry_policy_from_json(event["entry"]),
        accessible_release_h=event["accessible_release_h"],
        cancelled=event["cancelled"],
        refund_until_ms=event["refund_until_ms"],
    )


SELECT_TENANT_EVENTS = "SELECT id FROM events ORDER BY opens_at DESC, id LIMIT $1"


async def list_event_ids(connection: asyncpg.Connection, *, limit: int) -> list[uuid.UUID]:
    """The transaction's tenant's events, the latest on-sale first."""
    return [row["id"] for row in await connection.fetch(SELECT_TENANT_EVENTS, limit)]


FIND_OR_ADD_VENUE = """
WITH added AS (
    INSERT INTO venues (tenant_id, name) VALUES ($1, $2)
    ON CONFLICT (tenant_id, name) DO NOTHING
    RETURNING id
)
SELECT id FROM added
UNION ALL
SELECT id FROM venues WHERE tenant_id = $1 AND name = $2
LIMIT 1
"""


async def find_or_add_venue(
    connection: asyncpg.Connection, *, tenant_id: uuid.UUID, name: str
) -> uuid.UUID:
    venue_id: uuid.UUID = await connection.fetchval(FIND_OR_ADD_VENUE, tenant_id, name)
    return venue_id


UPDATE_WAITING_ROOM_SETTINGS = """
UPDATE events
SET waiting_room_enabled = coalesce($2, waiting_room_enabled),
    admit_per_second = coalesce($3, admit_per_second),
    max_active_shoppers = coalesce($4, max_active_shoppers),
    access_ttl_s = coalesce($5, access_ttl_s),
    waiting_room_requires_code = coalesce($6, waiting_room_requires_code),
    updated_at = now()
WHERE id = $1
"""


async def record_waiting_room_settings(
    connection: asyncpg.Connection,
    *,
    event_id: uuid.UUID,
    enabled: bool | None = None,
    admit_per_second: int | None = None,
    max_active_shoppers: int | None = None,
    access_ttl_s: int | None = None,
    requires_code: bool | None = None,
) -> None:
    """The waiting room's settings as the API shows them and a new room starts from; None
    leaves a setting as it is. The room's own row is written by its actor."""
    await connection.execute(
        UPDATE_WAITING_ROOM_SETTINGS,
        event_id,
        enabled,
        admit_per_second,
        max_active_shoppers,
        access_ttl_s,
        requires_code,
    )


UPDATE_TRANSFERS_ALLOWED = """
UPDATE events SET transfers_allowed = $2, updated_at = now() WHERE id = $1
"""


async def record_transfers_allowed(
    connection: asyncpg.Connection, *, event_id: uuid.UUID, transfers_allowed: bool
) -> None:
    """Whether the event's fans may pass their tickets on, from the next transfer."""
    await connection.execute(UPDATE_TRANSFERS_ALLOWED, event_id, transfers_allowed)
