"""What one load run is: its load, the event it creates, and how long it waits; with the flags
of `onsale loadtest` that set them.

Light on imports, since the `onsale` command builds its parser for every subcommand.
"""

import argparse

import msgspec

from loadtests.scenario import Scenario
from loadtests.struct_flags import add_field_flags, struct_from_flags


class LoadtestOptions(msgspec.Struct, frozen=True, kw_only=True):
    users: int = 500
    spawn_rate: float = 100.0
    run_time_s: int = 60
    fans: int = 20_000
    seats: int = 2_000
    general: int = 1_000
    admit_per_second: int = 200
    decline_share: float = 0.05
    abandon_share: float = 0.05
    hold_ttl_s: int = 30
    opens_in_s: float = 3.0
    until_sold_out: bool = False
    settle_timeout_s: float = 120.0

    def __post_init__(self) -> None:
        if self.users < 1 or self.spawn_rate <= 0 or self.run_time_s < 1 or self.fans < 1:
            raise ValueError("a load needs at least one user, fan and second, and a spawn rate")
        if self.settle_timeout_s <= 0:
            raise ValueError("a positive settle timeout")

    def scenario(self) -> Scenario:
        """The event's layout and settings, in the scenario's terms (which checks them)."""
        return Scenario(
            fans=self.fans,
            seats=self.seats,
            general=self.general,
            admit_per_second=self.admit_per_second,
            decline_share=self.decline_share,
            abandon_share=self.abandon_share,
            hold_ttl_s=self.hold_ttl_s,
            opens_in_s=self.opens_in_s,
            sale_timeout_s=float(self.run_time_s),
        )


DEFAULTS = LoadtestOptions()


def add_loadtest_arguments(parser: argparse.ArgumentParser) -> None:
    add_field_flags(
        parser,
        DEFAULTS,
        [
            ("users", int, "locust users at once (each one fan after another)"),
            ("spawn_rate", float, "users started a second"),
            ("run_time_s", int, "seconds of load, at most"),
            ("fans", int, "fans who come, at most"),
            ("seats", int, "reserved seats of the event created for the run"),
            ("general", int, "general admission tickets of that event"),
            ("admit_per_second", int, "fans the waiting room admits a second"),
            ("decline_share", float, "share of fans whose card is declined"),
            ("abandon_share", float, "share of fans who walk away from their hold"),
            ("settle_timeout_s", float, "seconds to wait at most for the last payments to settle"),
        ],
    )
    parser.add_argument(
        "--until-sold-out",
        action="store_true",
        help="stop the load as soon as the event sells out",
    )


def options_from(arguments: argparse.Namespace) -> LoadtestOptions:
    return struct_from_flags(LoadtestOptions, arguments)
