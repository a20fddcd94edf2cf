"""Properties of phased prices, for any phases, units taken, quantity and discount: the runs price
exactly the units asked for, each as the phase it falls in prices it alone, and the order they
make adds up — subtotal + fees == total, platform + processing == fees — with a ledger that
balances to zero. The inventory gives a hold the same prices."""

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.changes import HoldConverted
from engine.commands import ConvertHold
from engine.inventory.apply import execute
from engine.inventory.decision import Decision
from engine.inventory.state import Inventory
from engine.ledger import sale_entries, signed_cents
from engine.price_phases import PricePhase, current_price_cents, unit_price_runs
from engine.pricing import discounted_unit_price, price_order
from tests.engine.inventory_builders import NOW_MS, build_configuration, general_hold

PRICES = st.integers(min_value=0, max_value=100_000)
TIMES = st.integers(min_value=NOW_MS - 50_000, max_value=NOW_MS + 50_000)


@st.composite
def phase_lists(draw: st.DrawFn) -> tuple[PricePhase, ...]:
    """Valid phases: up to five that end by units or by increasing times, then a last one."""
    phases = []
    until_ms = NOW_MS - 60_000
    for _ in range(draw(st.integers(min_value=0, max_value=5))):
        if draw(st.booleans()):
            first = draw(st.integers(min_value=1, max_value=40))
            phases.append(PricePhase(price_cents=draw(PRICES), first=first))
        else:
            until_ms += draw(st.integers(min_value=1, max_value=40_000))
            phases.append(PricePhase(price_cents=draw(PRICES), until_ms=until_ms))
    phases.append(PricePhase(price_cents=draw(PRICES)))
    return tuple(phases)


DISCOUNTS = st.one_of(
    st.just({}),
    st.builds(lambda percent: {"percent": percent}, st.integers(min_value=0, max_value=100)),
    st.builds(lambda amount: {"amount_cents": amount}, st.integers(min_value=0, max_value=120_000)),
)


@given(
    phases=phase_lists(),
    taken=st.integers(min_value=0, max_value=200),
    quantity=st.integers(min_value=1, max_value=60),
    now_ms=TIMES,
    discount=DISCOUNTS,
)
def test_phased_units_make_an_order_that_adds_up_and_a_ledger_that_balances(
    phases: tuple[PricePhase, ...],
    taken: int,
    quantity: int,
    now_ms: int,
    discount: dict[str, int],
) -> None:
    runs = unit_price_runs(phases, taken, quantity, now_ms)

    assert sum(run.quantity for run in runs) == quantity
    assert all(run.quantity >= 1 for run in runs)
    unit_prices = [run.price_cents for run in runs for _ in range(run.quantity)]
    assert unit_prices == [
        current_price_cents(phases, taken + unit, now_ms) for unit in range(quantity)
    ]
    assert set(unit_prices) <= {phase.price_cents for phase in phases}
    discounted = [discounted_unit_price(price, **discount) for price in unit_prices]
    assert all(0 <= after <= before for after, before in zip(discounted, unit_prices, strict=True))
    price = price_order(sum(discounted))
    assert price.subtotal_cents + price.fees_cents == price.total_cents
    assert price.platform_fee_cents + price.processing_fee_cents == price.fees_cents
    assert sum(signed_cents(entry) for entry in sale_entries(price)) == 0


@settings(max_examples=60)
@given(
    phases=phase_lists(),
    taken=st.integers(min_value=0, max_value=100),
    quantity=st.integers(min_value=1, max_value=40),
    now_ms=st.integers(min_value=NOW_MS, max_value=NOW_MS + 50_000),
)
def test_a_hold_is_priced_by_the_phases_and_its_sale_keeps_the_prices(
    phases: tuple[PricePhase, ...], taken: int, quantity: int, now_ms: int
) -> None:
    configuration = build_configuration(general_capacity=200, max_tickets_per_user=None)
    configuration = msgspec.structs.replace(
        configuration,
        ticket_types=tuple(
            msgspec.structs.replace(
                ticket_type, price_phases=phases, price_cents=phases[0].price_cents
            )
            if ticket_type.ticket_type_id == "GA"
            else ticket_type
            for ticket_type in configuration.ticket_types
        ),
    )
    inventory = Inventory(configuration)
    if taken:
        assert isinstance(
            execute(inventory, general_hold("hold-0", "fan-0", taken), now_ms), Decision
        )
    expected = unit_price_runs(phases, taken, quantity, now_ms)

    placed = execute(inventory, general_hold("hold-1", "fan-1", quantity), now_ms)
    assert isinstance(placed, Decision)
    hold = inventory.holds["hold-1"]
    assert hold.quantity == quantity
    assert hold.subtotal_cents == sum(run.price_cents * run.quantity for run in expected)
    assert len({item.unit_price_cents for item in hold.items}) == len(hold.items)
    converted = execute(inventory, ConvertHold(hold_id="hold-1", new_order_id="order-1"), now_ms)
    assert isinstance(converted, Decision)
    change = converted.changes[0]
    assert isinstance(change, HoldConverted)
    assert change.sale.items == hold.items
    assert change.price == price_order(hold.subtotal_cents)
