"""What an event's inventory is made of, and the checks a configuration must pass to make one.

The checks return every problem at once, by the field at fault; a new setting gets its bounds in
engine.limits and its check here, used by both `validate_configuration` and the settings change.
"""

import enum
from collections.abc import Sequence

import msgspec

from engine import limits
from engine.ids import TicketTypeId
from engine.limits import MILLISECONDS_PER_SECOND
from engine.price_phases import PricePhase, price_phases_problems
from engine.rejections import Reason, Rejected
from engine.sale_windows import sale_window_problems
from engine.seat_map import RowLayout, SectionLayout

SEAT_ID_FORBIDDEN_CHARACTER = "-"


class TicketKind(enum.StrEnum):
    GENERAL = "general"
    SEATED = "seated"


class TicketTypeDefinition(msgspec.Struct, frozen=True, kw_only=True):
    """A ticket type; `capacity` is given for general admission, counted from seats when seated.
    With `price_phases`, `price_cents` is the first phase's price (the phases price each unit)."""

    ticket_type_id: TicketTypeId
    kind: TicketKind
    price_cents: int
    capacity: int = 0
    on_sale_from_ms: int | None = None
    on_sale_until_ms: int | None = None
    price_phases: tuple[PricePhase, ...] = ()
    hidden: bool = False


class InventoryConfiguration(msgspec.Struct, frozen=True, kw_only=True):
    """`max_tickets_per_user` is None when the event sets no per-fan limit; with the wait list
    enabled, stock that comes back is offered to its entries for `offer_ttl_ms` each. From
    `accessible_release_at_ms` on, accessible and companion seats sell as any other (None:
    never)."""

    opens_at_ms: int
    closes_at_ms: int
    hold_ttl_ms: int
    max_tickets_per_user: int | None
    ticket_types: tuple[TicketTypeDefinition, ...]
    sections: tuple[SectionLayout, ...] = ()
    wait_list_enabled: bool = False
    offer_ttl_ms: int = limits.OFFER_TTL_S_DEFAULT * MILLISECONDS_PER_SECOND
    accessible_release_at_ms: int | None = None


def sale_settings_problems(
    opens_at_ms: int, closes_at_ms: int, hold_ttl_ms: int, max_tickets_per_user: int | None
) -> dict[str, str]:
    """What is wrong with the sale's settings, by the field at fault."""
    problems: dict[str, str] = {}
    if opens_at_ms >= closes_at_ms:
        problems["closes_at"] = "closes_at must be after opens_at"
    ttl_s_bounds = (limits.HOLD_TTL_S_MIN, limits.HOLD_TTL_S_MAX)
    if not (
        ttl_s_bounds[0] * MILLISECONDS_PER_SECOND
        <= hold_ttl_ms
        <= ttl_s_bounds[1] * MILLISECONDS_PER_SECOND
        and hold_ttl_ms % MILLISECONDS_PER_SECOND == 0
    ):
        problems["hold_ttl_s"] = (
            f"hold_ttl_s must be whole seconds between {ttl_s_bounds[0]} and {ttl_s_bounds[1]}"
        )
    if max_tickets_per_user is not None and not (
        1 <= max_tickets_per_user <= limits.TICKETS_PER_USER_MAX
    ):
        problems["max_tickets_per_user"] = (
            f"max_tickets_per_user must be between 1 and {limits.TICKETS_PER_USER_MAX}, or none"
        )
    return problems


def wait_list_problems(offer_ttl_ms: int) -> dict[str, str]:
    """What is wrong with the wait list's settings, by the field at fault."""
    bounds_s = (limits.OFFER_TTL_S_MIN, limits.OFFER_TTL_S_MAX)
    if (
        bounds_s[0] * MILLISECONDS_PER_SECOND
        <= offer_ttl_ms
        <= bounds_s[1] * MILLISECONDS_PER_SECOND
        and offer_ttl_ms % MILLISECONDS_PER_SECOND == 0
    ):
        return {}
    return {
        "wait_list.offer_ttl_s": (
            f"offer_ttl_s must be whole seconds between {bounds_s[0]} and {bounds_s[1]}"
        )
    }


