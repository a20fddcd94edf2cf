"""Small events and commands for the inventory tests, so each test states only what it varies."""

from engine.commands import Command, ItemRequest, PlaceHold
from engine.inventory.apply import execute
from engine.inventory.configuration import InventoryConfiguration, TicketKind, TicketTypeDefinition
from engine.inventory.decision import Decision
from engine.inventory.state import Inventory
from engine.rejections import Reason, Rejected
from engine.seat_map import RowLayout, SectionLayout

OPENS_AT_MS = 1_000_000
CLOSES_AT_MS = 9_000_000
HOLD_TTL_MS = 60_000
NOW_MS = OPENS_AT_MS + 1_000
GENERAL_PRICE_CENTS = 5_000
SEATED_PRICE_CENTS = 8_000


def build_configuration(
    *,
    general_capacity: int = 100,
    max_tickets_per_user: int | None = 6,
    sections: tuple[SectionLayout, ...] | None = None,
) -> InventoryConfiguration:
    if sections is None:
        sections = (
            SectionLayout(
                section_id="101",
                ticket_type_id="RES",
                rows=(RowLayout(row_id="A", seats=10), RowLayout(row_id="B", seats=12)),
            ),
            SectionLayout(
                section_id="102", ticket_type_id="RES", rows=(RowLayout(row_id="A", seats=8),)
            ),
        )
    return InventoryConfiguration(
        opens_at_ms=OPENS_AT_MS,
        closes_at_ms=CLOSES_AT_MS,
        hold_ttl_ms=HOLD_TTL_MS,
        max_tickets_per_user=max_tickets_per_user,
        ticket_types=(
            TicketTypeDefinition(
                ticket_type_id="GA",
                kind=TicketKind.GENERAL,
                price_cents=GENERAL_PRICE_CENTS,
                capacity=general_capacity,
            ),
            TicketTypeDefinition(
                ticket_type_id="RES", kind=TicketKind.SEATED, price_cents=SEATED_PRICE_CENTS
            ),
        ),
        sections=sections,
    )


def build_inventory(**options: object) -> Inventory:
    return Inventory(build_configuration(**options))  # type: ignore[arg-type]


def single_row_inventory(seats: int) -> Inventory:
    section = SectionLayout(
        section_id="1", ticket_type_id="RES", rows=(RowLayout(row_id="A", seats=seats),)
    )
    return build_inventory(sections=(section,))


def general_hold(
    hold_id: str = "hold-1",
    fan_id: str = "fan-1",
    quantity: int = 2,
    idempotency_key: str | None = None,
) -> PlaceHold:
    return PlaceHold(
        new_hold_id=hold_id,
        fan_id=fan_id,
        items=(ItemRequest(ticket_type_id="GA", quantity=quantity),),
        idempotency_key=idempotency_key,
    )


def accepted(inventory: Inventory, command: Command, now_ms: int = NOW_MS) -> Decision:
    result = execute(inventory, command, now_ms)
    assert isinstance(result, Decision), result
    inventory.assert_consistent()
    return result


def rejected(
    inventory: Inventory, command: Command, reason: Reason, now_ms: int = NOW_MS
) -> Rejected:
    before = inventory.comparable_state()
    result = execute(inventory, command, now_ms)
    assert isinstance(result, Rejected), result
    assert result.reason is reason, result
    assert inventory.comparable_state() == before, "a rejected command changed the inventory"
    return result
