"""The three promises counted from the system's records: oversold units, lost acknowledgements
and double charges, and the final line that reports them."""

from loadtests.invariants import (
    Invariants,
    OrderCharge,
    StoredOrder,
    TicketTypeSales,
    count_invariants,
    double_charged_orders,
    final_line,
    oversold_units,
)

PAID = StoredOrder(status="fulfilled", total_cents=10_400)


def charge(
    order_id: str, *, captured: int = 10_400, refunded: int = 0, ok: bool = True
) -> OrderCharge:
    return OrderCharge(
        order_id=order_id,
        payment_intent_id=f"pi_{order_id}_{captured}_{refunded}_{ok}",
        succeeded=ok,
        captured_cents=captured if ok else 0,
        refunded_cents=refunded,
    )


def sales(key: str, capacity: int, sold_quantity: int, live_tickets: int) -> TicketTypeSales:
    return TicketTypeSales(
        key=key, capacity=capacity, sold_quantity=sold_quantity, live_tickets=live_tickets
    )


def test_nothing_is_oversold_when_every_type_is_within_capacity() -> None:
    assert oversold_units([sales("GA", 10, 10, 10), sales("RES", 5, 3, 3)], 0) == 0


def test_oversold_counts_units_beyond_capacity_by_the_larger_count_and_shared_seats() -> None:
    types = [sales("GA", 10, 12, 11), sales("RES", 5, 5, 6)]

    assert oversold_units(types, extra_tickets_on_seats=2) == 2 + 1 + 2


def test_an_order_paid_once_is_not_double_charged() -> None:
    assert double_charged_orders([charge("a"), charge("a", ok=False)], {"a": PAID}) == set()


def test_two_succeeded_payment_intents_for_one_order_are_a_double_charge() -> None:
    charges = [charge("a"), charge("a", captured=10_400, refunded=10_400)]

    assert double_charged_orders(charges, {"a": PAID}) == {"a"}


def test_a_charge_above_the_total_is_double_unless_refunded_down_to_it() -> None:
    assert double_charged_orders([charge("a", captured=20_800)], {"a": PAID}) == {"a"}
    refunded = [charge("a", captured=20_800, refunded=10_400)]
    assert double_charged_orders(refunded, {"a": PAID}) == set()


def test_a_charge_for_an_order_postgres_does_not_have_is_a_double_charge() -> None:
    assert double_charged_orders([charge("ghost")], {}) == {"ghost"}


def test_counting_finds_every_kind_of_loss_once() -> None:
    invariants = count_invariants(
        ticket_types=[sales("GA", 10, 10, 10)],
        extra_tickets_on_seats=0,
        acknowledged_hold_ids={"h1", "h2", "h3"},
        stored_hold_ids={"h1", "h2"},
        acknowledged_order_ids={"o1", "o2", "o3"},
        paid_order_ids={"o1", "o2", "o3"},
        stored_orders={"o1": PAID, "o2": StoredOrder(status="payment_failed", total_cents=10_400)},
        charges=[charge("o1"), charge("o2")],
    )

    assert (invariants.lost_holds, invariants.lost_orders, invariants.lost_payments) == (1, 1, 1)
    assert invariants.lost == 3
    assert invariants.double_charged == 0
    assert invariants.charged_without_sale == 1
    assert (invariants.sold, invariants.capacity) == (10, 10)
    assert not invariants.kept


def invariants(**changes: int) -> Invariants:
    values = {
        "oversold": 0,
        "lost_holds": 0,
        "lost_orders": 0,
        "lost_payments": 0,
        "double_charged": 0,
        "charged_without_sale": 0,
        "sold": 6_000,
        "capacity": 6_000,
    }
    return Invariants(**(values | changes))


def test_a_run_passes_only_when_every_promise_is_kept_and_every_ticket_sold() -> None:
    assert invariants().kept
    assert not invariants(oversold=1).kept
    assert not invariants(lost_orders=1).kept
    assert not invariants(double_charged=1).kept
    assert not invariants(sold=5_999).kept
    assert not invariants(sold=0, capacity=0).kept


def test_the_final_line_names_the_three_promises_then_sold_and_capacity() -> None:
    line = final_line(invariants(lost_holds=1, lost_payments=2, sold=5_990))

    assert line == "oversold=0 lost=3 double_charged=0 sold=5990 capacity=6000"
