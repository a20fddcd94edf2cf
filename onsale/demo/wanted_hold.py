"""What a demo fan asks a hold for: the kind, quantity and place of their plan, VIP and the
presale code for a fan-club member while they may help, and what the fan settles for once the
event shows only what is left. The fan's journey (`fan.py`) changes it as answers come.
"""

import time
from collections.abc import Awaitable, Callable
from typing import Any

from loadtests.scenario import FanPlan, Want
from onsale.demo.presale import PRESALE_CODE, VIP_QUANTITY
from onsale.demo.sale_facts import SaleFacts

SeatPicker = Callable[[int], Awaitable[list[str]]]


def adjacent_available_runs(seatmap: dict[str, Any], quantity: int) -> list[list[str]]:
    """Every run of `quantity` side-by-side available seats on the map, as seat ids."""
    runs = []
    for section in seatmap["sections"]:
        for row in section["rows"]:
            streak: list[str] = []
            for seat in row["seats"]:
                if seat["status"] != "available":
                    streak = []
                    continue
                streak.append(f"{section['id']}-{row['id']}-{seat['n']}")
                if len(streak) >= quantity:
                    runs.append(streak[-quantity:])
    return runs


class WantedHold:
    """`code` is the presale code while the fan still tries it, `wants_vip` whether they still
    try VIP first; the journey drops either once it is refused."""

    def __init__(self, plan: FanPlan, sale: SaleFacts, *, member: bool) -> None:
        self._sale = sale
        self.want = plan.want
        self.quantity = plan.quantity
        self.section = plan.section
        self.contiguous = True
        # A fan-club member queues with the presale code and holds VIP with it first.
        self.code = PRESALE_CODE if member else None
        self.wants_vip = member and sale.vip_id is not None

    def settle_for_what_is_left(self, available: dict[str, int]) -> None:
        """Any seats rather than side by side, in any section, of whichever kind is left, and
        no more of them than are left."""
        self.contiguous = False
        self.section = None
        if self.want is Want.NAMED_SEATS:
            self.want = Want.BEST_AVAILABLE
        general = available.get(self._sale.general_id or "", 0)
        reserved = available.get(self._sale.reserved_id or "", 0)
        wants_general = self.want is Want.GENERAL
        if wants_general and general == 0 and reserved > 0:
            self.want = Want.BEST_AVAILABLE
        elif not wants_general and reserved == 0 and general > 0:
            self.want = Want.GENERAL
        left = general if self.want is Want.GENERAL else reserved
        if 0 < left < self.quantity:
            self.quantity = left

    async def body(self, pick_seats: SeatPicker) -> dict[str, Any]:
        """What the fan asks for, seats named by `pick_seats` when the fan names them; a
        member's presale code goes with it while it may help: for VIP, and for anything before
        the opening."""
        body = await self._wanted(pick_seats)
        if self.code and (self.wants_vip or time.monotonic() < self._sale.opens_at_monotonic):
            body["code"] = self.code
        return body

    async def _wanted(self, pick_seats: SeatPicker) -> dict[str, Any]:
        if self.wants_vip:
            return {"items": [{"ticket_type_id": self._sale.vip_id, "quantity": VIP_QUANTITY}]}
        if self.want is Want.GENERAL and self._sale.general_id is not None:
            items = [{"ticket_type_id": self._sale.general_id, "quantity": self.quantity}]
            return {"items": items}
        if self.want is Want.NAMED_SEATS:
            seats = await pick_seats(self.quantity)
            if seats:
                return {"seats": seats}
            self.want = Want.BEST_AVAILABLE
        if self._sale.reserved_id is None:
            items = [{"ticket_type_id": self._sale.general_id, "quantity": self.quantity}]
            return {"items": items}
        best: dict[str, Any] = {
            "ticket_type_id": self._sale.reserved_id,
            "quantity": self.quantity,
            "contiguous": self.contiguous,
        }
        if self.section is not None:
            best["section"] = self.section
        return {"best_available": best}
