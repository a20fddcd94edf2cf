"""Codes in the inventory: adding and switching them, the checks a hold with a code passes in
the same decision (CODE_INVALID, CODE_EXHAUSTED), the uses held, given back and kept, hidden types,
presale before the sale opens, discounts, and rebuilding it all from rows."""

import msgspec
import pytest

from engine.changes import CodeActiveChanged, CodesAdded
from engine.commands import (
    AddCodes,
    ChangeCode,
    ConvertHold,
    ExpireHolds,
    HoldBestAvailable,
    HoldSeats,
    ItemRequest,
    PauseSale,
    PlaceHold,
    RefundOrder,
    ReleaseHold,
)
from engine.inventory import hold_decisions
from engine.inventory.apply import execute
from engine.inventory.codes import CodeDefinition, CodeKind, discounted
from engine.inventory.configuration import TicketKind, TicketTypeDefinition
from engine.inventory.rows import InventoryRows
from engine.inventory.state import Inventory
from engine.outcomes import CodesView, HoldView
from engine.rejections import Reason, Rejected
from tests.engine.inventory_builders import (
    CLOSES_AT_MS,
    GENERAL_PRICE_CENTS,
    HOLD_TTL_MS,
    NOW_MS,
    OPENS_AT_MS,
    SEATED_PRICE_CENTS,
    accepted,
    build_configuration,
    rejected,
)

VIP_PRICE_CENTS = 12_345


def coded_inventory() -> Inventory:
    configuration = build_configuration()
    vip = TicketTypeDefinition(
        ticket_type_id="VIP",
        kind=TicketKind.GENERAL,
        price_cents=VIP_PRICE_CENTS,
        capacity=20,
        hidden=True,
    )
    return Inventory(
        msgspec.structs.replace(configuration, ticket_types=(*configuration.ticket_types, vip))
    )


def code(code_id: str = "code-1", text: str = "FanClub", **fields: object) -> CodeDefinition:
    values: dict[str, object] = {"kind": CodeKind.DISCOUNT, "discount_percent": 10} | fields
    return CodeDefinition(code_id=code_id, code=text, **values)  # type: ignore[arg-type]


def add(inventory: Inventory, *codes: CodeDefinition) -> None:
    accepted(inventory, AddCodes(new_codes=codes))


def hold(
    hold_id: str = "hold-1",
    fan_id: str = "fan-1",
    code_text: str | None = "fanclub",
    ticket_type_id: str = "GA",
    quantity: int = 2,
) -> PlaceHold:
    return PlaceHold(
        new_hold_id=hold_id,
        fan_id=fan_id,
        items=(ItemRequest(ticket_type_id=ticket_type_id, quantity=quantity),),
        code=code_text,
    )


def tally(inventory: Inventory, code_id: str = "code-1") -> tuple[int, int]:
    counted = inventory.code_tallies[code_id]
    return counted.held, counted.uses


def test_added_codes_are_recorded_and_answered_with_no_uses() -> None:
    inventory = coded_inventory()
    decision = accepted(
        inventory, AddCodes(new_codes=(code(), code("code-2", "PRESS1", max_uses=1)))
    )
    assert isinstance(decision.changes[0], CodesAdded)
    assert decision.outcome == CodesView(
        codes=(code(), code("code-2", "PRESS1", max_uses=1)), uses=(0, 0), held=(0, 0)
    )
    assert inventory.code_of_text("press1") == code("code-2", "PRESS1", max_uses=1)


@pytest.mark.parametrize(
    ("existing", "new"),
    [(("FANCLUB",), ("fanclub",)), ((), ("A", "a"))],
)
def test_codes_are_unique_per_event_whatever_their_case(
    existing: tuple[str, ...], new: tuple[str, ...]
) -> None:
    inventory = coded_inventory()
    for index, text in enumerate(existing):
        add(inventory, code(f"old-{index}", text))
    refused = rejected(
        inventory,
        AddCodes(new_codes=tuple(code(f"new-{i}", text) for i, text in enumerate(new))),
        Reason.CODE_EXISTS,
    )
    assert refused.details["codes"] == [new[0].upper()]


