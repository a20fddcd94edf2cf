"""The bodies of API.md as msgspec Structs: what the gateway decodes and what it encodes.

Requests forbid unknown fields, so a typo is a VALIDATION_ERROR, never silently ignored. The
OpenAPI document is generated from these Structs (gateway/openapi.py), so a field changed here is
changed in the contract too: change API.md's shapes only by adding.
"""

import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from engine import limits
from engine.inventory.configuration import TicketKind
from engine.stock import Stock
from engine.waiting_room.state import PlaceState

Name = Annotated[str, Meta(min_length=1, max_length=200)]
Key = Annotated[str, Meta(min_length=1, max_length=50)]
Label = Annotated[str, Meta(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9]+$")]


UNIX_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def format_moment(moment_ms: int) -> str:
    """RFC 3339 in UTC with milliseconds, as every time in the API is written; in integers, as a
    float of seconds loses the last millisecond in the far future."""
    moment = UNIX_EPOCH + datetime.timedelta(milliseconds=moment_ms)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


MOMENT_RANGE = f"{format_moment(limits.MOMENT_MS_MIN)} to {format_moment(limits.MOMENT_MS_MAX)}"
# Checked after decoding (gateway.exchange.decode_body), as no schema keyword bounds a date-time.
Moment = Annotated[
    datetime.datetime,
    Meta(
        tz=True,
        description=f"RFC 3339 with an offset; once converted to UTC, from {MOMENT_RANGE}.",
    ),
]
Cents = Annotated[int, Meta(ge=0, le=100_000_000)]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
Identifier = Annotated[str, Meta(min_length=1, max_length=64)]
SeatLabel = Annotated[str, Meta(min_length=1, max_length=64)]
UnitQuantity = Annotated[int, Meta(ge=1, le=limits.UNITS_PER_GENERAL_HOLD_MAX)]
SeatQuantity = Annotated[int, Meta(ge=1, le=limits.SEATS_PER_HOLD_MAX)]
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
CodeText = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=limits.CODE_CHARACTERS_MAX,
        description="A presale or discount code of the event, in any case; one per hold.",
    ),
]
WaitListQuantity = Annotated[int, Meta(ge=1, le=limits.WAIT_LIST_QUANTITY_MAX)]
CodeText = Annotated[
    str, Meta(min_length=1, max_length=64, description="A code of the event, in any case.")
]
WebhookUrl = Annotated[
    str,
    Meta(
        max_length=limits.WEBHOOK_URL_CHARACTERS_MAX,
        pattern=r"^https?://[!-~]+$",
        description="Where the event's order notices are POSTed, signed with webhook_secret.",
    ),
]


