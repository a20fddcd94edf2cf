"""The bodies a venue sends to create an event and to change it (PATCH), as msgspec Structs:
the on-sale settings with its waiting room and wait list, the ticket types with their price
phases, and the seat map.

As in gateway/schemas.py, requests forbid unknown fields and the OpenAPI document is generated
from these Structs: change their shapes only by adding.
"""

from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType, field

from engine import limits
from engine.inventory.configuration import TicketKind
from gateway.schemas import Key, Label, Moment, Request, ZoneId

Name = Annotated[str, Meta(min_length=1, max_length=200)]
Cents = Annotated[int, Meta(ge=0, le=100_000_000)]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
HoldTtl = Annotated[
    int,
    Meta(
        ge=limits.HOLD_TTL_S_MIN,
        le=limits.HOLD_TTL_S_MAX,
        description="Seconds a new hold lives before its inventory returns to sale.",
    ),
]
TicketsPerFan = Annotated[
    int,
    Meta(
        ge=1,
        le=limits.TICKETS_PER_USER_MAX,
        description="Tickets one fan may hold and buy for the event, or null for no limit.",
    ),
]
AdmitPerSecond = Annotated[
    int, Meta(ge=limits.ADMIT_PER_SECOND_MIN, le=limits.ADMIT_PER_SECOND_MAX)
]
ActiveShoppers = Annotated[
    int, Meta(ge=limits.MAX_ACTIVE_SHOPPERS_MIN, le=limits.MAX_ACTIVE_SHOPPERS_MAX)
]
AccessTtl = Annotated[
    int,
    Meta(
        ge=limits.ACCESS_TTL_S_MIN,
        le=limits.ACCESS_TTL_S_MAX,
        description="Seconds an access token from the waiting room lets its fan shop.",
    ),
]
OfferTtl = Annotated[
    int,
    Meta(
        ge=limits.OFFER_TTL_S_MIN,
        le=limits.OFFER_TTL_S_MAX,
        description="Seconds a wait-list offer (a hold of its fan) lasts before it passes on.",
    ),
]
AccessibleReleaseHours = Annotated[
    int,
    Meta(
        ge=0,
        le=limits.ACCESSIBLE_RELEASE_H_MAX,
        description=(
            "Hours before starts_at from which unsold accessible and companion seats sell as "
            "ordinary seats; null: never."
        ),
    ),
]
WebhookUrl = Annotated[
    str,
    Meta(
        max_length=limits.WEBHOOK_URL_CHARACTERS_MAX,
        pattern=r"^https?://[!-~]+$",
        description="Where the event's order notices are POSTed, signed with webhook_secret.",
    ),
]


class WaitingRoomSettingsBody(Request):
    """`requires_code` makes the queue invite-only: joining it needs a valid code."""

    enabled: bool = False
    admit_per_second: AdmitPerSecond = 50
    max_active_shoppers: ActiveShoppers = 2_000
    access_ttl_s: AccessTtl = 900
    requires_code: bool = False


class WaitListSettingsBody(Request):
    enabled: bool = False
    offer_ttl_s: OfferTtl = limits.OFFER_TTL_S_DEFAULT


class OnsaleBody(Request):
    opens_at: Moment
    closes_at: Moment
    hold_ttl_s: HoldTtl = 600
    max_tickets_per_user: TicketsPerFan | None = 6
    waiting_room: WaitingRoomSettingsBody = WaitingRoomSettingsBody()
    wait_list: WaitListSettingsBody = WaitListSettingsBody()
    accessible_release_h: AccessibleReleaseHours | None = None


class PricePhaseBody(Request):
    """Every phase but the last has exactly one of `first` (units) and `until`."""

    price_cents: Cents
    first: Annotated[int, Meta(ge=1, le=limits.CAPACITY_PER_TICKET_TYPE_MAX)] | None = None
    until: Moment | None = None


PricePhases = Annotated[
    list[PricePhaseBody], Meta(max_length=limits.PRICE_PHASES_PER_TICKET_TYPE_MAX)
]


class TicketTypeBody(Request):
    """`price_cents` may be left out when `price_phases` are given (it is the first phase's);
    `on_sale_from` and `on_sale_until` bound the type's sale inside the event's. `zone` is the
    zone of the event's entry policy its tickets enter (with every zone it includes); left out,
    they pass only the main entrance."""

    key: Key
    name: Name
    kind: TicketKind
    price_cents: Cents | None = None
    capacity: Annotated[int, Meta(ge=0, le=limits.CAPACITY_PER_TICKET_TYPE_MAX)] | None = None
    on_sale_from: Moment | None = None
    on_sale_until: Moment | None = None
    price_phases: PricePhases = field(default_factory=list)
    hidden: bool = False
    zone: ZoneId | None = None


SeatNumbers = Annotated[
    list[Annotated[int, Meta(ge=1, le=limits.SEATS_PER_ROW_MAX)]],
    Meta(max_length=limits.SEATS_PER_ROW_MAX),
]


