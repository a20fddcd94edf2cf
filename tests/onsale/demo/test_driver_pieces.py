"""The pure pieces of the driver: poll pacing, picking seats from the map, percentiles, rates,
retry delays and counting the mail sink's messages."""

import pathlib

import pytest

from onsale.demo.mailbox import Mailbox
from onsale.demo.progress import recent_rate
from onsale.demo.queue_pace import is_stalled, observed_eta_s, poll_delay_s
from onsale.demo.record import DriverRecord, Step, percentile, summarize_latencies
from onsale.demo.timed_client import Answer, retry_delay_s
from onsale.demo.wanted_hold import adjacent_available_runs


@pytest.mark.parametrize(
    ("state", "eta_s", "seconds_to_open", "expected_s"),
    [
        ("pre_queue", None, 4.0, 5.5),
        ("pre_queue", None, 120.0, 60.0),
        ("pre_queue", None, -2.0, 1.0),
        ("waiting", 1, 0.0, 1.0),
        ("waiting", 10, 0.0, 8.0),
        ("waiting", 600, 0.0, 60.0),
        ("waiting", None, 0.0, 2.5),
    ],
)
def test_polls_come_after_the_opening_or_most_of_the_eta_within_one_to_sixty_seconds(
    state: str, eta_s: int | None, seconds_to_open: float, expected_s: float
) -> None:
    delay = poll_delay_s(state=state, eta_s=eta_s, seconds_to_open=seconds_to_open, jitter=0.5)

    assert delay == pytest.approx(expected_s)


def test_polls_thin_out_while_the_fan_gets_no_nearer_the_door() -> None:
    def delay(stalls: int) -> float:
        return poll_delay_s(state="waiting", eta_s=5, seconds_to_open=0, jitter=0.5, stalls=stalls)

    assert [delay(stalls) for stalls in (0, 1, 2, 4, 40)] == [4.0, 8.0, 16.0, 60.0, 60.0]
    waiting = {"state": "waiting", "position": 40}
    assert is_stalled(waiting, {"state": "waiting", "position": 40})
    assert not is_stalled(waiting, {"state": "waiting", "position": 39})
    assert not is_stalled(waiting, {"state": "admitted", "position": None})


def test_a_fan_whose_place_moves_slower_than_the_room_says_polls_at_its_own_pace() -> None:
    before = {"state": "waiting", "position": 1_000}
    after = {"state": "waiting", "position": 900}

    assert observed_eta_s(before, after, 10.0) == 90.0
    assert observed_eta_s(after, after, 10.0) is None
    assert observed_eta_s(before, {"state": "admitted", "position": None}, 10.0) is None
    delay = poll_delay_s(
        state="waiting", eta_s=5, seconds_to_open=0, jitter=0.5, observed_eta_s=50.0
    )
    assert delay == 40.0


def test_polls_never_leave_one_to_sixty_seconds_whatever_the_jitter() -> None:
    for jitter in (0.0, 0.999):
        for eta_s in (0, 1, 7, 31, 10_000):
            delay = poll_delay_s(state="waiting", eta_s=eta_s, seconds_to_open=0, jitter=jitter)
            assert 1 <= delay <= 60


def seat_row(row_id: str, statuses: str) -> dict[str, object]:
    """A row of the seat map from letters: `a` available, `u` unavailable."""
    names = {"a": "available", "u": "unavailable"}
    return {
        "id": row_id,
        "seats": [{"n": n, "status": names[letter]} for n, letter in enumerate(statuses, 1)],
    }


def test_seat_runs_are_side_by_side_available_seats_of_one_row() -> None:
    seatmap = {"sections": [{"id": "101", "rows": [seat_row("A", "aaua"), seat_row("B", "a")]}]}

    assert adjacent_available_runs(seatmap, 2) == [["101-A-1", "101-A-2"]]
    assert adjacent_available_runs(seatmap, 1) == [
        ["101-A-1"],
        ["101-A-2"],
        ["101-A-4"],
        ["101-B-1"],
    ]
    assert adjacent_available_runs(seatmap, 3) == []


def test_percentiles_are_nearest_rank() -> None:
    ordered = [float(value) for value in range(1, 101)]

    assert percentile(ordered, 0.5) == 50 and percentile(ordered, 0.99) == 99
    assert percentile([], 0.5) == 0
    assert summarize_latencies([3.0, 1.0, 2.0]).max_ms == 3.0


def test_the_record_counts_answers_and_keeps_the_first_refusal_of_each_kind() -> None:
    record = DriverRecord()
    record.note_answer(Step.HOLD, 201, 5.0, None, "")
    record.note_answer(Step.HOLD, 409, 3.0, "SOLD_OUT", "")
    record.note_answer(Step.PAY, 502, 9.0, None, "bad gateway")
    record.note_answer(Step.POLL, 0, 30_000.0, None, "TimeoutError()")

    assert record.count_answers() == 4
    assert record.answers[Step.HOLD, 409] == 1
    assert record.count_answers(server_errors=True) == 2
    assert record.error_codes[Step.HOLD, "SOLD_OUT"] == 1
    record.note_answer(Step.PAY, 502, 7.0, None, "bad gateway again")
    assert record.first_refusals == {
        "hold 409 SOLD_OUT": "",
        "pay 502": "bad gateway",
        "poll transport": "TimeoutError()",
    }


def test_a_recent_rate_counts_the_last_window() -> None:
    assert recent_rate([0.5, 1.0, 7.0, 8.0, 9.5], now_s=10.0, window_s=5.0) == pytest.approx(0.6)


def test_retries_wait_as_asked_by_retry_after_else_back_off() -> None:
    assert retry_delay_s(0, "2") == 2.0
    assert retry_delay_s(0, "3600") == 30.0
    assert [retry_delay_s(attempt, None) for attempt in range(6)] == [0.5, 1, 2, 4, 8, 8]
    assert retry_delay_s(1, "soon") == 1.0


def test_an_answer_names_its_api_error_code() -> None:
    error = {"error": {"code": "SOLD_OUT", "message": "", "details": {}}}

    assert Answer(status=409, body=error).code == "SOLD_OUT"
    assert Answer(status=201, body={"hold_id": "h"}).code is None
    assert Answer(status=0, body=None).code is None


def test_the_mailbox_counts_messages_that_arrived_since_the_run_began(
    tmp_path: pathlib.Path,
) -> None:
    for name in ("100-a.eml", "200-b.eml", "300-c.eml", ".400-d.tmp", "notes.txt", "x-y.eml"):
        (tmp_path / name).write_text("")

    assert Mailbox(tmp_path, since_ns=200).count() == 2
    assert Mailbox(tmp_path / "missing", since_ns=0).count() == 0
    assert Mailbox(None, since_ns=0).count() == 0
