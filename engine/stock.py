"""What is left to buy of an event, as its waiting room tells the fans still queued.

The InventoryActor works it out after each commit and the WaitingRoomActor reads it: while nothing
is available the room admits nobody (no admitted fan finds nothing to buy), and once nothing is
held either, every place still queued is shown `sold_out`.
"""

import enum


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
