"""The demo's scenario: a stadium layout, an event body the API accepts, and fans' plans that
are the same for the same seed."""

import collections
import datetime

import msgspec
import pytest

from gateway.event_schemas import CreateEventBody
from loadtests.scenario import (
    ROW_SEATS,
    SECTION_ROWS,
    Ending,
    Scenario,
    Want,
    event_body,
    plan_fans,
    row_label,
    venue_sections,
)

NOW = datetime.datetime(2030, 5, 1, 18, 0, tzinfo=datetime.UTC)


def test_row_labels_run_from_a_to_z_then_double_letters() -> None:
    assert [row_label(index) for index in (0, 1, 25, 26, 27, 51, 52)] == [
        "A",
        "B",
        "Z",
        "AA",
        "AB",
        "AZ",
        "BA",
    ]


def test_the_default_venue_is_ten_full_sections_of_twenty_rows_of_twenty_five() -> None:
    sections = venue_sections(5_000)

    assert [section.id for section in sections] == [str(101 + index) for index in range(10)]
    assert all(len(section.rows) == SECTION_ROWS for section in sections)
    assert {row.seats for section in sections for row in section.rows} == {ROW_SEATS}


@pytest.mark.parametrize("seats", [0, 1, 24, 26, 499, 501, 1_234])
def test_every_seat_is_placed_once_and_only_the_last_row_is_short_when_seats_are(
    seats: int,
) -> None:
    rows = [row for section in venue_sections(seats) for row in section.rows]

    assert sum(row.seats for row in rows) == seats
    assert all(row.seats == ROW_SEATS for row in rows[:-1])


def test_the_event_body_is_one_the_api_accepts_with_a_waiting_room_and_short_holds() -> None:
    scenario = Scenario(seats=1_234, general=100, opens_in_s=4)

    body = msgspec.convert(event_body(scenario, now=NOW, name="Night"), CreateEventBody)

    assert body.onsale.opens_at == NOW + datetime.timedelta(seconds=4)
    assert body.onsale.closes_at > body.onsale.opens_at
    assert body.onsale.hold_ttl_s == 30
    assert body.onsale.waiting_room.enabled
    assert body.onsale.waiting_room.admit_per_second == scenario.admit_per_second
    assert [ticket_type.key for ticket_type in body.ticket_types] == ["GA", "RES"]
    assert body.seatmap is not None
    assert sum(row.seats for s in body.seatmap.sections for row in s.rows) == 1_234


def test_an_event_without_general_admission_has_only_reserved_seats() -> None:
    body = event_body(Scenario(seats=50, general=0), now=NOW, name="Night")

    assert [ticket_type["key"] for ticket_type in body["ticket_types"]] == ["RES"]  # type: ignore[index]


def test_plans_are_the_same_for_the_same_seed_and_differ_for_another() -> None:
    scenario = Scenario(fans=200, seed=3)

    assert plan_fans(scenario) == plan_fans(scenario)
    assert plan_fans(scenario) != plan_fans(Scenario(fans=200, seed=4))


def test_fans_arrive_in_number_order_some_before_the_opening_with_the_asked_mix() -> None:
    scenario = Scenario(
        fans=20_000, seats=5_000, general=1_000, opens_in_s=10, pre_queue_share=0.15, arrival_s=20
    )

    plans = plan_fans(scenario)

    arrivals = [plan.arrives_after_s for plan in plans]
    assert arrivals == sorted(arrivals) and arrivals[0] == 0
    assert sum(1 for arrival in arrivals if arrival < 10) == 3_000
    assert max(arrival for arrival in arrivals if arrival < 10) < 5
    assert min(arrival for arrival in arrivals if arrival >= 10) == 10 and arrivals[-1] < 30
    endings = collections.Counter(plan.ending for plan in plans)
    assert endings[Ending.DECLINE] == pytest.approx(1_000, rel=0.15)
    assert endings[Ending.ABANDON] == pytest.approx(1_000, rel=0.15)
    wants = collections.Counter(plan.want for plan in plans)
    assert wants[Want.GENERAL] == pytest.approx(20_000 / 6, rel=0.1)
    assert wants[Want.NAMED_SEATS] > 0 and wants[Want.BEST_AVAILABLE] > wants[Want.NAMED_SEATS]
    assert {plan.quantity for plan in plans} == {1, 2, 3, 4}
    assert len({plan.email for plan in plans}) == 20_000


def test_fans_of_an_event_without_seats_all_want_general_admission() -> None:
    plans = plan_fans(Scenario(fans=50, seats=0, general=100))

    assert {plan.want for plan in plans} == {Want.GENERAL}


@pytest.mark.parametrize(
    "knobs",
    [
        {"fans": 0},
        {"seats": 0, "general": 0},
        {"decline_share": 0.7, "abandon_share": 0.5},
        {"abandon_share": -0.1},
        {"pre_queue_share": 1.5},
        {"hold_ttl_s": 10},
        {"sale_timeout_s": 0},
    ],
)
def test_a_scenario_that_cannot_run_is_refused_with_a_reason(knobs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="a scenario needs"):
        Scenario(**knobs)  # type: ignore[arg-type]


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_all_fans_arrive_on_one_side_of_the_opening_when_the_share_says_so(share: float) -> None:
    scenario = Scenario(fans=100, opens_in_s=6, pre_queue_share=share, arrival_s=10)

    arrivals = [plan.arrives_after_s for plan in plan_fans(scenario)]

    assert all((arrival < 6) == (share == 1.0) for arrival in arrivals)
