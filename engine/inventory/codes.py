"""Codes a venue gives out (presale and discount), their tallies, and the discount rule.

Use rule: one use is one hold. A hold names at most one code; placing it takes one use of the code
(and one of its fan's uses), whatever the hold's quantity. The use is held while the hold is live,
given back when the hold is released or expires (a wait-list offer's hold too), and kept when the
hold becomes a sale; a refunded or cancelled sale gives it back. `held + uses <= max_uses` and each
fan's `taken <= max_uses_per_fan` at every instant, counting live holds.

Coverage: a code covers a ticket type it unlocks, or one in its `applies_to` (every visible type
when `applies_to` is empty). A hold with a code must ask for at least one type the code covers;
before the sale opens, a valid presale code lets its fan hold the types it covers, and only those.

Hidden types: a hidden ticket type is sold only in a hold whose code unlocks it. Without a code it
is refused like a type the event does not have (VALIDATION_ERROR), so a fan cannot learn it exists;
with a code that does not unlock it the hold is CODE_INVALID.
"""

import dataclasses
import enum
from collections.abc import Iterable

import msgspec

from engine.holds import Hold, Sale
from engine.ids import CodeId, FanId, TicketTypeId
from engine.pricing import discounted_unit_price


class CodeKind(enum.StrEnum):
    PRESALE = "presale"
    DISCOUNT = "discount"


class CodeDefinition(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A code as the venue wrote it; `key` (upper case) is what fans' codes are matched by.
    At most one of `discount_percent` and `discount_amount_cents` is set."""

    code_id: CodeId
    code: str
    kind: CodeKind
    unlocks: tuple[TicketTypeId, ...] = ()
    applies_to: tuple[TicketTypeId, ...] = ()
    valid_from_ms: int | None = None
    valid_until_ms: int | None = None
    max_uses: int | None = None
    max_uses_per_fan: int | None = None
    discount_percent: int | None = None
    discount_amount_cents: int | None = None
    active: bool = True

    @property
    def key(self) -> str:
        return code_key(self.code)

    @property
    def discounts(self) -> bool:
        return self.discount_percent is not None or self.discount_amount_cents is not None

    def is_valid_at(self, now_ms: int) -> bool:
        return (
            self.active
            and (self.valid_from_ms is None or self.valid_from_ms <= now_ms)
            and (self.valid_until_ms is None or now_ms < self.valid_until_ms)
        )

    def discounts_type(self, ticket_type_id: TicketTypeId) -> bool:
        return self.discounts and (not self.applies_to or ticket_type_id in self.applies_to)

    def covers(self, ticket_type_id: TicketTypeId, hidden: bool) -> bool:
        """Whether a hold of the type is one this code is for (see the module's rule)."""
        if ticket_type_id in self.unlocks or ticket_type_id in self.applies_to:
            return True
        return not self.applies_to and not hidden

    def opens_early(self, now_ms: int) -> bool:
        """A presale code lets its fans hold from its `valid_from`, before the sale opens."""
        return (
            self.kind is CodeKind.PRESALE
            and self.valid_from_ms is not None
            and self.is_valid_at(now_ms)
        )


def code_key(code: str) -> str:
    return code.upper()


def discounted(unit_price_cents: int, code: CodeDefinition | None, ticket_type_id: str) -> int:
    """The unit price after the code's discount, for one unit of the type: a discount applies per
    unit, to the types of `applies_to` (all types when empty), by the rule of
    `engine.pricing.discounted_unit_price`. The hold keeps the unit price so worked out, and the
    order, the payment and the ledger are computed from it."""
    if code is None or not code.discounts_type(ticket_type_id):
        return unit_price_cents
    return discounted_unit_price(
        unit_price_cents, code.discount_percent, code.discount_amount_cents
    )


@dataclasses.dataclass(slots=True)
class CodeTally:
    """A code's uses: `held` by live holds, `uses` kept by sales, `taken` per fan (both)."""

    held: int = 0
    uses: int = 0
    taken: dict[FanId, int] = dataclasses.field(default_factory=dict)

    def take(self, fan_id: FanId, *, held: int, uses: int) -> None:
        self.held += held
        self.uses += uses
        taken = self.taken.get(fan_id, 0) + held + uses
        assert self.held >= 0 and self.uses >= 0 and taken >= 0
        if taken:
            self.taken[fan_id] = taken
        else:
            self.taken.pop(fan_id, None)

    def assert_within_caps(self, code: CodeDefinition) -> None:
        if code.max_uses is not None:
            assert self.held + self.uses <= code.max_uses, code.code_id
        if code.max_uses_per_fan is not None:
            assert max(self.taken.values(), default=0) <= code.max_uses_per_fan, code.code_id


def recount_code_tallies(
    code_ids: Iterable[CodeId], holds: Iterable[Hold], sales: Iterable[Sale]
) -> dict[CodeId, CodeTally]:
    """Every code's tally counted afresh from the live holds and the sales that name it."""
    tallies = {code_id: CodeTally() for code_id in code_ids}
    for hold in holds:
        if hold.code_id is not None:
            tallies[hold.code_id].take(hold.fan_id, held=1, uses=0)
    for sale in sales:
        if sale.code_id is not None:
            tallies[sale.code_id].take(sale.fan_id, held=0, uses=1)
    return tallies
