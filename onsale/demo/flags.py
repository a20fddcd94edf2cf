"""The flags of `onsale demo`: one per knob of the scenario, with the scenario's defaults, built
by the helpers `onsale loadtest` uses too (loadtests/struct_flags.py).

Light on imports, since the `onsale` command builds its parser for every subcommand.
"""

import argparse

from loadtests.scenario import Scenario
from loadtests.struct_flags import add_field_flags, struct_from_flags

DEFAULTS = Scenario()


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """The scenario's knobs as flags, with the scenario's defaults."""
    add_field_flags(
        parser,
        DEFAULTS,
        [
            ("fans", int, "simulated fans arriving in the burst"),
            ("seats", int, "reserved seats, in sections of 20 rows of 25"),
            ("general", int, "general admission tickets"),
            ("admit_per_second", int, "fans the waiting room admits a second"),
            ("max_active_shoppers", int, "admitted fans shopping at once, at most"),
            ("decline_share", float, "share of fans whose card is declined"),
            ("abandon_share", float, "share of fans who walk away from their hold"),
            ("hold_ttl_s", int, "seconds a hold lasts before its tickets come back"),
            ("opens_in_s", float, "seconds from creating the event to opening the sale"),
            ("pre_queue_share", float, "share of fans who arrive before the sale opens"),
            ("arrival_s", float, "seconds after the opening over which the other fans arrive"),
            ("seed", int, "seed of every fan's choices"),
            ("sale_timeout_s", float, "seconds the sale may run at most"),
            ("drain_timeout_s", float, "seconds to wait at most for the mint and email backlogs"),
        ],
    )


def scenario_from(arguments: argparse.Namespace) -> Scenario:
    """The scenario the flags describe; ValueError names what is wrong with it."""
    return struct_from_flags(Scenario, arguments)
