"""Where best available looks for seats: accessible and companion seats are kept for the fans who
ask for them (and offered to those fans first) until the event releases them to general sale,
from `accessible_release_at_ms` on. A named-seat hold may take them at any time.

The moment is passed in (`now_ms`); nothing here reads a clock.
"""

from collections.abc import Sequence

from engine.inventory.state import Inventory


def are_marked_seats_kept(inventory: Inventory, now_ms: int) -> bool:
    """True while the event's accessible and companion seats are kept off general sale."""
    if not inventory.seat_map.reserved_seat_indexes:
        return False
    release_at_ms = inventory.configuration.accessible_release_at_ms
    return release_at_ms is None or now_ms < release_at_ms


def find_best_available(
    inventory: Inventory,
    row_ranges: Sequence[range],
    quantity: int,
    *,
    contiguous: bool,
    accessible: bool,
    now_ms: int,
) -> list[int] | None:
    """The best seats for the request: for `accessible`, among the marked seats first and then
    anywhere; otherwise among the seats that are not marked, unless they are released."""
    seat_states = inventory.seat_states
    if not are_marked_seats_kept(inventory, now_ms):
        return seat_states.find_best_seats(row_ranges, quantity, contiguous)
    marked = inventory.seat_map.reserved_seat_indexes
    if accessible:
        preferred = seat_states.search_view(marked, only=True).find_best_seats(
            row_ranges, quantity, contiguous
        )
        if preferred is not None:
            return preferred
        return seat_states.find_best_seats(row_ranges, quantity, contiguous)
    return seat_states.search_view(marked, only=False).find_best_seats(
        row_ranges, quantity, contiguous
    )
