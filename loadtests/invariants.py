"""The three promises of an on-sale, counted from what the system recorded: nothing oversold,
nothing acknowledged lost, nobody charged twice. Pure arithmetic over the facts read from
Postgres and Stripe (`system_facts.py`) and the ids the fans were given (the demo's record,
the load's acknowledged ids).

The last line of `onsale demo` and `onsale loadtest` is `final_line`; a run passes only when all
three are 0 and every ticket sold. A new way to break a promise is counted into one of the three,
never as a fourth line.
"""

import msgspec


class TicketTypeSales(msgspec.Struct, frozen=True, kw_only=True):
    """One ticket type as Postgres has it: its capacity, the inventory's sold counter and the
    live tickets issued against it."""

    key: str
    capacity: int
    sold_quantity: int
    live_tickets: int


class OrderCharge(msgspec.Struct, frozen=True, kw_only=True):
    """One PaymentIntent at Stripe, by the order its metadata names."""

    order_id: str
    payment_intent_id: str
    succeeded: bool
    captured_cents: int
    refunded_cents: int


class StoredOrder(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    total_cents: int


PAID_STATUSES = frozenset({"paid", "fulfilled"})


class Invariants(msgspec.Struct, frozen=True, kw_only=True):
    oversold: int
    lost_holds: int
    lost_orders: int
    lost_payments: int
    double_charged: int
    charged_without_sale: int
    sold: int
    capacity: int

    @property
    def lost(self) -> int:
        return self.lost_holds + self.lost_orders + self.lost_payments

    @property
    def sold_out(self) -> bool:
        return self.capacity > 0 and self.sold == self.capacity

    @property
    def kept(self) -> bool:
        """Every promise kept and every ticket sold: the demo's exit status is 0."""
        return self.oversold == 0 and self.lost == 0 and self.double_charged == 0 and self.sold_out


def oversold_units(ticket_types: list[TicketTypeSales], extra_tickets_on_seats: int) -> int:
    """Units sold beyond each type's capacity, by whichever of the inventory's counter and the
    live tickets says more, plus every live ticket beyond the first on one seat."""
    beyond_capacity = sum(
        max(0, max(sales.sold_quantity, sales.live_tickets) - sales.capacity)
        for sales in ticket_types
    )
    return beyond_capacity + extra_tickets_on_seats


def lost_payments(paid_order_ids: set[str], stored_orders: dict[str, StoredOrder]) -> int:
    """Orders a fan was told are paid that Postgres has, but not as paid (an order it lacks
    altogether is a lost order already)."""
    return sum(
        1
        for order_id in paid_order_ids
        if order_id in stored_orders and stored_orders[order_id].status not in PAID_STATUSES
    )


def net_charges(charges: list[OrderCharge]) -> dict[str, tuple[int, int]]:
    """Per order: succeeded PaymentIntents, and cents captured less refunded on them."""
    totals: dict[str, tuple[int, int]] = {}
    for charge in charges:
        if not charge.succeeded:
            continue
        count, net_cents = totals.get(charge.order_id, (0, 0))
        totals[charge.order_id] = (
            count + 1,
            net_cents + charge.captured_cents - charge.refunded_cents,
        )
    return totals


def double_charged_orders(
    charges: list[OrderCharge], stored_orders: dict[str, StoredOrder]
) -> set[str]:
    """Orders with more than one succeeded PaymentIntent, or charged more than their total
    without a refund for the difference (an order Postgres does not know is owed nothing)."""
    double = set()
    for order_id, (succeeded, net_cents) in net_charges(charges).items():
        stored = stored_orders.get(order_id)
        owed_cents = stored.total_cents if stored is not None else 0
        if succeeded > 1 or net_cents > owed_cents:
            double.add(order_id)
    return double


def charged_without_sale(
    charges: list[OrderCharge], stored_orders: dict[str, StoredOrder]
) -> set[str]:
    """Orders whose money Stripe kept while Postgres has no sale for them: failed, expired or
    cancelled orders with an unrefunded charge."""
    return {
        order_id
        for order_id, (_, net_cents) in net_charges(charges).items()
        if net_cents > 0
        and order_id in stored_orders
        and stored_orders[order_id].status not in PAID_STATUSES
        and stored_orders[order_id].status != "refunded"
    }


def count_invariants(
    *,
    ticket_types: list[TicketTypeSales],
    extra_tickets_on_seats: int,
    acknowledged_hold_ids: set[str],
    stored_hold_ids: set[str],
    acknowledged_order_ids: set[str],
    paid_order_ids: set[str],
    stored_orders: dict[str, StoredOrder],
    charges: list[OrderCharge],
) -> Invariants:
    return Invariants(
        oversold=oversold_units(ticket_types, extra_tickets_on_seats),
        lost_holds=len(acknowledged_hold_ids - stored_hold_ids),
        lost_orders=len(acknowledged_order_ids - stored_orders.keys()),
        lost_payments=lost_payments(paid_order_ids, stored_orders),
        double_charged=len(double_charged_orders(charges, stored_orders)),
        charged_without_sale=len(charged_without_sale(charges, stored_orders)),
        sold=sum(sales.live_tickets for sales in ticket_types),
        capacity=sum(sales.capacity for sales in ticket_types),
    )


def final_line(invariants: Invariants) -> str:
    return (
        f"oversold={invariants.oversold} lost={invariants.lost} "
        f"double_charged={invariants.double_charged} sold={invariants.sold} "
        f"capacity={invariants.capacity}"
    )
