"""Why a venue gives tickets away, and which allocation each reason draws them from.

Comps leave the inventory through an allocation (`Withholding`): press through PRESS, artists'
guests through ARTISTS, every other reason through COMPS. A kill is never given away. A new
reason gets its row here and in the orders table's check of migration 0015.
"""

import enum

from engine.commands import Withholding


class CompReason(enum.StrEnum):
    PRESS = "press"
    ARTIST_GUEST = "artist_guest"
    VIP_GUEST = "vip_guest"
    STAFF = "staff"
    PROMOTIONAL = "promotional"
    SPONSOR = "sponsor"
    CONTEST_WINNER = "contest_winner"
    CUSTOMER_SERVICE = "customer_service"


COMP_ALLOCATIONS: dict[CompReason, Withholding] = {
    CompReason.PRESS: Withholding.PRESS,
    CompReason.ARTIST_GUEST: Withholding.ARTISTS,
    CompReason.VIP_GUEST: Withholding.COMPS,
    CompReason.STAFF: Withholding.COMPS,
    CompReason.PROMOTIONAL: Withholding.COMPS,
    CompReason.SPONSOR: Withholding.COMPS,
    CompReason.CONTEST_WINNER: Withholding.COMPS,
    CompReason.CUSTOMER_SERVICE: Withholding.COMPS,
}
assert set(COMP_ALLOCATIONS) == set(CompReason), "every reason draws from an allocation"
assert Withholding.KILL not in COMP_ALLOCATIONS.values(), "killed inventory is never given away"
