"""An entry policy's checks, each naming the field at fault, and the zones each ticket may enter."""

import pytest

from engine import limits
from engine.entry.policy import (
    EntryPolicy,
    Reentry,
    Zone,
    entry_policy_problems,
    may_pass,
    reachable_zones,
    scan_zone_problem,
    ticket_type_zone_problem,
    validate_entry_policy,
    zone_closure,
)
from engine.rejections import Reason

FESTIVAL = EntryPolicy(
    zones=(
        Zone(zone_id="GA"),
        Zone(zone_id="VIP", includes=("GA",)),
        Zone(zone_id="BACKSTAGE", includes=("VIP",)),
        Zone(zone_id="PRESS"),
    ),
    reentry=Reentry(enabled=True, cooldown_ms=900_000, max_reentries=2),
)


def test_inclusion_is_transitive_when_zones_include_zones_that_include_others() -> None:
    assert zone_closure(FESTIVAL) == {
        "GA": frozenset({"GA"}),
        "VIP": frozenset({"VIP", "GA"}),
        "BACKSTAGE": frozenset({"BACKSTAGE", "VIP", "GA"}),
        "PRESS": frozenset({"PRESS"}),
    }


@pytest.mark.parametrize(
    ("ticket_zone", "gate_zone", "passes"),
    [
        ("BACKSTAGE", "GA", True),
        ("BACKSTAGE", "BACKSTAGE", True),
        ("VIP", "GA", True),
        ("VIP", "BACKSTAGE", False),
        ("GA", "VIP", False),
        ("PRESS", "GA", False),
        ("GA", None, True),
        (None, None, True),
        (None, "GA", False),
    ],
)
def test_a_ticket_passes_a_gate_only_of_a_zone_its_own_reaches(
    ticket_zone: str | None, gate_zone: str | None, passes: bool
) -> None:
    assert may_pass(FESTIVAL, ticket_zone, gate_zone) is passes


def test_a_zone_the_policy_does_not_know_reaches_only_itself() -> None:
    assert reachable_zones(FESTIVAL, "GONE") == frozenset({"GONE"})
    assert not may_pass(FESTIVAL, "GONE", "GA")


def test_the_festival_policy_and_the_default_have_no_problems() -> None:
    assert validate_entry_policy(FESTIVAL) is None
    assert validate_entry_policy(EntryPolicy()) is None


def test_a_cycle_of_inclusions_is_refused_with_its_path_when_zones_include_each_other() -> None:
    policy = EntryPolicy(
        zones=(
            Zone(zone_id="GA", includes=("BACKSTAGE",)),
            Zone(zone_id="VIP", includes=("GA",)),
            Zone(zone_id="BACKSTAGE", includes=("VIP",)),
        )
    )

    refused = validate_entry_policy(policy)

    assert refused is not None
    assert refused.reason is Reason.VALIDATION_ERROR
    assert refused.details["field"] == "entry.zones"
    assert refused.message == (
        "zones may not include each other in a cycle: GA → BACKSTAGE → VIP → GA"
    )


def test_a_zone_including_itself_is_a_cycle() -> None:
    problems = entry_policy_problems(EntryPolicy(zones=(Zone(zone_id="GA", includes=("GA",)),)))

    assert problems == {"entry.zones": "zones may not include each other in a cycle: GA → GA"}


def test_a_diamond_of_inclusions_is_no_cycle() -> None:
    policy = EntryPolicy(
        zones=(
            Zone(zone_id="GA"),
            Zone(zone_id="LEFT", includes=("GA",)),
            Zone(zone_id="RIGHT", includes=("GA",)),
            Zone(zone_id="ALL", includes=("LEFT", "RIGHT")),
        )
    )

    assert entry_policy_problems(policy) == {}
    assert reachable_zones(policy, "ALL") == frozenset({"ALL", "LEFT", "RIGHT", "GA"})


def test_an_unknown_zone_in_includes_is_refused_naming_the_zone_and_the_field() -> None:
    policy = EntryPolicy(zones=(Zone(zone_id="GA"), Zone(zone_id="VIP", includes=("GA", "FOH"))))

    assert entry_policy_problems(policy) == {
        "entry.zones[1].includes": "'VIP' includes 'FOH', which is not a zone of this event"
    }


