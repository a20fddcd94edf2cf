"""A seeded, deterministic simulation of one event's inventory under random commands.

Each seed drives its own generator (SplitMix64, written here so the engine needs no `random`) and a
virtual clock; after every step the inventory is recounted from scratch, and every few steps it is
rebuilt from its rows through a JSON round trip and compared. Holds carry codes (a capped
discount, a presale code with a per-fan cap that is switched off and on), so every code's
tally is recounted and its caps checked after each step. Fans join and leave the wait list, so
offers (holds placed inside other commands) are recounted and rebuilt like any hold, and after
every decision that returns stock no waiting entry is left that an offer could serve. A failure
raises `SimulationFailure` naming the seed and the step, and `run_simulation(seed)` replays it
exactly.
"""

from collections.abc import Sequence
from typing import TypeVar

import msgspec

from engine.changes import HoldPlaced
from engine.commands import (
    AddCodes,
    BlockSeats,
    CancelOrder,
    ChangeCode,
    ChangeSaleSettings,
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
    PauseSale,
    PlaceHold,
    RefundOrder,
    ReleaseHold,
    ResumeSale,
    ReturnWithheldUnits,
    TicketTypeSalePatch,
    UnblockSeats,
    Withholding,
    WithholdUnits,
)
from engine.holds import Hold
from engine.inventory.apply import execute
from engine.inventory.codes import CodeDefinition, CodeKind, discounted
from engine.inventory.configuration import InventoryConfiguration, TicketKind, TicketTypeDefinition
from engine.inventory.decision import Decision
from engine.inventory.rows import InventoryRows
from engine.inventory.state import Inventory
from engine.inventory.wait_list_decisions import can_offer, decide_offer, returns_stock
from engine.price_phases import PricePhase
from engine.rejections import Rejected
from engine.sale_windows import is_within_window
from engine.seat_map import RowLayout, SectionLayout

MASK_64_BITS = (1 << 64) - 1
SIMULATION_STEPS = 100
REBUILD_EVERY_STEPS = 15
FANS = tuple(f"fan-{number}" for number in range(6))
OPENS_AT_MS = 1_000_000
CLOSES_AT_MS = OPENS_AT_MS + 3_600_000
HOLD_TTL_MS = 60_000
# What a venue may change mid-sale: a hold's time to live, the per-fan limit (none too), a later
# close. The limit may fall below what fans already have, which they keep.
NEW_HOLD_TTLS_MS = (30_000, HOLD_TTL_MS, 300_000)
NEW_LIMITS = (None, 1, 3, 6, 12)
CLOSE_POSTPONEMENTS_MS = (600_000, 3_600_000)
OFFER_TTL_MS = 60_000
# Fans who only wait: more entries than the buying fans make, so offers pass down the list.
WAIT_LIST_FANS = tuple(f"waiter-{number}" for number in range(8))
# General admission steps up by units and by time; the boxes come off sale half an hour in. A venue
# may change a type's phases and window (a later start too) before the type's first sale.
GA_PHASES = (
    PricePhase(price_cents=4_995, first=8),
    PricePhase(price_cents=5_495, until_ms=OPENS_AT_MS + 600_000),
    PricePhase(price_cents=5_995),
)
NEW_PRICE_PHASES = (
    (),
    (PricePhase(price_cents=7_500, first=3), PricePhase(price_cents=8_000)),
    (PricePhase(price_cents=4_000, until_ms=OPENS_AT_MS + 300_000), PricePhase(price_cents=4_500)),
)
NEW_SALE_STARTS_MS = (None, OPENS_AT_MS + 60_000)
NEW_SALE_ENDS_MS = (None, OPENS_AT_MS + 1_800_000)
# Codes: holds name one by their serial (no draw, so each seed's other commands stay as they were),
# in any case; every few picks the presale code is turned off or on again.
HOLD_CODES = ("CAPPED", "capped", None, "PerFan")
CODE_SWITCH_EVERY_PICKS = 25
ROWS_DECODER = msgspec.json.Decoder(InventoryRows)
Option = TypeVar("Option")


class SimulationFailure(AssertionError):
    pass


