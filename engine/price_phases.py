"""A ticket type's price phases: which phase prices each unit, and the checks phases must pass.

Counting rule, by unit number: unit k of a type (counting its sold and live held units, so the
next unit is k = sold + held + 1) belongs to the first phase that has not ended for it. A phase
with `until_ms` ends at that time, whatever was taken; a phase with `first` ends for unit k once
the running total of the `first`s of it and every earlier phase is below k (so units taken in a
phase that ended by time count towards a later `first` phase); the last phase never ends. A
released or expired hold lowers the count, so the current phase can step back.
"""

import msgspec

from engine import limits


class PricePhase(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Every phase but the last has exactly one of `first` (units) and `until_ms`."""

    price_cents: int
    first: int | None = None
    until_ms: int | None = None


class PriceRun(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """`quantity` consecutive units at one price."""

    price_cents: int
    quantity: int


def unit_price_runs(
    phases: tuple[PricePhase, ...], taken: int, quantity: int, now_ms: int
) -> tuple[PriceRun, ...]:
    """The prices of units `taken + 1` to `taken + quantity`, in unit order, one run per phase."""
    assert phases and quantity >= 1 and taken >= 0
    runs: list[PriceRun] = []
    next_unit = taken + 1
    last_unit = taken + quantity
    running_first = 0
    for position, phase in enumerate(phases):
        takes_the_rest = position == len(phases) - 1 or (
            phase.until_ms is not None and now_ms < phase.until_ms
        )
        if takes_the_rest:
            runs.append(PriceRun(price_cents=phase.price_cents, quantity=last_unit - next_unit + 1))
            break
        if phase.first is None:
            continue
        running_first += phase.first
        if running_first >= next_unit:
            units = min(running_first, last_unit) - next_unit + 1
            runs.append(PriceRun(price_cents=phase.price_cents, quantity=units))
            next_unit += units
            if next_unit > last_unit:
                break
    return tuple(runs)


def current_price_cents(phases: tuple[PricePhase, ...], taken: int, now_ms: int) -> int:
    """The price of the next unit: the price the type shows now."""
    return unit_price_runs(phases, taken, 1, now_ms)[0].price_cents


def price_phases_problems(phases: tuple[PricePhase, ...]) -> list[str]:
    """What is wrong with a type's phases, each problem naming `price_phases`."""
    if not phases:
        return []
    if len(phases) > limits.PRICE_PHASES_PER_TICKET_TYPE_MAX:
        return [f"price_phases: at most {limits.PRICE_PHASES_PER_TICKET_TYPE_MAX} phases"]
    problems: list[str] = []
    last_until_ms = 0
    for position, phase in enumerate(phases):
        name = f"price_phases[{position}]"
        if not 0 <= phase.price_cents <= limits.PRICE_CENTS_MAX:
            problems.append(f"{name}: price_cents must be 0 to {limits.PRICE_CENTS_MAX}")
        is_last = position == len(phases) - 1
        ends = (phase.first is not None) + (phase.until_ms is not None)
        if is_last and ends:
            problems.append(f"{name}: the last phase has neither first nor until")
        elif not is_last and ends != 1:
            problems.append(f"{name}: every phase but the last has exactly one of first, until")
        if phase.first is not None and not 1 <= phase.first <= limits.CAPACITY_PER_TICKET_TYPE_MAX:
            problems.append(f"{name}: first must be 1 to {limits.CAPACITY_PER_TICKET_TYPE_MAX}")
        if phase.until_ms is not None:
            if phase.until_ms <= last_until_ms:
                problems.append(f"{name}: until must be after the earlier phases' untils")
            last_until_ms = max(last_until_ms, phase.until_ms)
    return problems
