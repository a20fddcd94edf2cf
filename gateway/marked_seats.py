"""The accessible and companion seats of a new event's seat map, checked as the venue gives them
so that an error names the field at fault: numbers of their row, each marked once."""

from gateway.event_schemas import SectionBody
from gateway.exchange import invalid


def check_marked_seats(section: SectionBody, position: int) -> None:
    """VALIDATION_ERROR naming the first row whose marked numbers are not seats of it."""
    for row_position, row in enumerate(section.rows):
        field = f"seatmap.sections[{position}].rows[{row_position}]"
        for marking, numbers in (("accessible", row.accessible), ("companion", row.companion)):
            outside = [number for number in numbers if number > row.seats]
            if outside:
                raise invalid(
                    f"{marking} seats must be seats of row {row.id}",
                    field=f"{field}.{marking}",
                    numbers=outside,
                )
            if len(set(numbers)) != len(numbers):
                raise invalid(f"{marking} seats appear once each", field=f"{field}.{marking}")
        if set(row.accessible) & set(row.companion):
            raise invalid("a seat is accessible or companion, not both", field=f"{field}.companion")
