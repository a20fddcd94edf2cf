"""What is left to buy of an event, as its waiting room tells the fans still queued.

The InventoryActor works it out after each commit and the WaitingRoomActor reads it: while nothing
is available the room admits nobody (no admitted fan finds nothing to buy), and once nothing is
held either, every place still queued is shown `sold_out`.
"""

import enum
from collections.abc import Iterable
from typing import Protocol


class Tally(Protocol):
    """A ticket type's figures as the inventory or a snapshot of it keeps them."""

    @property
    def available(self) -> int: ...

    @property
    def held(self) -> int: ...


class Stock(enum.StrEnum):
    AVAILABLE = "available"
    # Nothing to hold now, but live holds may come back when they expire or are released.
    HELD = "held"
    SOLD_OUT = "sold_out"

    @classmethod
    def of(cls, *, available: int, held: int) -> "Stock":
        """The stock of an event with `available` units on sale and `held` in live holds."""
        if available > 0:
            return cls.AVAILABLE
        if held > 0:
            return cls.HELD
        return cls.SOLD_OUT

    @classmethod
    def of_counts(cls, counts: Iterable[Tally]) -> "Stock":
        """The stock of an event whose ticket types have these figures."""
        tallies = list(counts)
        return cls.of(
            available=sum(tally.available for tally in tallies),
            held=sum(tally.held for tally in tallies),
        )