class RowBody(Request):
    """`accessible` and `companion` mark seat numbers of the row: best available gives them only
    to fans who ask for accessible seats, until `onsale.accessible_release_h`."""

    id: Label
    seats: Annotated[int, Meta(ge=1, le=limits.SEATS_PER_ROW_MAX)]
    accessible: SeatNumbers = field(default_factory=list)
    companion: SeatNumbers = field(default_factory=list)


class SectionBody(Request):
    id: Label
    ticket_type: Key
    rows: Annotated[list[RowBody], Meta(min_length=1, max_length=limits.ROWS_PER_SECTION_MAX)]


class SeatmapBody(Request):
    sections: Annotated[list[SectionBody], Meta(max_length=limits.SECTIONS_PER_EVENT_MAX)]


class ZoneBody(Request):
    """A zone behind gates of its own; its tickets may also enter every zone it `includes`, and
    every zone those include."""

    id: ZoneId
    includes: Annotated[list[ZoneId], Meta(max_length=limits.ZONES_PER_EVENT_MAX)] = field(
        default_factory=list
    )


class ReentryBody(Request):
    """Whether a ticket that went out through a gate may come back in: `cooldown_s` after it
    went out at the earliest, and `max_reentries` times in each zone at most."""

    enabled: bool = False
    cooldown_s: Annotated[
        int, Meta(ge=limits.REENTRY_COOLDOWN_S_MIN, le=limits.REENTRY_COOLDOWN_S_MAX)
    ] = 0
    max_reentries: Annotated[
        int, Meta(ge=limits.REENTRIES_PER_ZONE_MIN, le=limits.REENTRIES_PER_ZONE_MAX)
    ] = limits.REENTRIES_PER_ZONE_MAX


class EntryBody(Request):
    """The event's entry policy, whole: its zones and its re-entry rule."""

    zones: Annotated[list[ZoneBody], Meta(max_length=limits.ZONES_PER_EVENT_MAX)] = field(
        default_factory=list
    )
    reentry: ReentryBody = ReentryBody()


class CreateEventBody(Request):
    name: Name
    venue_name: Name
    starts_at: Moment
    ends_at: Moment
    currency: Currency
    onsale: OnsaleBody
    ticket_types: Annotated[
        list[TicketTypeBody], Meta(min_length=1, max_length=limits.TICKET_TYPES_PER_EVENT_MAX)
    ]
    seatmap: SeatmapBody | None = None
    webhook_url: WebhookUrl | None = None
    transfers_allowed: bool = True
    entry: EntryBody | None = None


class WaitingRoomPatchBody(Request):
    """A field left out stays as it is. `enabled` and `requires_code` may change only while the
    event is `scheduled`; the others need a waiting room, and `access_ttl_s` applies to the
    accesses granted after it."""

    enabled: bool | UnsetType = UNSET
    admit_per_second: AdmitPerSecond | UnsetType = UNSET
    max_active_shoppers: ActiveShoppers | UnsetType = UNSET
    access_ttl_s: AccessTtl | UnsetType = UNSET
    requires_code: bool | UnsetType = UNSET


class WaitListPatchBody(Request):
    """A field left out stays as it is; a new `offer_ttl_s` applies to the offers made after it."""

    enabled: bool | UnsetType = UNSET
    offer_ttl_s: OfferTtl | UnsetType = UNSET


class OnsalePatchBody(Request):
    """The on-sale settings in the shape of creation; a field left out stays as it is. A change
    applies to what comes after it: holds keep their expiry, and a lowered
    `max_tickets_per_user` keeps what fans hold and bought. `admit_per_second` here is the
    form of API v1, the same as `waiting_room.admit_per_second`."""

    opens_at: Moment | UnsetType = UNSET
    closes_at: Moment | UnsetType = UNSET
    hold_ttl_s: HoldTtl | UnsetType = UNSET
    max_tickets_per_user: TicketsPerFan | UnsetType | None = UNSET
    waiting_room: WaitingRoomPatchBody | UnsetType = UNSET
    admit_per_second: AdmitPerSecond | None = None
    wait_list: WaitListPatchBody | UnsetType = UNSET
    accessible_release_h: AccessibleReleaseHours | UnsetType | None = UNSET


class TicketTypePatchBody(Request):
    """A ticket type's window and phases, by its key, before its first sale; a field left out
    stays as it is, a bound set to null follows the event's window, and `price_phases: []`
    drops the phases (the type keeps the price it shows). `zone` may change at any time (null:
    the main entrance only) and applies to the scans after it."""

    key: Key
    on_sale_from: Moment | UnsetType | None = UNSET
    on_sale_until: Moment | UnsetType | None = UNSET
    price_phases: PricePhases | UnsetType = UNSET
    zone: ZoneId | UnsetType | None = UNSET


class PatchEventBody(Request):
    """`entry` replaces the event's entry policy whole."""

    status: Literal["paused", "live"] | None = None
    onsale: OnsalePatchBody | None = None
    transfers_allowed: bool | None = None
    entry: EntryBody | None = None
    ticket_types: (
        Annotated[
            list[TicketTypePatchBody],
            Meta(min_length=1, max_length=limits.TICKET_TYPES_PER_EVENT_MAX),
        ]
        | None
    ) = None
