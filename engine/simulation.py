"""A seeded, deterministic simulation of one event's inventory under random commands.

Each seed drives its own generator (`engine.seeded_generator`) and a virtual clock over the event
of `engine.simulation_event`; after every step the inventory is recounted from scratch, and every
few steps it is rebuilt from its rows through a JSON round trip and compared. Holds carry codes (a
capped discount, a presale code with a per-fan cap that is switched off and on), so every code's
tally is recounted and its caps checked after each step. Fans join and leave the wait list, so
offers (holds placed inside other commands) are recounted and rebuilt like any hold, and after
every decision that returns stock no waiting entry is left that an offer could serve (the checks
are in `engine.simulation_checks`). A failure raises `SimulationFailure` naming the seed and the
step, and `run_simulation(seed)` replays it exactly.
"""

import msgspec

from engine.commands import (
    AddCodes,
    BlockSeats,
    CancelOrder,
    ChangeCode,
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
    PauseSale,
    PlaceHold,
    RefundOrder,
    ReleaseHold,
    ResumeSale,
    ReturnTickets,
    ReturnWithheldUnits,
    UnblockSeats,
    Withholding,
    WithholdUnits,
)
from engine.inventory.apply import execute
from engine.inventory.codes import CodeDefinition, CodeKind
from engine.inventory.decision import Decision
from engine.inventory.state import Inventory
from engine.rejections import Rejected
from engine.seeded_generator import SeededGenerator
from engine.simulation_checks import check_rebuild, check_step
from engine.simulation_event import OPENS_AT_MS, simulation_configuration
from engine.simulation_settings_changes import (
    sale_settings_change,
    stock_change,
    ticket_type_sales_change,
)

SIMULATION_STEPS = 100
REBUILD_EVERY_STEPS = 15
FANS = tuple(f"fan-{number}" for number in range(6))
# Fans who only wait: more entries than the buying fans make, so offers pass down the list.
WAIT_LIST_FANS = tuple(f"waiter-{number}" for number in range(8))
# Codes: holds name one by their serial (no draw, so each seed's other commands stay as they were),
# in any case; every few picks the presale code is turned off or on again.
HOLD_CODES = ("CAPPED", "capped", None, "PerFan")
CODE_SWITCH_EVERY_PICKS = 25


class SimulationFailure(AssertionError):
    pass


class SimulationReport(msgspec.Struct, frozen=True, kw_only=True):
    seed: int
    steps: int
    accepted: int
    rejected: dict[str, int]