def validate_configuration(configuration: InventoryConfiguration) -> Rejected | None:
    """Why a configuration cannot make an inventory, or None when it can."""
    problems = list(
        sale_settings_problems(
            configuration.opens_at_ms,
            configuration.closes_at_ms,
            configuration.hold_ttl_ms,
            configuration.max_tickets_per_user,
        ).values()
    )
    problems.extend(wait_list_problems(configuration.offer_ttl_ms).values())
    ticket_types = configuration.ticket_types
    if not 1 <= len(ticket_types) <= limits.TICKET_TYPES_PER_EVENT_MAX:
        problems.append(f"an event has 1 to {limits.TICKET_TYPES_PER_EVENT_MAX} ticket types")
    kinds = {ticket_type.ticket_type_id: ticket_type.kind for ticket_type in ticket_types}
    if len(kinds) != len(ticket_types):
        problems.append("ticket type ids must be unique")
    for ticket_type in ticket_types:
        if ticket_type.price_cents < 0:
            problems.append(f"{ticket_type.ticket_type_id}: price_cents must not be negative")
        if ticket_type.kind is TicketKind.GENERAL and not (
            1 <= ticket_type.capacity <= limits.CAPACITY_PER_TICKET_TYPE_MAX
        ):
            problems.append(f"{ticket_type.ticket_type_id}: capacity out of bounds")
        if ticket_type.kind is TicketKind.SEATED and ticket_type.capacity != 0:
            problems.append(f"{ticket_type.ticket_type_id}: a seated capacity is its seat count")
        problems.extend(
            f"{ticket_type.ticket_type_id}: {problem}"
            for problem in ticket_type_sale_problems(
                ticket_type, configuration.opens_at_ms, configuration.closes_at_ms
            ).values()
        )
    problems.extend(_seat_map_problems(configuration.sections, kinds))
    if not problems:
        return None
    return Rejected(
        reason=Reason.VALIDATION_ERROR,
        message="; ".join(problems),
        details={"problems": problems},
    )


def ticket_type_sale_problems(
    ticket_type: TicketTypeDefinition, opens_at_ms: int, closes_at_ms: int
) -> dict[str, str]:
    """What is wrong with a type's own window and price phases, by the field at fault."""
    problems = sale_window_problems(
        ticket_type.on_sale_from_ms, ticket_type.on_sale_until_ms, opens_at_ms, closes_at_ms
    )
    phases = ticket_type.price_phases
    phase_problems = price_phases_problems(phases)
    if phase_problems:
        problems["price_phases"] = "; ".join(phase_problems)
    elif phases and ticket_type.price_cents != phases[0].price_cents:
        problems["price_cents"] = "price_cents, when given with price_phases, is the first phase's"
    return problems


def _marked_seat_problems(row: RowLayout) -> list[str]:
    """Accessible and companion seats are numbers of the row, each marked once."""
    problems = []
    for marking, numbers in (("accessible", row.accessible), ("companion", row.companion)):
        if len(set(numbers)) != len(numbers):
            problems.append(f"{marking} seats appear once each")
        outside = [number for number in numbers if not 1 <= number <= row.seats]
        if outside:
            problems.append(f"{marking} seats {outside} are not in the row")
    if set(row.accessible) & set(row.companion):
        problems.append("a seat is accessible or companion, not both")
    return problems


def _seat_map_problems(
    sections: Sequence[SectionLayout], kinds: dict[TicketTypeId, TicketKind]
) -> list[str]:
    problems: list[str] = []
    if len(sections) > limits.SECTIONS_PER_EVENT_MAX:
        problems.append(f"an event has at most {limits.SECTIONS_PER_EVENT_MAX} sections")
    if len({section.section_id for section in sections}) != len(sections):
        problems.append("section ids must be unique")
    seat_count = 0
    for section in sections:
        name = section.section_id
        if not name or SEAT_ID_FORBIDDEN_CHARACTER in name:
            problems.append(f"section id {name!r} must be non-empty and without '-'")
        if kinds.get(section.ticket_type_id) is not TicketKind.SEATED:
            problems.append(f"section {name}: ticket type must be a seated type of this event")
        if not 1 <= len(section.rows) <= limits.ROWS_PER_SECTION_MAX:
            problems.append(f"section {name}: 1 to {limits.ROWS_PER_SECTION_MAX} rows")
        if len({row.row_id for row in section.rows}) != len(section.rows):
            problems.append(f"section {name}: row ids must be unique")
        for row in section.rows:
            if not row.row_id or SEAT_ID_FORBIDDEN_CHARACTER in row.row_id:
                problems.append(f"section {name}: row id {row.row_id!r} is not usable")
            if not 1 <= row.seats <= limits.SEATS_PER_ROW_MAX:
                problems.append(f"section {name} row {row.row_id}: 1 to 250 seats")
            problems.extend(
                f"section {name} row {row.row_id}: {problem}"
                for problem in _marked_seat_problems(row)
            )
            seat_count += row.seats
    if seat_count > limits.SEATS_PER_EVENT_MAX:
        problems.append(f"an event has at most {limits.SEATS_PER_EVENT_MAX} seats")
    seated_with_sections = {section.ticket_type_id for section in sections}
    for ticket_type_id, kind in kinds.items():
        if kind is TicketKind.SEATED and ticket_type_id not in seated_with_sections:
            problems.append(f"{ticket_type_id}: a seated type needs at least one section")
    return problems