@pytest.mark.parametrize(
    "fields",
    [
        {"unlocks": ("NOPE",)},
        {"applies_to": ("NOPE",)},
        {"discount_percent": 0},
        {"discount_percent": 101},
        {"discount_percent": None},
        {"discount_percent": 10, "discount_amount_cents": 100},
        {"discount_percent": None, "discount_amount_cents": 0},
        {"valid_from_ms": 5, "valid_until_ms": 5},
        {"max_uses": 0},
        {"max_uses_per_fan": 0},
        {"unlocks": ("VIP",)},
    ],
)
def test_a_code_that_cannot_work_is_refused(fields: dict[str, object]) -> None:
    rejected(coded_inventory(), AddCodes(new_codes=(code(**fields),)), Reason.VALIDATION_ERROR)


def test_an_empty_or_overlong_code_is_refused() -> None:
    for text in ("", "X" * 65, "tab\there"):
        rejected(coded_inventory(), AddCodes(new_codes=(code(text=text),)), Reason.VALIDATION_ERROR)


def test_a_hold_with_a_discount_code_takes_a_use_and_the_discounted_price() -> None:
    inventory = coded_inventory()
    add(inventory, code())
    decision = accepted(inventory, hold())
    assert isinstance(decision.outcome, HoldView)
    assert decision.outcome.code_id == "code-1"
    assert decision.outcome.items[0].unit_price_cents == GENERAL_PRICE_CENTS * 9 // 10
    assert decision.outcome.subtotal_cents == 2 * GENERAL_PRICE_CENTS * 9 // 10
    assert tally(inventory) == (1, 0)
    assert inventory.code_tallies["code-1"].taken == {"fan-1": 1}


@pytest.mark.parametrize(
    ("setup", "now_ms"),
    [
        ("unknown", NOW_MS),
        ("inactive", NOW_MS),
        ("before", NOW_MS),
        ("after", NOW_MS),
        ("not applicable", NOW_MS),
    ],
)
def test_an_invalid_code_is_refused_in_the_hold_decision(setup: str, now_ms: int) -> None:
    inventory = coded_inventory()
    fields: dict[str, object] = {
        "unknown": {},
        "inactive": {},
        "before": {"valid_from_ms": NOW_MS + 1},
        "after": {"valid_until_ms": NOW_MS},
        "not applicable": {"applies_to": ("RES",)},
    }[setup]  # type: ignore[assignment]
    add(inventory, code(text="OTHER" if setup == "unknown" else "FANCLUB", **fields))
    if setup == "inactive":
        accepted(inventory, ChangeCode(code_id="code-1", active=False))
    rejected(inventory, hold(), Reason.CODE_INVALID, now_ms)


def test_a_code_is_valid_from_its_start_until_just_before_its_end() -> None:
    inventory = coded_inventory()
    add(inventory, code(valid_from_ms=NOW_MS, valid_until_ms=NOW_MS + 10))
    accepted(inventory, hold("hold-1"), NOW_MS)
    accepted(inventory, hold("hold-2", fan_id="fan-2"), NOW_MS + 9)
    rejected(inventory, hold("hold-3", fan_id="fan-3"), Reason.CODE_INVALID, NOW_MS + 10)


def test_the_total_cap_counts_live_holds_and_a_released_hold_gives_its_use_back() -> None:
    inventory = coded_inventory()
    add(inventory, code(max_uses=2))
    accepted(inventory, hold("hold-1", "fan-1"))
    accepted(inventory, hold("hold-2", "fan-2"))
    rejected(inventory, hold("hold-3", "fan-3"), Reason.CODE_EXHAUSTED)
    accepted(inventory, ReleaseHold(hold_id="hold-1", fan_id="fan-1"))
    assert tally(inventory) == (1, 0)
    accepted(inventory, hold("hold-3", "fan-3"))
    assert tally(inventory) == (2, 0)


def test_a_paid_hold_keeps_its_use_and_a_refund_gives_it_back() -> None:
    inventory = coded_inventory()
    add(inventory, code(max_uses=1))
    accepted(inventory, hold("hold-1", "fan-1"))
    accepted(inventory, ConvertHold(hold_id="hold-1", new_order_id="order-1"))
    assert tally(inventory) == (0, 1)
    assert inventory.sales["order-1"].code_id == "code-1"
    rejected(inventory, hold("hold-2", "fan-2"), Reason.CODE_EXHAUSTED)
    accepted(inventory, RefundOrder(order_id="order-1"))
    assert tally(inventory) == (0, 0)
    accepted(inventory, hold("hold-2", "fan-2"))