class Simulation:
    """One seeded run: picks commands, executes them, and checks the invariants after each."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.generator = SeededGenerator(seed)
        self.inventory = Inventory(simulation_configuration())
        self.now_ms = OPENS_AT_MS - 5_000
        self.serial = 0
        self.picks = 0
        self.keyed_commands: list[tuple[Command, Decision]] = []
        self.accepted = 0
        self.rejected: dict[str, int] = {}
        seat_map = self.inventory.seat_map
        self.seat_ids = seat_map.labels(range(seat_map.seat_count))

    def next_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.seed}-{self.serial}"

    def idempotency_key(self) -> str | None:
        return self.next_id("key") if self.generator.chance(40) else None

    def pick_seats(self, most: int) -> tuple[str, ...]:
        count = self.generator.between(1, most)
        chosen: list[str] = []
        for _ in range(count):
            seat_id = self.generator.choice(self.seat_ids)
            if seat_id not in chosen:
                chosen.append(seat_id)
        return tuple(chosen)

    def codes_command(self) -> Command | None:
        """The codes' commands: add them first, then switch the presale code now and then."""
        self.picks += 1
        codes = self.inventory.codes
        if not codes:
            return AddCodes(
                new_codes=(
                    CodeDefinition(
                        code_id=self.next_id("code"),
                        code="CAPPED",
                        kind=CodeKind.DISCOUNT,
                        max_uses=3,
                        discount_percent=15,
                    ),
                    CodeDefinition(
                        code_id=self.next_id("code"),
                        code="PERFAN",
                        kind=CodeKind.PRESALE,
                        applies_to=("RES",),
                        valid_from_ms=OPENS_AT_MS - 3_000,
                        max_uses_per_fan=1,
                        discount_amount_cents=500,
                    ),
                ),
                idempotency_key=self.next_id("key"),
            )
        if self.picks % CODE_SWITCH_EVERY_PICKS == 0:
            presale = next(code for code in codes.values() if code.kind is CodeKind.PRESALE)
            return ChangeCode(code_id=presale.code_id, active=not presale.active)
        return None

    def hold_code(self) -> str | None:
        return HOLD_CODES[self.serial % len(HOLD_CODES)]

    def pick_command(self) -> Command:
        codes_command = self.codes_command()
        if codes_command is not None:
            return codes_command
        generator = self.generator
        fan_id = generator.choice(FANS)
        holds = sorted(self.inventory.holds)
        sales = sorted(self.inventory.sales)
        roll = generator.below(100)
        if roll < 15:
            items = [ItemRequest(ticket_type_id="GA", quantity=generator.between(0, 4))]
            return PlaceHold(
                new_hold_id=self.next_id("hold"),
                fan_id=fan_id,
                items=tuple(items),
                idempotency_key=self.idempotency_key(),
                code=self.hold_code(),
            )
        if roll < 28:
            return HoldSeats(
                new_hold_id=self.next_id("hold"),
                fan_id=fan_id,
                seats=self.pick_seats(4),
                idempotency_key=self.idempotency_key(),
                code=self.hold_code(),
            )
        if roll < 43:
            return HoldBestAvailable(
                new_hold_id=self.next_id("hold"),
                fan_id=fan_id,
                ticket_type_id=generator.choice(("RES", "RES", "BOX")),
                quantity=generator.between(1, 5),
                section=generator.choice((None, None, "101", "102")),
                contiguous=generator.chance(80),
                accessible=generator.chance(20),
                idempotency_key=self.idempotency_key(),
                code=self.hold_code(),
            )
        if roll < 50 and holds:
            hold = self.inventory.holds[generator.choice(holds)]
            owner = hold.fan_id if generator.chance(90) else fan_id
            return ReleaseHold(
                hold_id=hold.hold_id, fan_id=owner, idempotency_key=self.idempotency_key()
            )
        if roll < 58:
            return ExpireHolds()
        if roll < 62 and holds:
            hold = self.inventory.holds[generator.choice(holds)]
            return ExtendHold(hold_id=hold.hold_id, fan_id=hold.fan_id)
        if roll < 74 and holds:
            return ConvertHold(
                hold_id=generator.choice(holds),
                new_order_id=self.next_id("order"),
                idempotency_key=self.idempotency_key(),
            )
        if roll < 78 and sales:
            order_id = generator.choice(sales)
            if generator.chance(50):
                return RefundOrder(order_id=order_id, idempotency_key=self.idempotency_key())
            if generator.chance(40):
                return self.part_of_sale(order_id)
            return CancelOrder(order_id=order_id)
        return self.pick_venue_command(roll, fan_id)

    def part_of_sale(self, order_id: str) -> ReturnTickets:
        """A partial refund's return: the sale's first seat, or one unit of its first item."""
        sale = self.inventory.sales[order_id]
        if sale.seats:
            return ReturnTickets(order_id=order_id, seats=sale.seats[:1])
        item = sale.items[0]
        return ReturnTickets(
            order_id=order_id,
            items=(ItemRequest(ticket_type_id=item.ticket_type_id, quantity=1),),
            idempotency_key=self.idempotency_key(),
        )

    def pick_venue_command(self, roll: int, fan_id: str) -> Command:
        """The venue's commands and the rest of `pick_command`'s roll, drawn in the same order."""
        generator = self.generator
        if roll < 82:
            return BlockSeats(
                seats=self.pick_seats(3),
                withholding=generator.choice(tuple(Withholding)),
                idempotency_key=self.idempotency_key(),
            )
        if roll < 85:
            return UnblockSeats(seats=self.pick_seats(3))
        if roll < 88:
            allocation = generator.choice((Withholding.COMPS, Withholding.PRESS, Withholding.KILL))
            if generator.chance(50):
                return IssueComps(
                    new_order_id=self.next_id("order"),
                    fan_id=fan_id,
                    allocation=allocation,
                    seats=self.pick_seats(2),
                )
            return IssueComps(
                new_order_id=self.next_id("order"),
                fan_id=fan_id,
                allocation=allocation,
                items=(ItemRequest(ticket_type_id="GA", quantity=generator.between(1, 3)),),
            )
        if roll < 91:
            return WithholdUnits(
                ticket_type_id="GA",
                quantity=generator.between(1, 4),
                withholding=generator.choice(tuple(Withholding)),
            )
        if roll < 93:
            return ReturnWithheldUnits(
                ticket_type_id="GA",
                quantity=generator.between(1, 3),
                withholding=generator.choice((*Withholding, None)),
            )
        if roll < 94:
            return PauseSale() if generator.chance(40) else ResumeSale()
        if roll < 95:
            if generator.chance(50):
                closes_at_ms = self.inventory.configuration.closes_at_ms
                return sale_settings_change(generator, closes_at_ms)
            if generator.chance(50):
                return stock_change(generator)
            return ticket_type_sales_change(generator)
        if roll < 98:
            return self.wait_list_command(fan_id)
        if self.keyed_commands:
            command, _ = generator.choice(self.keyed_commands)
            return command
        return ExpireHolds()

    def wait_list_command(self, fan_id: str) -> Command:
        generator = self.generator
        entries = sorted(self.inventory.wait_list.entries)
        if entries and generator.chance(25):
            entry = self.inventory.wait_list.entries[generator.choice(entries)]
            owner = entry.fan_id if generator.chance(90) else fan_id
            return LeaveWaitList(entry_id=entry.entry_id, fan_id=owner)
        return JoinWaitList(
            new_entry_id=self.next_id("entry"),
            fan_id=generator.choice((fan_id, *WAIT_LIST_FANS)),
            quantity=generator.between(0, 5),
            ticket_type_id=generator.choice((None, None, "GA", "RES", "BOX")),
            email=generator.choice((None, "fan@example.com")),
        )

    def advance_clock(self) -> None:
        roll = self.generator.below(100)
        if roll < 60:
            self.now_ms += self.generator.between(0, 3_000)
        elif roll < 95:
            self.now_ms += self.generator.between(3_000, 40_000)
        else:
            self.now_ms += self.generator.between(60_000, 1_200_000)

    def step(self) -> None:
        self.advance_clock()
        command = self.pick_command()
        key = getattr(command, "idempotency_key", None)
        first = next(
            (decision for earlier, decision in self.keyed_commands if earlier is command), None
        )
        before = self.inventory.comparable_state() if first is not None else None
        result = execute(self.inventory, command, self.now_ms)
        if isinstance(result, Rejected):
            self.rejected[result.reason] = self.rejected.get(result.reason, 0) + 1
        else:
            self.accepted += 1
            if first is None and key is not None:
                self.keyed_commands.append((command, result))
        if first is not None:
            assert isinstance(result, Decision), f"replay rejected: {result}"
            assert result.outcome == first.outcome, "a replay answered differently"
            assert result.changes == (), "a replay changed something"
            assert self.inventory.comparable_state() == before, "a replay changed the state"
        check_step(self.inventory, command, result, self.now_ms)

    def run(self, steps: int) -> SimulationReport:
        for step in range(steps):
            try:
                self.step()
                if step % REBUILD_EVERY_STEPS == REBUILD_EVERY_STEPS - 1:
                    check_rebuild(self.inventory)
            except AssertionError as failure:
                raise SimulationFailure(
                    f"seed={self.seed} step={step} now_ms={self.now_ms}: {failure}; "
                    f"replay with engine.simulation.run_simulation({self.seed})"
                ) from failure
        return SimulationReport(
            seed=self.seed, steps=steps, accepted=self.accepted, rejected=self.rejected
        )


def run_simulation(seed: int, steps: int = SIMULATION_STEPS) -> SimulationReport:
    return Simulation(seed).run(steps)
