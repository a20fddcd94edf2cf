"""Random sequences of commands against one inventory, with the invariants checked after every
step: counts add up, no seat is claimed twice, no fan passes the limit, expiry returns what is due,
replays change nothing, and a rebuilt inventory equals the original. Fans join and leave the wait
list, so offers made inside releases, expiries and refunds are held to the same invariants."""

import msgspec
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from engine.commands import (
    AddCapacity,
    BlockSeats,
    CancelOrder,
    ChangeTicketTypeSales,
    Command,
    ConvertHold,
    ExpireHolds,
    ExtendHold,
    HoldBestAvailable,
    HoldSeats,
    IssueComps,
    ItemRequest,
    JoinWaitList,
    LeaveWaitList,
    PlaceHold,
    RefundOrder,
    ReleaseHold,
    ReturnWithheldUnits,
    TicketTypeSalePatch,
    UnblockSeats,
    Withholding,
    WithholdUnits,
)
from engine.holds import Sale
from engine.inventory.apply import execute
from engine.inventory.decision import Decision
from engine.inventory.rows import InventoryRows
from engine.inventory.state import Inventory
from engine.price_phases import PricePhase
from engine.rejections import Rejected
from tests.engine.inventory_builders import HOLD_TTL_MS, NOW_MS, build_configuration

FANS = st.sampled_from([f"fan-{number}" for number in range(5)])
SEAT_IDS = [f"101-A-{n}" for n in range(1, 11)] + [f"101-B-{n}" for n in range(1, 13)]
SEAT_IDS += [f"102-A-{n}" for n in range(1, 9)]
SEAT_LISTS = st.lists(st.sampled_from(SEAT_IDS), min_size=1, max_size=4, unique=True).map(tuple)
WAIT_LIST_FANS = st.sampled_from([f"fan-{number}" for number in range(9)])
KEYS = st.one_of(st.none(), st.sampled_from([f"key-{number}" for number in range(6)]))
# General admission steps up after three units and again at a time a jump may pass; the reserved
# seats come off sale at another. A venue may change either before a type's first sale.
GA_PHASES = (
    PricePhase(price_cents=5_000, first=3),
    PricePhase(price_cents=5_500, until_ms=NOW_MS + 100_000),
    PricePhase(price_cents=6_000),
)
RES_UNTIL_MS = NOW_MS + 150_000
PHASE_CHOICES = st.sampled_from(
    [(), GA_PHASES, (PricePhase(price_cents=100, first=1), PricePhase(price_cents=200))]
)
WINDOW_BOUNDS = st.sampled_from([None, NOW_MS + 20_000, NOW_MS + 200_000])


class InventoryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        configuration = build_configuration(general_capacity=12)
        general, reserved = configuration.ticket_types
        ticket_types = (
            msgspec.structs.replace(general, price_phases=GA_PHASES),
            msgspec.structs.replace(reserved, on_sale_until_ms=RES_UNTIL_MS),
        )
        self.inventory = Inventory(
            msgspec.structs.replace(
                configuration, wait_list_enabled=True, ticket_types=ticket_types
            )
        )
        self.now_ms = NOW_MS
        self.serial = 0
        self.first_decisions: dict[str, tuple[Command, Decision]] = {}
        self.starting_capacity = {
            ticket_type_id: counts.capacity
            for ticket_type_id, counts in self.inventory.counts.items()
        }
        self.added: dict[str, int] = {}

    def new_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial}"

    def run(self, command: Command) -> Decision | Rejected:
        key = getattr(command, "idempotency_key", None)
        known = self.first_decisions.get(key) if key is not None else None
        before = self.inventory.comparable_state()
        result = execute(self.inventory, command, self.now_ms)
        if isinstance(result, Rejected):
            assert self.inventory.comparable_state() == before
        elif known is not None:
            assert result.outcome == known[1].outcome
            assert result.changes == ()
            assert self.inventory.comparable_state() == before
        elif key is not None:
            self.first_decisions[key] = (command, result)
        return result

    @rule(fan_id=FANS, quantity=st.integers(min_value=1, max_value=5), key=KEYS)
    def hold_general(self, fan_id: str, quantity: int, key: str | None) -> None:
        items = (ItemRequest(ticket_type_id="GA", quantity=quantity),)
        self.run(
            PlaceHold(
                new_hold_id=self.new_id("hold"), fan_id=fan_id, items=items, idempotency_key=key
            )
        )

    @rule(fan_id=FANS, seats=SEAT_LISTS, key=KEYS)
    def hold_seats(self, fan_id: str, seats: tuple[str, ...], key: str | None) -> None:
        self.run(
            HoldSeats(
                new_hold_id=self.new_id("hold"), fan_id=fan_id, seats=seats, idempotency_key=key
            )
        )

    @rule(
        fan_id=FANS,
        quantity=st.integers(min_value=1, max_value=6),
        section=st.sampled_from([None, "101", "102"]),
        key=KEYS,
    )
    def hold_best_available(
        self, fan_id: str, quantity: int, section: str | None, key: str | None
    ) -> None:
        command = HoldBestAvailable(
            new_hold_id=self.new_id("hold"),
            fan_id=fan_id,
            ticket_type_id="RES",
            quantity=quantity,
            section=section,
            idempotency_key=key,
        )
        self.run(command)

    @precondition(lambda self: bool(self.inventory.holds))
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        hold = self.inventory.holds[data.draw(st.sampled_from(sorted(self.inventory.holds)))]
        self.run(ReleaseHold(hold_id=hold.hold_id, fan_id=hold.fan_id))

    @rule(jump_ms=st.one_of(st.sampled_from([1, HOLD_TTL_MS]), st.integers(0, 200_000)))
    def expire_after_a_time_jump(self, jump_ms: int) -> None:
        self.now_ms += jump_ms
        self.run(ExpireHolds())
        overdue = [h for h in self.inventory.holds.values() if h.expires_at_ms <= self.now_ms]
        assert overdue == []

    @precondition(lambda self: bool(self.inventory.holds))
    @rule(data=st.data())
    def extend(self, data: st.DataObject) -> None:
        hold = self.inventory.holds[data.draw(st.sampled_from(sorted(self.inventory.holds)))]
        self.run(ExtendHold(hold_id=hold.hold_id, fan_id=hold.fan_id))

    @precondition(lambda self: bool(self.inventory.holds))
    @rule(data=st.data(), key=KEYS)
    def convert(self, data: st.DataObject, key: str | None) -> None:
        hold_id = data.draw(st.sampled_from(sorted(self.inventory.holds)))
        self.run(
            ConvertHold(hold_id=hold_id, new_order_id=self.new_id("order"), idempotency_key=key)
        )

    @precondition(lambda self: bool(self.inventory.sales))
    @rule(data=st.data(), refund=st.booleans())
    def refund_or_cancel(self, data: st.DataObject, refund: bool) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.inventory.sales)))
        self.run(RefundOrder(order_id=order_id) if refund else CancelOrder(order_id=order_id))

    @rule(seats=SEAT_LISTS, withholding=st.sampled_from(list(Withholding)))
    def block(self, seats: tuple[str, ...], withholding: Withholding) -> None:
        self.run(BlockSeats(seats=seats, withholding=withholding))

    @rule(seats=SEAT_LISTS)
    def unblock(self, seats: tuple[str, ...]) -> None:
        self.run(UnblockSeats(seats=seats))

    @rule(
        quantity=st.integers(min_value=0, max_value=5),
        withholding=st.sampled_from(list(Withholding)),
    )
    def withhold_units(self, quantity: int, withholding: Withholding) -> None:
        self.run(WithholdUnits(ticket_type_id="GA", quantity=quantity, withholding=withholding))

    @rule(
        quantity=st.integers(min_value=1, max_value=5),
        withholding=st.sampled_from([*Withholding, None]),
    )
    def release_units(self, quantity: int, withholding: Withholding | None) -> None:
        self.run(
            ReturnWithheldUnits(ticket_type_id="GA", quantity=quantity, withholding=withholding)
        )

    @rule(ticket_type_id=st.sampled_from(["GA", "RES"]), quantity=st.integers(0, 3))
    def add_capacity(self, ticket_type_id: str, quantity: int) -> None:
        result = self.run(AddCapacity(ticket_type_id=ticket_type_id, quantity=quantity))
        if isinstance(result, Decision):
            self.added[ticket_type_id] = self.added.get(ticket_type_id, 0) + quantity

    @rule(fan_id=FANS, seats=SEAT_LISTS, allocation=st.sampled_from(list(Withholding)))
    def issue_comps(self, fan_id: str, seats: tuple[str, ...], allocation: Withholding) -> None:
        command = IssueComps(
            new_order_id=self.new_id("order"), fan_id=fan_id, allocation=allocation, seats=seats
        )
        self.run(command)

    @rule(
        fan_id=WAIT_LIST_FANS,
        quantity=st.integers(min_value=1, max_value=4),
        ticket_type_id=st.sampled_from([None, "GA", "RES"]),
    )
    def join_wait_list(self, fan_id: str, quantity: int, ticket_type_id: str | None) -> None:
        command = JoinWaitList(
            new_entry_id=self.new_id("entry"),
            fan_id=fan_id,
            quantity=quantity,
            ticket_type_id=ticket_type_id,
        )
        self.run(command)

    @precondition(lambda self: bool(self.inventory.wait_list.entries))
    @rule(data=st.data())
    def leave_wait_list(self, data: st.DataObject) -> None:
        entries = self.inventory.wait_list.entries
        entry = entries[data.draw(st.sampled_from(sorted(entries)))]
        self.run(LeaveWaitList(entry_id=entry.entry_id, fan_id=entry.fan_id))

    @precondition(lambda self: bool(self.first_decisions))
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.first_decisions)))
        command, _ = self.first_decisions[key]
        result = self.run(command)
        assert isinstance(result, Decision)

    @rule(
        ticket_type_id=st.sampled_from(["GA", "RES"]),
        phases=st.one_of(st.just(msgspec.UNSET), PHASE_CHOICES),
        until_ms=st.one_of(st.just(msgspec.UNSET), WINDOW_BOUNDS),
    )
    def change_ticket_type_sales(
        self,
        ticket_type_id: str,
        phases: tuple[PricePhase, ...] | msgspec.UnsetType,
        until_ms: int | msgspec.UnsetType | None,
    ) -> None:
        counts = self.inventory.counts[ticket_type_id]
        taken = counts.sold + counts.held
        patch = TicketTypeSalePatch(
            ticket_type_id=ticket_type_id, price_phases=phases, on_sale_until_ms=until_ms
        )
        result = self.run(ChangeTicketTypeSales(patches=(patch,)))
        assert isinstance(result, Decision) == (taken == 0), result

    @rule()
    def rebuild_from_rows(self) -> None:
        encoded = msgspec.json.encode(self.inventory.rows())
        rebuilt = Inventory.rebuild(msgspec.json.decode(encoded, type=InventoryRows))
        assert rebuilt == self.inventory
        self.inventory = rebuilt

    @invariant()
    def counts_add_up_and_claims_are_single(self) -> None:
        self.inventory.assert_consistent()
        for ticket_type_id in self.inventory.counts:
            counts = self.inventory.ticket_type_counts(ticket_type_id)
            blocked = counts.withheld
            assert counts.sold + counts.held + blocked + counts.available == counts.capacity
            assert counts.capacity == self.starting_capacity[ticket_type_id] + self.added.get(
                ticket_type_id, 0
            )

    @invariant()
    def every_live_unit_is_priced_by_its_types_phases(self) -> None:
        """A type's settings change only when nothing of it is held or sold, so every live unit
        was priced by the phases the type has now, each price carried once per hold or sale."""
        inventory = self.inventory
        for owner in (*inventory.holds.values(), *inventory.sales.values()):
            pairs = [(item.ticket_type_id, item.unit_price_cents) for item in owner.items]
            assert len(pairs) == len(set(pairs))
            for ticket_type_id, unit_price_cents in pairs:
                ticket_type = inventory.ticket_types[ticket_type_id]
                prices = {phase.price_cents for phase in ticket_type.price_phases}
                if isinstance(owner, Sale) and owner.complimentary:
                    assert unit_price_cents == 0
                else:
                    assert unit_price_cents in (prices or {ticket_type.price_cents})

    @invariant()
    def no_fan_is_over_the_limit(self) -> None:
        limit = self.inventory.configuration.max_tickets_per_user
        assert all(tickets <= limit for tickets in self.inventory.tickets_by_fan.values())


InventoryMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_invariants_hold_when_random_commands_run = InventoryMachine.TestCase
