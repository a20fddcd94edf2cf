"""An event as the API shows it to fans and to its venue: cached details plus live availability.

One format per audience, built here only, so every route that shows an event shows the same one.
"""

from actors.inventory_figures import InventorySnapshot
from engine.entry.policy import EntryPolicy
from engine.inventory.unit_counts import TicketTypeCounts
from engine.limits import MILLISECONDS_PER_SECOND
from engine.price_phases import current_price_cents
from gateway.event_view_schemas import (
    EntryView,
    EventView,
    FanOnsaleView,
    FanTicketTypeView,
    PricePhaseView,
    ReentryView,
    SeatmapView,
    SeatRowView,
    SeatView,
    SectionView,
    VenueEventView,
    VenueOnsaleView,
    WaitingRoomSettingsView,
    WaitingRoomView,
    WaitListSettingsView,
    ZoneView,
)
from gateway.schemas import format_moment
from gateway.stats_board import event_status
from persistence.event_details import EventDetails, TicketTypeDetails

AVAILABLE_SEAT_STATE = 0


def ticket_type_views(
    details: EventDetails, snapshot: InventorySnapshot, now_ms: int
) -> list[FanTicketTypeView]:
    counts = {figures.ticket_type_id: figures for figures in snapshot.counts}
    views = []
    for ticket_type in details.ticket_types:
        figures = counts.get(ticket_type.ticket_type_id)
        views.append(
            FanTicketTypeView(
                id=ticket_type.ticket_type_id,
                key=ticket_type.key,
                name=ticket_type.name,
                kind=ticket_type.kind,
                price_cents=shown_price_cents(ticket_type, figures, now_ms),
                available=0 if figures is None else figures.available,
                hidden=ticket_type.hidden,
                zone=ticket_type.zone,
                on_sale_from=optional_moment(ticket_type.on_sale_from_ms),
                on_sale_until=optional_moment(ticket_type.on_sale_until_ms),
                price_phases=[
                    PricePhaseView(
                        price_cents=phase.price_cents,
                        first=phase.first,
                        until=optional_moment(phase.until_ms),
                    )
                    for phase in ticket_type.price_phases
                ],
            )
        )
    return views


def shown_price_cents(
    ticket_type: TicketTypeDetails, figures: TicketTypeCounts | None, now_ms: int
) -> int:
    """The current phase's price: the next unit's, counting what is sold and held now."""
    if not ticket_type.price_phases:
        return ticket_type.price_cents
    taken = 0 if figures is None else figures.sold + figures.held
    return current_price_cents(ticket_type.price_phases, taken, now_ms)


def optional_moment(moment_ms: int | None) -> str | None:
    return None if moment_ms is None else format_moment(moment_ms)


def fan_event_view(details: EventDetails, snapshot: InventorySnapshot, now_ms: int) -> EventView:
    return EventView(
        event_id=str(details.location.event_id),
        name=details.name,
        starts_at=format_moment(details.starts_at_ms),
        status=event_status(details, snapshot, now_ms),
        currency=details.currency,
        onsale=FanOnsaleView(
            opens_at=format_moment(details.opens_at_ms),
            closes_at=format_moment(details.closes_at_ms),
            waiting_room=WaitingRoomView(
                enabled=details.waiting_room.enabled,
                requires_code=details.waiting_room.requires_code,
            ),
        ),
        ticket_types=ticket_type_views(details, snapshot, now_ms),
        refund_until=optional_moment(details.refund_until_ms),
    )


def venue_event_view(
    details: EventDetails, snapshot: InventorySnapshot, now_ms: int
) -> VenueEventView:
    waiting_room = details.waiting_room
    return VenueEventView(
        event_id=str(details.location.event_id),
        name=details.name,
        venue_name=details.venue_name,
        starts_at=format_moment(details.starts_at_ms),
        ends_at=format_moment(details.ends_at_ms),
        status=event_status(details, snapshot, now_ms),
        currency=details.currency,
        onsale=VenueOnsaleView(
            opens_at=format_moment(details.opens_at_ms),
            closes_at=format_moment(details.closes_at_ms),
            hold_ttl_s=details.hold_ttl_s,
            max_tickets_per_user=details.max_tickets_per_user,
            waiting_room=WaitingRoomSettingsView(
                enabled=waiting_room.enabled,
                admit_per_second=waiting_room.admit_per_second,
                max_active_shoppers=waiting_room.max_active_shoppers,
                access_ttl_s=waiting_room.access_ttl_s,
                requires_code=waiting_room.requires_code,
            ),
            wait_list=WaitListSettingsView(
                enabled=details.wait_list.enabled, offer_ttl_s=details.wait_list.offer_ttl_s
            ),
            accessible_release_h=details.accessible_release_h,
        ),
        ticket_types=ticket_type_views(details, snapshot, now_ms),
        webhook_url=details.webhook_url,
        webhook_secret=details.webhook_secret,
        transfers_allowed=details.transfers_allowed,
        entry=entry_view(details.entry),
        refund_until=optional_moment(details.refund_until_ms),
    )


def entry_view(policy: EntryPolicy) -> EntryView:
    return EntryView(
        zones=[ZoneView(id=zone.zone_id, includes=list(zone.includes)) for zone in policy.zones],
        reentry=ReentryView(
            enabled=policy.reentry.enabled,
            cooldown_s=policy.reentry.cooldown_ms // MILLISECONDS_PER_SECOND,
            max_reentries=policy.reentry.max_reentries,
        ),
    )


def seatmap_view(details: EventDetails, snapshot: InventorySnapshot) -> SeatmapView:
    """Every seat in seat-map order; held, sold, blocked and withheld seats all show as
    unavailable, and accessible and companion seats are marked so."""
    states = snapshot.seat_states
    seat_index = 0
    sections = []
    for section in details.sections:
        rows = []
        for row in section.rows:
            seats = [
                SeatView(
                    n=number,
                    status="available"
                    if states[seat_index + number - 1] == AVAILABLE_SEAT_STATE
                    else "unavailable",
                    accessible=number in row.accessible,
                    companion=number in row.companion,
                )
                for number in range(1, row.seats + 1)
            ]
            seat_index += row.seats
            rows.append(SeatRowView(id=row.row_id, seats=seats))
        sections.append(
            SectionView(id=section.section_id, ticket_type_id=section.ticket_type_id, rows=rows)
        )
    return SeatmapView(sections=sections)
