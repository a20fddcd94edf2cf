"""A venue's PATCH of an event's `onsale`, checked whole against the event as Postgres has it
before anything changes: what the sale's InventoryActor changes, what the WaitingRoomActor
changes, and what the event row shows of the room.

Pure: it reads no connection, so every rule of a change is seen here; gateway/routes/venue.py
makes the change.
"""

import datetime

import msgspec

from engine.commands import ChangeSaleSettings, ChangeTicketTypeSales
from engine.limits import MILLISECONDS_PER_SECOND
from engine.waiting_room.commands import ChangeWaitingRoomSettings
from gateway.event_schemas import OnsalePatchBody, WaitingRoomPatchBody, WaitListPatchBody
from gateway.exchange import invalid
from gateway.schemas import EventStatus
from persistence.event_details import EventDetails
from persistence.event_repository import milliseconds_of

MILLISECONDS_PER_HOUR = 3_600 * MILLISECONDS_PER_SECOND
ONSALE = "onsale"
WAITING_ROOM = "onsale.waiting_room"
# The waiting room may be turned on or off, or made invite-only, only before anyone could have
# queued or shopped.
WAITING_ROOM_SWITCHABLE_STATUS: EventStatus = "scheduled"
INVITE_ONLY_NEEDS_A_ROOM = "an invite-only queue (requires_code) needs the waiting room enabled"


class OnsaleChange(msgspec.Struct, frozen=True, kw_only=True):
    """What a PATCH's `onsale` changes, checked whole: the sale's settings and its ticket types'
    own (the InventoryActor's), the waiting room's (its actor's), and what the event row shows of
    the room (None: as is)."""

    sale: ChangeSaleSettings | None = None
    ticket_type_sales: ChangeTicketTypeSales | None = None
    room: ChangeWaitingRoomSettings | None = None
    enabled: bool | None = None
    admit_per_second: int | None = None
    max_active_shoppers: int | None = None
    access_ttl_s: int | None = None
    requires_code: bool | None = None

    @property
    def shows_another_room(self) -> bool:
        return any(
            setting is not None
            for setting in (
                self.enabled,
                self.admit_per_second,
                self.max_active_shoppers,
                self.access_ttl_s,
                self.requires_code,
            )
        )


def given(value: object) -> bool:
    return value is not msgspec.UNSET


def admission_rate(
    onsale: OnsalePatchBody, room_body: WaitingRoomPatchBody
) -> int | msgspec.UnsetType:
    """The room's admissions per second the body asks for, under either of its two names; a
    VALIDATION_ERROR when the two names disagree."""
    if onsale.admit_per_second is None:
        return room_body.admit_per_second
    if given(room_body.admit_per_second) and room_body.admit_per_second != onsale.admit_per_second:
        raise invalid(
            "onsale.admit_per_second and onsale.waiting_room.admit_per_second differ",
            field=f"{ONSALE}.admit_per_second",
        )
    return onsale.admit_per_second


def sale_settings(
    onsale: OnsalePatchBody,
    *,
    opens_at_ms: int | None,
    closes_at_ms: int | None,
    starts_at_ms: int,
) -> ChangeSaleSettings | None:
    """What the sale's InventoryActor changes, or None when the body changes none of it; the
    wait list's settings are the sale's too, since its actor makes the offers, and so is the
    moment accessible seats are released (`accessible_release_h` before `starts_at`)."""
    hold_ttl_s = onsale.hold_ttl_s
    wait_list = onsale.wait_list
    if isinstance(wait_list, msgspec.UnsetType):
        wait_list = WaitListPatchBody()
    offer_ttl_s = wait_list.offer_ttl_s
    if all(value is None for value in (opens_at_ms, closes_at_ms)) and not any(
        given(value)
        for value in (
            hold_ttl_s,
            onsale.max_tickets_per_user,
            wait_list.enabled,
            offer_ttl_s,
            onsale.accessible_release_h,
        )
    ):
        return None
    release_h = onsale.accessible_release_h
    return ChangeSaleSettings(
        opens_at_ms=msgspec.UNSET if opens_at_ms is None else opens_at_ms,
        closes_at_ms=msgspec.UNSET if closes_at_ms is None else closes_at_ms,
        hold_ttl_ms=(
            msgspec.UNSET
            if isinstance(hold_ttl_s, msgspec.UnsetType)
            else hold_ttl_s * MILLISECONDS_PER_SECOND
        ),
        max_tickets_per_user=onsale.max_tickets_per_user,
        wait_list_enabled=wait_list.enabled,
        offer_ttl_ms=(
            msgspec.UNSET
            if isinstance(offer_ttl_s, msgspec.UnsetType)
            else offer_ttl_s * MILLISECONDS_PER_SECOND
        ),
        accessible_release_at_ms=(
            release_h
            if release_h is None or isinstance(release_h, msgspec.UnsetType)
            else starts_at_ms - release_h * MILLISECONDS_PER_HOUR
        ),
    )


