"""The event the seeded simulation sells: its sale window, settings, ticket types and sections.

General admission steps up in price by units and by time, the boxes come off sale half an hour
in, and three seats of row 101-B are kept for fans who ask for accessible seats.
Changing anything here changes what every seed of the simulation does.
"""

from engine.inventory.configuration import InventoryConfiguration, TicketKind, TicketTypeDefinition
from engine.price_phases import PricePhase
from engine.seat_map import RowLayout, SectionLayout

OPENS_AT_MS = 1_000_000
CLOSES_AT_MS = OPENS_AT_MS + 3_600_000
HOLD_TTL_MS = 60_000
OFFER_TTL_MS = 60_000
GA_PHASES = (
    PricePhase(price_cents=4_995, first=8),
    PricePhase(price_cents=5_495, until_ms=OPENS_AT_MS + 600_000),
    PricePhase(price_cents=5_995),
)


def simulation_configuration() -> InventoryConfiguration:
    return InventoryConfiguration(
        opens_at_ms=OPENS_AT_MS,
        closes_at_ms=CLOSES_AT_MS,
        hold_ttl_ms=HOLD_TTL_MS,
        max_tickets_per_user=6,
        wait_list_enabled=True,
        offer_ttl_ms=OFFER_TTL_MS,
        ticket_types=(
            TicketTypeDefinition(
                ticket_type_id="GA",
                kind=TicketKind.GENERAL,
                price_cents=4_995,
                capacity=20,
                price_phases=GA_PHASES,
            ),
            TicketTypeDefinition(ticket_type_id="RES", kind=TicketKind.SEATED, price_cents=8_000),
            TicketTypeDefinition(
                ticket_type_id="BOX",
                kind=TicketKind.SEATED,
                price_cents=15_050,
                on_sale_until_ms=OPENS_AT_MS + 1_800_000,
            ),
        ),
        sections=(
            SectionLayout(
                section_id="101",
                ticket_type_id="RES",
                rows=(
                    RowLayout(row_id="A", seats=8),
                    RowLayout(row_id="B", seats=10, accessible=(4, 5), companion=(6,)),
                ),
            ),
            SectionLayout(
                section_id="102",
                ticket_type_id="RES",
                rows=(RowLayout(row_id="A", seats=6),),
            ),
            SectionLayout(
                section_id="B1", ticket_type_id="BOX", rows=(RowLayout(row_id="1", seats=5),)
            ),
        ),
    )
