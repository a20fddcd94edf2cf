"""An event as the API shows it to fans and to its venue: cached details plus live availability.

One format per audience, built here only, so every route that shows an event shows the same one.
"""

from actors.inventory_figures import InventorySnapshot
from gateway.schemas import (
    EventView,
    FanOnsaleView,
    FanTicketTypeView,
    SeatmapView,
    SeatRowView,
    SeatView,
    SectionView,
    VenueEventView,
    VenueOnsaleView,
    WaitingRoomSettingsView,
    WaitingRoomView,
    WaitListSettingsView,
    format_moment,
)
from gateway.stats_board import event_status
from persistence.event_details import EventDetails

AVAILABLE_SEAT_STATE = 0


def ticket_type_views(
    details: EventDetails, snapshot: InventorySnapshot
) -> list[FanTicketTypeView]:
    available = {counts.ticket_type_id: counts.available for counts in snapshot.counts}
    return [
        FanTicketTypeView(
            id=ticket_type.ticket_type_id,
            key=ticket_type.key,
            name=ticket_type.name,
            kind=ticket_type.kind,
            price_cents=ticket_type.price_cents,
            available=available.get(ticket_type.ticket_type_id, 0),
            hidden=ticket_type.hidden,
        )
        for ticket_type in details.ticket_types
    ]


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
            waiting_room=WaitingRoomView(enabled=details.waiting_room.enabled),
        ),
        ticket_types=ticket_type_views(details, snapshot),
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
            ),
            wait_list=WaitListSettingsView(
                enabled=details.wait_list.enabled, offer_ttl_s=details.wait_list.offer_ttl_s
            ),
        ),
        ticket_types=ticket_type_views(details, snapshot),
        webhook_url=details.webhook_url,
        webhook_secret=details.webhook_secret,
        transfers_allowed=details.transfers_allowed,
    )


def seatmap_view(details: EventDetails, snapshot: InventorySnapshot) -> SeatmapView:
    """Every seat in seat-map order; held, sold and withheld seats all show as unavailable."""
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
                )
                for number in range(1, row.seats + 1)
            ]
            seat_index += row.seats
            rows.append(SeatRowView(id=row.row_id, seats=seats))
        sections.append(
            SectionView(id=section.section_id, ticket_type_id=section.ticket_type_id, rows=rows)
        )
    return SeatmapView(sections=sections)
