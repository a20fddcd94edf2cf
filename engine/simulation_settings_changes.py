"""The venue's mid-sale changes that the seeded simulation draws: sale settings, a ticket type's
sale (its price phases and window), and its stock controls (general capacity, a new price).

Each function draws from the generator it is given, in a fixed order: reordering the draws changes
what every seed does.
"""

import msgspec

from engine.commands import (
    AddCapacity,
    ChangePrice,
    ChangeSaleSettings,
    ChangeTicketTypeSales,
    TicketTypeSalePatch,
)
from engine.price_phases import PricePhase
from engine.seeded_generator import SeededGenerator
from engine.simulation_event import HOLD_TTL_MS, OPENS_AT_MS

# What a venue may change mid-sale: a hold's time to live, the per-fan limit (none too), a later
# close. The limit may fall below what fans already have, which they keep.
NEW_HOLD_TTLS_MS = (30_000, HOLD_TTL_MS, 300_000)
NEW_LIMITS = (None, 1, 3, 6, 12)
CLOSE_POSTPONEMENTS_MS = (600_000, 3_600_000)
# A venue may change a type's phases and window (a later start too) before the type's first sale.
NEW_PRICE_PHASES = (
    (),
    (PricePhase(price_cents=7_500, first=3), PricePhase(price_cents=8_000)),
    (PricePhase(price_cents=4_000, until_ms=OPENS_AT_MS + 300_000), PricePhase(price_cents=4_500)),
)
NEW_SALE_STARTS_MS = (None, OPENS_AT_MS + 60_000)
NEW_SALE_ENDS_MS = (None, OPENS_AT_MS + 1_800_000)
# Stock controls: capacity for a general type (a seated one is refused), a price for any type.
CAPACITY_ADDED = (1, 5)
NEW_PRICES_CENTS = (0, 6_000, 9_500)
ACCESSIBLE_RELEASES_MS = (None, OPENS_AT_MS + 600_000)


def sale_settings_change(generator: SeededGenerator, closes_at_ms: int) -> ChangeSaleSettings:
    change = ChangeSaleSettings()
    if generator.chance(50):
        change = msgspec.structs.replace(change, hold_ttl_ms=generator.choice(NEW_HOLD_TTLS_MS))
    if generator.chance(50):
        change = msgspec.structs.replace(change, max_tickets_per_user=generator.choice(NEW_LIMITS))
    if generator.chance(30):
        postponement_ms = generator.choice(CLOSE_POSTPONEMENTS_MS)
        change = msgspec.structs.replace(change, closes_at_ms=closes_at_ms + postponement_ms)
    if generator.chance(20):
        change = msgspec.structs.replace(change, wait_list_enabled=generator.chance(70))
    if generator.chance(20):
        release_at_ms = generator.choice(ACCESSIBLE_RELEASES_MS)
        change = msgspec.structs.replace(change, accessible_release_at_ms=release_at_ms)
    return change


def stock_change(generator: SeededGenerator) -> AddCapacity | ChangePrice:
    ticket_type_id = generator.choice(("GA", "GA", "RES", "BOX"))
    if generator.chance(50):
        return AddCapacity(ticket_type_id=ticket_type_id, quantity=generator.choice(CAPACITY_ADDED))
    return ChangePrice(
        ticket_type_id=ticket_type_id, price_cents=generator.choice(NEW_PRICES_CENTS)
    )


def ticket_type_sales_change(generator: SeededGenerator) -> ChangeTicketTypeSales:
    patch = TicketTypeSalePatch(ticket_type_id=generator.choice(("GA", "RES", "BOX")))
    if generator.chance(50):
        patch = msgspec.structs.replace(patch, price_phases=generator.choice(NEW_PRICE_PHASES))
    if generator.chance(50):
        patch = msgspec.structs.replace(
            patch,
            on_sale_from_ms=generator.choice(NEW_SALE_STARTS_MS),
            on_sale_until_ms=generator.choice(NEW_SALE_ENDS_MS),
        )
    return ChangeTicketTypeSales(patches=(patch,))