def test_an_expired_hold_gives_its_use_back() -> None:
    inventory = coded_inventory()
    add(inventory, code(max_uses=1))
    accepted(inventory, hold())
    accepted(inventory, ExpireHolds(), NOW_MS + HOLD_TTL_MS)
    assert tally(inventory) == (0, 0)
    accepted(inventory, hold("hold-2", "fan-2"), NOW_MS + HOLD_TTL_MS)


def test_the_per_fan_cap_counts_holds_and_sales_of_that_fan_only() -> None:
    inventory = coded_inventory()
    add(inventory, code(max_uses_per_fan=2))
    accepted(inventory, hold("hold-1", "fan-1", quantity=1))
    accepted(inventory, ConvertHold(hold_id="hold-1", new_order_id="order-1"))
    accepted(inventory, hold("hold-2", "fan-1", quantity=1))
    refused = rejected(inventory, hold("hold-3", "fan-1", quantity=1), Reason.CODE_EXHAUSTED)
    assert refused.details == {"limit": 2}
    accepted(inventory, hold("hold-3", "fan-2", quantity=1))
    assert inventory.code_tallies["code-1"].taken == {"fan-1": 2, "fan-2": 1}


def test_a_deactivated_code_stops_new_uses_and_holds_keep_theirs() -> None:
    inventory = coded_inventory()
    add(inventory, code())
    accepted(inventory, hold())
    decision = accepted(inventory, ChangeCode(code_id="code-1", active=False))
    assert decision.changes == (CodeActiveChanged(code_id="code-1", active=False),)
    assert isinstance(decision.outcome, CodesView)
    assert decision.outcome.held == (1,)
    rejected(inventory, hold("hold-2"), Reason.CODE_INVALID)
    assert accepted(inventory, ChangeCode(code_id="code-1", active=False)).changes == ()
    rejected(inventory, ChangeCode(code_id="code-9", active=False), Reason.NOT_FOUND)


def test_a_hidden_type_is_unknown_without_a_code_and_invalid_with_one_that_does_not_unlock_it() -> (
    None
):
    inventory = coded_inventory()
    add(inventory, code())
    rejected(inventory, hold(code_text=None, ticket_type_id="VIP"), Reason.VALIDATION_ERROR)
    rejected(inventory, hold(ticket_type_id="VIP"), Reason.CODE_INVALID)


def test_a_presale_code_unlocks_a_hidden_type_and_may_discount_it() -> None:
    inventory = coded_inventory()
    add(
        inventory,
        code(kind=CodeKind.PRESALE, unlocks=("VIP",), discount_percent=None),
        code(
            "code-2",
            "VIPDEAL",
            kind=CodeKind.PRESALE,
            unlocks=("VIP",),
            discount_percent=None,
            discount_amount_cents=345,
        ),
    )
    plain = accepted(inventory, hold(ticket_type_id="VIP")).outcome
    assert isinstance(plain, HoldView) and plain.items[0].unit_price_cents == VIP_PRICE_CENTS
    deal = accepted(inventory, hold("hold-2", code_text="vipdeal", ticket_type_id="VIP")).outcome
    assert isinstance(deal, HoldView) and deal.items[0].unit_price_cents == 12_000


def test_a_presale_code_lets_its_fans_hold_before_the_sale_opens_but_not_when_paused() -> None:
    inventory = coded_inventory()
    early_ms = OPENS_AT_MS - 500
    add(
        inventory,
        code(kind=CodeKind.PRESALE, discount_percent=None, valid_from_ms=OPENS_AT_MS - 1_000),
        code(
            "code-2",
            "LATER",
            kind=CodeKind.PRESALE,
            discount_percent=None,
            valid_from_ms=OPENS_AT_MS - 100,
        ),
        code("code-3", "DISCOUNT"),
    )
    rejected(inventory, hold(code_text=None), Reason.SALE_NOT_OPEN, early_ms)
    rejected(inventory, hold(code_text="later"), Reason.CODE_INVALID, early_ms)
    rejected(inventory, hold(code_text="discount"), Reason.SALE_NOT_OPEN, early_ms)
    accepted(inventory, hold(), early_ms)
    rejected(inventory, hold("hold-2", "fan-2"), Reason.SALE_NOT_OPEN, CLOSES_AT_MS)
    accepted(inventory, PauseSale())
    rejected(inventory, hold("hold-2", "fan-2"), Reason.SALE_NOT_OPEN, early_ms)


