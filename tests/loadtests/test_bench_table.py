"""`make bench`'s closing table: each benchmark's last line and comparison, read back."""

import pytest

from loadtests.bench import main, print_table, summary_row

B1_LINES = [
    "clients=512 seconds=10 each side",
    "pipeline holds_per_s=11,827 (largest group commit: 257 holds)",
    "row_lock holds_per_s=558 (one transaction per hold, SELECT ... FOR UPDATE, 64 connections)",
    "B1 ratio=21.2 target=30 short",
]


def test_a_row_takes_the_figure_target_verdict_and_both_sides_of_a_comparison() -> None:
    assert summary_row("B1", 1, B1_LINES) == (
        "B1",
        "ratio=21.2",
        f"{B1_LINES[1]}; {B1_LINES[2]}",
        "30",
        "short",
    )
    assert summary_row("B5", 0, ["seats=80000 sold=56000", "B5 p99_us=62.0 target=200 ok"]) == (
        "B5",
        "p99_us=62.0",
        "",
        "200",
        "ok",
    )


def test_a_benchmark_that_printed_no_result_is_short() -> None:
    assert summary_row("B4", 3, ["Traceback (most recent call last):"]) == (
        "B4",
        "no result (exit 3)",
        "",
        "",
        "short",
    )


def test_the_table_lines_up_its_columns(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(
        [("B3", "joins_per_s=312303", "", "50000/150", "ok"), ("HOLDS", "x=1", "", "2", "ok")]
    )

    lines = capsys.readouterr().out.splitlines()[1:]
    assert lines[0].split() == ["id", "figure", "compared", "with", "target", "verdict"]
    assert {line.index("ok") for line in lines[2:]} == {lines[0].index("verdict")}


def test_an_unknown_benchmark_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["B9"]) == 64
    assert "unknown benchmark B9" in capsys.readouterr().out
