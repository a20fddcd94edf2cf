"""Accessible seating as Postgres keeps it (migration 0035): each seat marked `accessible` or
`companion` (else ordinary), and the event's moment from which its unsold marked seats sell as
ordinary ones.

Written once, when the venue creates the event, in its tenant transaction; the release moment
changes later with the sale's settings (persistence.inventory_writes).
"""

import datetime
import uuid

import asyncpg

from engine.seat_map import SectionLayout

ACCESSIBLE = "accessible"
COMPANION = "companion"
HOUR = datetime.timedelta(hours=1)
UNIX_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
ONE_MILLISECOND = datetime.timedelta(milliseconds=1)

MARK_SEATS = """
UPDATE seats SET access = marked.access
FROM unnest($2::text[], $3::text[]) AS marked (label, access)
WHERE seats.event_id = $1 AND seats.label = marked.label
"""

SET_RELEASE = """
UPDATE events SET accessible_release_at = starts_at - $2::integer * interval '1 hour'
WHERE id = $1
"""


def marked_seats(sections: tuple[SectionLayout, ...]) -> list[tuple[str, str]]:
    """Every marked seat's label and marking, from the seat map's rows."""
    return [
        (f"{section.section_id}-{row.row_id}-{number}", access)
        for section in sections
        for row in section.rows
        for access, numbers in ((ACCESSIBLE, row.accessible), (COMPANION, row.companion))
        for number in numbers
    ]


async def write_accessible_seating(
    connection: asyncpg.Connection,
    *,
    event_id: uuid.UUID,
    sections: tuple[SectionLayout, ...],
    release_h: int | None,
) -> None:
    """Mark the new event's accessible and companion seats, and set its release moment."""
    marked = marked_seats(sections)
    if marked:
        updated = await connection.execute(
            MARK_SEATS, event_id, [label for label, _ in marked], [access for _, access in marked]
        )
        assert updated == f"UPDATE {len(marked)}", updated
    if release_h is not None:
        await connection.execute(SET_RELEASE, event_id, release_h)


def release_at_ms(starts_at: datetime.datetime, release_h: int | None) -> int | None:
    """The moment, in the engine's milliseconds, `release_h` hours before `starts_at`."""
    if release_h is None:
        return None
    return (starts_at - release_h * HOUR - UNIX_EPOCH) // ONE_MILLISECOND