@pytest.mark.parametrize(
    ("zones", "field", "problem"),
    [
        ((Zone(zone_id=""),), "entry.zones[0].id", "a zone id has 1 to 64 characters"),
        ((Zone(zone_id="Z" * 65),), "entry.zones[0].id", "a zone id has 1 to 64 characters"),
        (
            (Zone(zone_id="GA"), Zone(zone_id="GA")),
            "entry.zones[1].id",
            "zone id 'GA' is given twice",
        ),
        (
            tuple(Zone(zone_id=f"Z{n}") for n in range(limits.ZONES_PER_EVENT_MAX + 1)),
            "entry.zones",
            "an event has at most 50 zones",
        ),
    ],
)
def test_zone_ids_are_refused_when_empty_too_long_repeated_or_too_many(
    zones: tuple[Zone, ...], field: str, problem: str
) -> None:
    assert entry_policy_problems(EntryPolicy(zones=zones)) == {field: problem}


def test_the_most_zones_with_the_longest_ids_are_accepted() -> None:
    zones = tuple(
        Zone(zone_id=f"{n:02}".ljust(limits.ZONE_ID_CHARACTERS_MAX, "Z"))
        for n in range(limits.ZONES_PER_EVENT_MAX)
    )

    assert entry_policy_problems(EntryPolicy(zones=zones)) == {}


@pytest.mark.parametrize(
    ("reentry", "field"),
    [
        (Reentry(enabled=True, cooldown_ms=-1_000), "entry.reentry.cooldown_s"),
        (Reentry(enabled=True, cooldown_ms=1_500), "entry.reentry.cooldown_s"),
        (Reentry(enabled=True, cooldown_ms=86_401_000), "entry.reentry.cooldown_s"),
        (Reentry(enabled=True, max_reentries=-1), "entry.reentry.max_reentries"),
        (Reentry(enabled=True, max_reentries=101), "entry.reentry.max_reentries"),
    ],
)
def test_reentry_settings_out_of_bounds_are_refused_naming_the_field(
    reentry: Reentry, field: str
) -> None:
    assert list(entry_policy_problems(EntryPolicy(reentry=reentry))) == [field]


@pytest.mark.parametrize(
    "reentry",
    [
        Reentry(enabled=True, cooldown_ms=0, max_reentries=0),
        Reentry(enabled=True, cooldown_ms=86_400_000, max_reentries=100),
    ],
)
def test_reentry_settings_at_their_bounds_are_accepted(reentry: Reentry) -> None:
    assert entry_policy_problems(EntryPolicy(reentry=reentry)) == {}


def test_every_problem_is_returned_at_once_and_the_first_is_the_message() -> None:
    policy = EntryPolicy(
        zones=(Zone(zone_id="VIP", includes=("GA",)),),
        reentry=Reentry(enabled=True, max_reentries=500),
    )

    refused = validate_entry_policy(policy)

    assert refused is not None
    assert refused.message == "'VIP' includes 'GA', which is not a zone of this event"
    assert refused.details == {
        "field": "entry.zones[0].includes",
        "problems": {
            "entry.zones[0].includes": "'VIP' includes 'GA', which is not a zone of this event",
            "entry.reentry.max_reentries": "max_reentries must be between 0 and 100",
        },
    }


def test_a_scan_naming_a_zone_the_event_lacks_is_the_callers_error() -> None:
    refused = scan_zone_problem(FESTIVAL, "FOH")

    assert refused is not None
    assert refused.reason is Reason.VALIDATION_ERROR
    assert refused.details == {"field": "zone"}
    assert scan_zone_problem(EntryPolicy(), "GA") is not None
    assert scan_zone_problem(FESTIVAL, "VIP") is None
    assert scan_zone_problem(EntryPolicy(), None) is None


def test_a_ticket_type_may_name_only_a_zone_of_the_policy() -> None:
    assert ticket_type_zone_problem(FESTIVAL, "VIP") is None
    assert ticket_type_zone_problem(FESTIVAL, None) is None
    assert ticket_type_zone_problem(FESTIVAL, "FOH") == (
        "zone 'FOH' is not a zone of this event's entry policy"
    )
