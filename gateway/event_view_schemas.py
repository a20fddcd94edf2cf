"""How an event is shown as msgspec Structs: to fans (its page, with the ticket types, their
prices and what is left, and its seat map) and to its venue (every setting, and the answer to
its creation).

As in gateway/schemas.py, the OpenAPI document is generated from these Structs: change their
shapes only by adding.
"""

from typing import Literal

from msgspec import UNSET, UnsetType, field

from engine.inventory.configuration import TicketKind
from gateway.schemas import EventStatus, Response


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
    price_phases: list[PricePhaseView] = field(default_factory=list)
    hidden: bool = False
    zone: str | None = None


class CodeCheckView(Response):
    """Whether the code given to an event's read is valid now; `reason` says why not."""

    valid: bool
    reason: str | UnsetType = UNSET


class EventView(Response):
    event_id: str
    name: str
    starts_at: str
    status: EventStatus
    currency: str
    onsale: FanOnsaleView
    ticket_types: list[FanTicketTypeView]
    code: CodeCheckView | UnsetType = UNSET
    refund_until: str | None = None


class WaitListSettingsView(Response):
    enabled: bool
    offer_ttl_s: int


class VenueOnsaleView(Response):
    """`max_tickets_per_user` is null when the event sets no per-fan limit;
    `accessible_release_h` when accessible seats are never released to general sale."""

    opens_at: str
    closes_at: str
    hold_ttl_s: int
    max_tickets_per_user: int | None
    waiting_room: WaitingRoomSettingsView
    wait_list: WaitListSettingsView
    accessible_release_h: int | None = None


class ZoneView(Response):
    id: str
    includes: list[str]


class ReentryView(Response):
    enabled: bool
    cooldown_s: int
    max_reentries: int


class EntryView(Response):
    """The event's entry policy: no zones and re-entry off until the venue sets one."""

    zones: list[ZoneView]
    reentry: ReentryView


class VenueEventView(Response):
    """`webhook_secret` keys the HMAC-SHA256 in each webhook's `Onsale-Signature` header;
    `refund_until` is set once the event is postponed: its fans may ask for a refund until then."""

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
    entry: EntryView | None = None
    refund_until: str | None = None


class VenueEventList(Response):
    events: list[VenueEventView]


class SeatView(Response, omit_defaults=True):
    """`accessible` and `companion` appear, true, only on seats so marked."""

    n: int
    status: Literal["available", "unavailable"]
    accessible: bool = False
    companion: bool = False


class SeatRowView(Response):
    id: str
    seats: list[SeatView]


class SectionView(Response):
    id: str
    ticket_type_id: str
    rows: list[SeatRowView]


class SeatmapView(Response):
    sections: list[SectionView]