def onsale_change(
    onsale: OnsalePatchBody, details: EventDetails, status: EventStatus | None
) -> OnsaleChange:
    """The change `onsale` asks for, or a VALIDATION_ERROR naming the first field at fault;
    `status` is the event's status, needed only when the room is turned on or off."""
    room_body = onsale.waiting_room
    if isinstance(room_body, msgspec.UnsetType):
        room_body = WaitingRoomPatchBody()
    admit_per_second = admission_rate(onsale, room_body)
    opens_at_ms = moment_ms(onsale.opens_at)
    closes_at_ms = moment_ms(onsale.closes_at)
    merged_opens_at_ms = details.opens_at_ms if opens_at_ms is None else opens_at_ms
    merged_closes_at_ms = details.closes_at_ms if closes_at_ms is None else closes_at_ms
    if merged_closes_at_ms <= merged_opens_at_ms:
        raise invalid(
            "onsale.closes_at must be after onsale.opens_at",
            field=f"{ONSALE}.closes_at" if closes_at_ms is not None else f"{ONSALE}.opens_at",
        )
    current = details.waiting_room
    enabled = (
        current.enabled if isinstance(room_body.enabled, msgspec.UnsetType) else room_body.enabled
    )
    switched = enabled != current.enabled
    if switched and status != WAITING_ROOM_SWITCHABLE_STATUS:
        raise invalid(
            "the waiting room can be turned on or off only while the event is scheduled, "
            f"before its sale opens; it is {status}",
            field=f"{WAITING_ROOM}.enabled",
            status=status,
        )
    requires_code = invite_only(room_body, details, status, enabled=enabled)
    sale = sale_settings(
        onsale,
        opens_at_ms=opens_at_ms,
        closes_at_ms=closes_at_ms,
        starts_at_ms=details.starts_at_ms,
    )
    # An event without a room keeps the room's settings it is given: they apply when the room is
    # turned on (while the event is scheduled).
    room_settings = {
        "admit_per_second": admit_per_second,
        "max_active_shoppers": room_body.max_active_shoppers,
        "access_ttl_s": room_body.access_ttl_s,
    }
    room_values = {name: value for name, value in room_settings.items() if given(value)}
    room = None
    if enabled and switched:
        # A room turned on starts from every setting the event shows, whatever it kept before.
        shown = {
            "admit_per_second": current.admit_per_second,
            "max_active_shoppers": current.max_active_shoppers,
            "access_ttl_s": current.access_ttl_s,
        }
        room = ChangeWaitingRoomSettings(opens_at_ms=merged_opens_at_ms, **(shown | room_values))
    elif enabled and (room_values or opens_at_ms is not None):
        room = ChangeWaitingRoomSettings(
            opens_at_ms=msgspec.UNSET if opens_at_ms is None else opens_at_ms, **room_values
        )
    return OnsaleChange(
        sale=sale,
        room=room,
        enabled=enabled if switched else None,
        requires_code=requires_code,
        **room_values,
    )


def invite_only(
    room_body: WaitingRoomPatchBody,
    details: EventDetails,
    status: EventStatus | None,
    *,
    enabled: bool,
) -> bool | None:
    """The new `requires_code`, or None when it stays as it is; it changes only while the event
    is scheduled, as the room is turned on or off, and never without a room."""
    current = details.waiting_room.requires_code
    requires_code = (
        current
        if isinstance(room_body.requires_code, msgspec.UnsetType)
        else room_body.requires_code
    )
    if requires_code != current and status != WAITING_ROOM_SWITCHABLE_STATUS:
        raise invalid(
            "the queue can be made invite-only or open only while the event is scheduled, "
            f"before its sale opens; it is {status}",
            field=f"{WAITING_ROOM}.requires_code",
            status=status,
        )
    if requires_code and not enabled:
        raise invalid(INVITE_ONLY_NEEDS_A_ROOM, field=f"{WAITING_ROOM}.requires_code")
    return requires_code if requires_code != current else None


def moment_ms(moment: datetime.datetime | msgspec.UnsetType) -> int | None:
    return None if isinstance(moment, msgspec.UnsetType) else milliseconds_of(moment)