class SeededGenerator:
    """SplitMix64: small, fast, and identical on every machine for a given seed."""

    def __init__(self, seed: int) -> None:
        self.state = seed & MASK_64_BITS

    def next_word(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK_64_BITS
        word = self.state
        word = ((word ^ (word >> 30)) * 0xBF58476D1CE4E5B9) & MASK_64_BITS
        word = ((word ^ (word >> 27)) * 0x94D049BB133111EB) & MASK_64_BITS
        return word ^ (word >> 31)

    def below(self, bound: int) -> int:
        assert bound > 0
        return self.next_word() % bound

    def between(self, low: int, high: int) -> int:
        return low + self.below(high - low + 1)

    def choice(self, options: Sequence[Option]) -> Option:
        return options[self.below(len(options))]

    def chance(self, percent: int) -> bool:
        return self.below(100) < percent


class SimulationReport(msgspec.Struct, frozen=True, kw_only=True):
    seed: int
    steps: int
    accepted: int
    rejected: dict[str, int]


def simulation_configuration() -> InventoryConfiguration:
    return InventoryConfiguration(
        opens_at_ms=OPENS_AT_MS,
        closes_at_ms=CLOSES_AT_MS,
        hold_ttl_ms=HOLD_TTL_MS,
        max_tickets_per_user=6,
        wait_list_enabled=True,
        offer_ttl_ms=OFFER_TTL_MS,
        ticket_types=(
            TicketTypeDefinition(
                ticket_type_id="GA",
                kind=TicketKind.GENERAL,
                price_cents=4_995,
                capacity=20,
                price_phases=GA_PHASES,
            ),
            TicketTypeDefinition(ticket_type_id="RES", kind=TicketKind.SEATED, price_cents=8_000),
            TicketTypeDefinition(
                ticket_type_id="BOX",
                kind=TicketKind.SEATED,
                price_cents=15_050,
                on_sale_until_ms=OPENS_AT_MS + 1_800_000,
            ),
        ),
        sections=(
            SectionLayout(
                section_id="101",
                ticket_type_id="RES",
                rows=(RowLayout(row_id="A", seats=8), RowLayout(row_id="B", seats=10)),
            ),
            SectionLayout(
                section_id="102",
                ticket_type_id="RES",
                rows=(RowLayout(row_id="A", seats=6),),
            ),
            SectionLayout(
                section_id="B1", ticket_type_id="BOX", rows=(RowLayout(row_id="1", seats=5),)
            ),
        ),
    )


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
            return CancelOrder(order_id=order_id)
        return self.pick_venue_command(roll, fan_id)

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
                withholding=generator.choice(tuple(Withholding)),
            )
        if roll < 94:
            return PauseSale() if generator.chance(40) else ResumeSale()
        if roll < 95:
            if generator.chance(50):
                return self.sale_settings_change()
            return self.ticket_type_sales_change()
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

    def sale_settings_change(self) -> ChangeSaleSettings:
        generator = self.generator
        change = ChangeSaleSettings()
        if generator.chance(50):
            change = msgspec.structs.replace(change, hold_ttl_ms=generator.choice(NEW_HOLD_TTLS_MS))
        if generator.chance(50):
            change = msgspec.structs.replace(
                change, max_tickets_per_user=generator.choice(NEW_LIMITS)
            )
        if generator.chance(30):
            closes_at_ms = self.inventory.configuration.closes_at_ms
            postponement_ms = generator.choice(CLOSE_POSTPONEMENTS_MS)
            change = msgspec.structs.replace(change, closes_at_ms=closes_at_ms + postponement_ms)
        if generator.chance(20):
            change = msgspec.structs.replace(change, wait_list_enabled=generator.chance(70))
        return change

    def ticket_type_sales_change(self) -> ChangeTicketTypeSales:
        generator = self.generator
        patch = TicketTypeSalePatch(ticket_type_id=generator.choice(("GA", "RES", "BOX")))
        if generator.chance(50):
            patch = msgspec.structs.replace(patch, price_phases=generator.choice(NEW_PRICE_PHASES))
        if generator.chance(50):
            patch = msgspec.structs.replace(
                patch,
                on_sale_from_ms=generator.choice(NEW_SALE_STARTS_MS),
                on_sale_until_ms=generator.choice(NEW_SALE_ENDS_MS),
            )
        return ChangeTicketTypeSales(patches=(patch,))

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
        self.check(command, result)

    def check(self, command: Command, result: Decision | Rejected) -> None:
        inventory = self.inventory
        inventory.assert_consistent()
        if (
            isinstance(result, Decision)
            and returns_stock(result.changes)
            and can_offer(inventory, self.now_ms)
        ):
            wait_list = inventory.wait_list
            for entry_id in wait_list.waiting:
                offer = decide_offer(inventory, wait_list.entries[entry_id], self.now_ms)
                assert offer == (), f"entry {entry_id} waits while stock fits it"
        for change in result.changes if isinstance(result, Decision) else ():
            if isinstance(change, HoldPlaced):
                self.check_placed_hold(change.hold)
        if isinstance(command, ExpireHolds):
            overdue = [h for h in inventory.holds.values() if h.expires_at_ms <= self.now_ms]
            assert not overdue, f"holds past expiry still live: {overdue}"

    def check_placed_hold(self, hold: Hold) -> None:
        """A new hold (a fan's or a wait-list offer) has only types on sale now, each unit priced
        by a phase of its type less the hold's code's discount, and each price of a type carried
        once."""
        hold_id = hold.hold_id
        code = None if hold.code_id is None else self.inventory.codes[hold.code_id]
        for item in hold.items:
            ticket_type = self.inventory.ticket_types[item.ticket_type_id]
            assert is_within_window(
                ticket_type.on_sale_from_ms, ticket_type.on_sale_until_ms, self.now_ms
            ), f"hold {hold_id} placed outside the window of {item.ticket_type_id}"
            prices = {phase.price_cents for phase in ticket_type.price_phases} or {
                ticket_type.price_cents
            }
            discounted_prices = {discounted(price, code, item.ticket_type_id) for price in prices}
            assert item.unit_price_cents in discounted_prices, (
                f"hold {hold_id}: a price of no phase"
            )
        pairs = [(item.ticket_type_id, item.unit_price_cents) for item in hold.items]
        assert len(pairs) == len(set(pairs)), f"hold {hold_id}: one type at one price twice"

    def check_rebuild(self) -> None:
        encoded = msgspec.json.encode(self.inventory.rows())
        rebuilt = Inventory.rebuild(ROWS_DECODER.decode(encoded))
        rebuilt.assert_consistent()
        assert rebuilt == self.inventory, "the rebuilt inventory differs"

    def run(self, steps: int) -> SimulationReport:
        for step in range(steps):
            try:
                self.step()
                if step % REBUILD_EVERY_STEPS == REBUILD_EVERY_STEPS - 1:
                    self.check_rebuild()
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
