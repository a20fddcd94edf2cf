"""The bodies of the codes' routes (API.md v1.1, "Presale, codes and phased prices"): what a
venue sends to make codes and turn them off, and how a code is shown to it."""

from typing import Annotated

from msgspec import UNSET, Meta, UnsetType, field

from engine import limits
from engine.inventory.codes import CodeKind
from gateway.schemas import CodeText, Key, Moment, Request, Response

CodeUses = Annotated[int, Meta(ge=1, le=limits.CODE_USES_MAX)]
Percent = Annotated[int, Meta(ge=1, le=limits.CODE_DISCOUNT_PERCENT_MAX)]
GeneratedCount = Annotated[
    int,
    Meta(
        ge=1,
        le=limits.CODES_GENERATED_PER_REQUEST_MAX,
        description="How many single-use random codes to make, all or none.",
    ),
]
CodePrefix = Annotated[
    str,
    Meta(min_length=1, max_length=limits.CODE_PREFIX_CHARACTERS_MAX, pattern=r"^[A-Za-z0-9_]+$"),
]


class DiscountBody(Request):
    """Exactly one of `percent` or `amount_cents`, taken off each unit's price (never below 0)."""

    percent: Percent | None = None
    amount_cents: Annotated[int, Meta(ge=1, le=100_000_000)] | None = None


class CreateCodeBody(Request):
    """Exactly one of `code` or `generate` (with an optional `prefix`). `unlocks` and
    `applies_to` are ticket type keys of the event; a presale code needs `valid_from`, from which
    its fans may hold before the sale opens. Generated codes are single-use."""

    kind: CodeKind
    code: CodeText | None = None
    generate: GeneratedCount | None = None
    prefix: CodePrefix | None = None
    unlocks: Annotated[list[Key], Meta(max_length=limits.TICKET_TYPES_PER_EVENT_MAX)] = field(
        default_factory=list
    )
    applies_to: Annotated[list[Key], Meta(max_length=limits.TICKET_TYPES_PER_EVENT_MAX)] = field(
        default_factory=list
    )
    valid_from: Moment | None = None
    valid_until: Moment | None = None
    max_uses: CodeUses | None = None
    max_uses_per_fan: CodeUses | None = None
    discount: DiscountBody | None = None


class PatchCodeBody(Request):
    active: bool


class DiscountView(Response):
    percent: int | UnsetType = UNSET
    amount_cents: int | UnsetType = UNSET


class CodeView(Response):
    """A code with its tally: `uses` kept by paid orders, `held` taken by live holds."""

    code_id: str
    code: str
    kind: CodeKind
    unlocks: list[str]
    applies_to: list[str]
    valid_from: str | None
    valid_until: str | None
    max_uses: int | None
    max_uses_per_fan: int | None
    discount: DiscountView | None
    active: bool
    uses: int
    held: int


class GeneratedCodeView(Response):
    code_id: str
    code: str


class GeneratedCodesView(Response):
    """A generated batch: each code's id and text, then the terms they share."""

    codes: list[GeneratedCodeView]
    kind: CodeKind
    unlocks: list[str]
    applies_to: list[str]
    valid_from: str | None
    valid_until: str | None
    max_uses: int
    max_uses_per_fan: int | None
    discount: DiscountView | None
    active: bool
    uses: int
    held: int


class CodeList(Response):
    """A page of the event's codes in the order of their upper-cased text."""

    codes: list[CodeView]
    next_cursor: str | None