def test_seat_holds_take_the_code_and_its_discount() -> None:
    inventory = coded_inventory()
    add(inventory, code(applies_to=("RES",), discount_amount_cents=9_000, discount_percent=None))
    seats = accepted(
        inventory,
        HoldSeats(new_hold_id="hold-1", fan_id="fan-1", seats=("101-A-1",), code="FANCLUB"),
    ).outcome
    assert isinstance(seats, HoldView)
    assert seats.items[0].unit_price_cents == 0
    best = accepted(
        inventory,
        HoldBestAvailable(
            new_hold_id="hold-2", fan_id="fan-2", ticket_type_id="RES", quantity=2, code="FanClub"
        ),
    ).outcome
    assert isinstance(best, HoldView) and best.code_id == "code-1"
    rejected(inventory, hold("hold-3", "fan-3"), Reason.CODE_INVALID)
    assert tally(inventory) == (2, 0)


@pytest.mark.parametrize(
    ("price", "percent", "expected"),
    [(5_000, 10, 4_500), (1_005, 10, 904), (1_015, 10, 914), (5, 50, 2), (7, 50, 4), (99, 100, 0)],
)
def test_percent_discounts_round_half_to_even_per_unit(
    price: int, percent: int, expected: int
) -> None:
    assert discounted(price, code(discount_percent=percent), "GA") == expected


def test_amount_discounts_never_go_below_zero_and_touch_only_their_types() -> None:
    amount = code(discount_percent=None, discount_amount_cents=700, applies_to=("GA",))
    assert discounted(500, amount, "GA") == 0
    assert discounted(5_000, amount, "GA") == 4_300
    assert discounted(SEATED_PRICE_CENTS, amount, "RES") == SEATED_PRICE_CENTS
    assert discounted(5_000, None, "GA") == 5_000


def test_codes_and_their_tallies_are_rebuilt_from_rows() -> None:
    inventory = coded_inventory()
    add(
        inventory,
        code(max_uses=5),
        code("code-2", "PRESS", kind=CodeKind.PRESALE, unlocks=("VIP",), discount_percent=None),
    )
    accepted(inventory, hold("hold-1", "fan-1"))
    accepted(inventory, hold("hold-2", "fan-2", code_text="press", ticket_type_id="VIP"))
    accepted(inventory, ConvertHold(hold_id="hold-1", new_order_id="order-1"))
    accepted(inventory, hold("hold-3", "fan-1"))
    accepted(inventory, ChangeCode(code_id="code-2", active=False))
    rows = msgspec.json.decode(msgspec.json.encode(inventory.rows()), type=InventoryRows)
    rebuilt = Inventory.rebuild(rows)
    rebuilt.assert_consistent()
    assert rebuilt == inventory
    assert tally(rebuilt) == (1, 1)
    assert tally(rebuilt, "code-2") == (1, 0)
    assert not rebuilt.codes["code-2"].active


def over_the_cap(inventory: Inventory) -> list[bool]:
    """Five fans, one hold each, at a code capped at three uses: whether each hold was placed."""
    add(inventory, code(max_uses=3))
    placed = []
    for number in range(5):
        command = hold(f"hold-{number}", f"fan-{number}", quantity=1)
        placed.append(not isinstance(execute(inventory, command, NOW_MS), Rejected))
    return placed


def test_with_the_cap_check_off_holds_over_use_the_code_and_with_it_on_they_never_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unguarded, guarded = coded_inventory(), coded_inventory()

    with monkeypatch.context() as patched:
        patched.setattr(hold_decisions, "code_exhausted", lambda *_: None)
        placed_unguarded = over_the_cap(unguarded)
    placed_guarded = over_the_cap(guarded)

    assert placed_unguarded == [True] * 5
    assert unguarded.code_tallies["code-1"].held == 5, "the over-use the check prevents"
    assert placed_guarded == [True, True, True, False, False]
    assert guarded.code_tallies["code-1"].held == 3
    guarded.assert_consistent()
