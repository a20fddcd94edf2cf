"""The seeded simulation: a thousand seeds keep every invariant, a seed replays exactly, and a
failure names the seed that replays it."""

import pytest

from engine import simulation
from engine.inventory.state import Inventory
from engine.seeded_generator import SeededGenerator
from engine.simulation import SimulationFailure, run_simulation

SEEDS = range(1_000)


def test_every_invariant_holds_when_a_thousand_seeds_run() -> None:
    accepted = 0
    rejected: set[str] = set()
    for seed in SEEDS:
        report = run_simulation(seed)
        accepted += report.accepted
        rejected.update(report.rejected)
    assert accepted > 20 * len(SEEDS)
    assert {"SOLD_OUT", "SEAT_UNAVAILABLE", "LIMIT_EXCEEDED", "SALE_NOT_OPEN"} <= rejected
    assert {"CODE_INVALID", "CODE_EXHAUSTED"} <= rejected


def test_codes_are_held_kept_and_given_back_within_their_caps_when_seeds_run() -> None:
    kept = held = 0
    for seed in range(100):
        run = simulation.Simulation(seed)
        run.run(simulation.SIMULATION_STEPS)
        run.inventory.assert_codes_consistent()
        for tally in run.inventory.code_tallies.values():
            kept += tally.uses
            held += tally.held
    assert kept > 0 and held > 0


def test_run_replays_exactly_when_given_the_same_seed() -> None:
    assert run_simulation(42) == run_simulation(42)
    assert run_simulation(42) != run_simulation(43)


def test_generator_repeats_when_the_seed_is_the_same_and_differs_otherwise() -> None:
    first = [SeededGenerator(7).next_word() for _ in range(3)]
    assert first == [SeededGenerator(7).next_word() for _ in range(3)]
    assert SeededGenerator(7).next_word() != SeededGenerator(8).next_word()
    generator = SeededGenerator(1)
    draws = [generator.between(2, 4) for _ in range(300)]
    assert set(draws) == {2, 3, 4}


def test_failure_names_the_seed_and_step_when_an_invariant_breaks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = Inventory.assert_consistent

    def fail_once_anything_is_sold(inventory: Inventory) -> None:
        original(inventory)
        assert not inventory.sales, "a planted failure"

    monkeypatch.setattr(Inventory, "assert_consistent", fail_once_anything_is_sold)
    with pytest.raises(SimulationFailure, match=r"seed=4 step=\d+ .*a planted failure"):
        simulation.run_simulation(4)


def test_type_settings_change_and_holds_straddle_phases_when_two_hundred_seeds_run() -> None:
    changed = straddling = 0
    for seed in range(200):
        run = simulation.Simulation(seed)
        for _ in range(simulation.SIMULATION_STEPS):
            before = run.inventory.configuration.ticket_types
            run.step()
            changed += run.inventory.configuration.ticket_types != before
            straddling += any(
                len({item.ticket_type_id for item in hold.items}) < len(hold.items)
                for hold in run.inventory.holds.values()
            )
    assert changed > 0
    assert straddling > 0