class Request(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A request body: unknown fields are refused."""


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
    `on_sale_from` and `on_sale_until` bound the type's sale inside the event's."""

    key: Key
    name: Name
    kind: TicketKind
    price_cents: Cents | None = None
    capacity: Annotated[int, Meta(ge=0, le=limits.CAPACITY_PER_TICKET_TYPE_MAX)] | None = None
    on_sale_from: Moment | None = None
    on_sale_until: Moment | None = None
    price_phases: PricePhases = []
    hidden: bool = False


class RowBody(Request):
    id: Label
    seats: Annotated[int, Meta(ge=1, le=limits.SEATS_PER_ROW_MAX)]


class SectionBody(Request):
    id: Label
    ticket_type: Key
    rows: Annotated[list[RowBody], Meta(min_length=1, max_length=limits.ROWS_PER_SECTION_MAX)]


class SeatmapBody(Request):
    sections: Annotated[list[SectionBody], Meta(max_length=limits.SECTIONS_PER_EVENT_MAX)]


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


class TicketTypePatchBody(Request):
    """A ticket type's window and phases, by its key, before its first sale; a field left out
    stays as it is, a bound set to null follows the event's window, and `price_phases: []`
    drops the phases (the type keeps the price it shows)."""

    key: Key
    on_sale_from: Moment | UnsetType | None = UNSET
    on_sale_until: Moment | UnsetType | None = UNSET
    price_phases: PricePhases | UnsetType = UNSET


class PatchEventBody(Request):
    status: Literal["paused", "live"] | None = None
    onsale: OnsalePatchBody | None = None
    transfers_allowed: bool | None = None
    ticket_types: (
        Annotated[
            list[TicketTypePatchBody],
            Meta(min_length=1, max_length=limits.TICKET_TYPES_PER_EVENT_MAX),
        ]
        | None
    ) = None


class ItemBody(Request):
    ticket_type_id: Identifier
    quantity: UnitQuantity


class BestAvailableBody(Request):
    ticket_type_id: Identifier
    quantity: SeatQuantity
    contiguous: bool = True
    section: Label | None = None


class QueueJoinBody(Request):
    """The optional body of a queue join: a code of the event. An invite-only queue needs one;
    elsewhere only a presale code counts (it puts the fan in the presale line before
    `opens_at`), and any other code is ignored."""

    code: CodeText | None = None


class HoldBody(Request):
    """Exactly one of `items`, `seats` or `best_available`."""

    items: (
        Annotated[list[ItemBody], Meta(min_length=1, max_length=limits.ITEMS_PER_HOLD_MAX)] | None
    ) = None
    seats: (
        Annotated[list[SeatLabel], Meta(min_length=1, max_length=limits.SEATS_PER_HOLD_MAX)] | None
    ) = None
    best_available: BestAvailableBody | None = None
    code: CodeText | None = None


class Response(msgspec.Struct, frozen=True, kw_only=True):
    """A response body."""


class CreatedTicketTypeView(Response):
    id: str
    key: str


class CreatedEventView(Response):
    event_id: str
    ticket_types: list[CreatedTicketTypeView]
    seats: int


class WaitingRoomView(Response):
    enabled: bool
    requires_code: bool


class WaitingRoomSettingsView(Response):
    enabled: bool
    admit_per_second: int
    max_active_shoppers: int
    access_ttl_s: int
    requires_code: bool


class FanOnsaleView(Response):
    opens_at: str
    closes_at: str
    waiting_room: WaitingRoomView


class PricePhaseView(Response, omit_defaults=True):
    price_cents: int
    first: int | None = None
    until: str | None = None


class FanTicketTypeView(Response):
    """`price_cents` is the price of the current phase; `on_sale_from` and `on_sale_until` are
    null when the type follows the event's window."""

    id: str
    key: str
    name: str
    kind: TicketKind
    price_cents: int
    available: int
    on_sale_from: str | None = None
    on_sale_until: str | None = None
    price_phases: list[PricePhaseView] = []
    hidden: bool = False


class CodeCheckView(Response):
    """Whether the code given to an event's read is valid now; `reason` says why not."""

    valid: bool
    reason: str | UnsetType = UNSET


EventStatus = Literal["scheduled", "on_sale", "paused", "sold_out", "closed"]


class EventView(Response):
    event_id: str
    name: str
    starts_at: str
    status: EventStatus
    currency: str
    onsale: FanOnsaleView
    ticket_types: list[FanTicketTypeView]
    code: CodeCheckView | UnsetType = UNSET


class WaitListSettingsView(Response):
    enabled: bool
    offer_ttl_s: int


class VenueOnsaleView(Response):
    """`max_tickets_per_user` is null when the event sets no per-fan limit."""

    opens_at: str
    closes_at: str
    hold_ttl_s: int
    max_tickets_per_user: int | None
    waiting_room: WaitingRoomSettingsView
    wait_list: WaitListSettingsView


class VenueEventView(Response):
    """`webhook_secret` keys the HMAC-SHA256 in each webhook's `Onsale-Signature` header."""

    event_id: str
    name: str
    venue_name: str
    starts_at: str
    ends_at: str
    status: EventStatus
    currency: str
    onsale: VenueOnsaleView
    ticket_types: list[FanTicketTypeView]
    webhook_url: str | None
    webhook_secret: str
    transfers_allowed: bool = True


class VenueEventList(Response):
    events: list[VenueEventView]


class SeatView(Response):
    n: int
    status: Literal["available", "unavailable"]


class SeatRowView(Response):
    id: str
    seats: list[SeatView]


class SectionView(Response):
    id: str
    ticket_type_id: str
    rows: list[SeatRowView]


class SeatmapView(Response):
    sections: list[SectionView]


class QueueView(Response):
    """`inventory` is what the event has left: `held` while nothing is available but holds may
    come back; a queued place shows `state` `sold_out` once nothing is held either, and
    `wait_list` says whether the event's wait list is open to join instead."""

    queue_id: str
    state: PlaceState
    position: int | None
    eta_s: int | None
    access_token: str | None
    inventory: Stock
    wait_list: bool


class HoldItemView(Response):
    ticket_type_id: str
    quantity: int
    unit_price_cents: int


HoldStatus = Literal["active", "released", "expired", "converted"]


class HoldView(Response):
    hold_id: str
    event_id: str
    status: HoldStatus
    expires_at: str
    items: list[HoldItemView]
    seats: list[str]
    subtotal_cents: int
    code: str | None = None


class WaitListJoinBody(Request):
    """`ticket_type_id` left out: the first ticket type, in the event's order, with enough."""

    quantity: WaitListQuantity
    ticket_type_id: Identifier | None = None


WaitListEntryStatus = Literal["waiting", "offered", "converted", "expired", "left"]


class WaitListJoinView(Response):
    entry_id: str
    status: WaitListEntryStatus
    position: int | None


class WaitListEntryView(Response):
    """`position` counts the entries waiting ahead (0: next), null unless `waiting`; `hold_id` and
    `offer_expires_at` are the offer's, null until the entry is offered."""

    entry_id: str
    event_id: str
    status: WaitListEntryStatus
    position: int | None
    quantity: int
    ticket_type_id: str | None
    hold_id: str | None
    offer_expires_at: str | None
