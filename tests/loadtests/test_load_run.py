"""`onsale loadtest`'s run against the running HTTP stack: locust's fans buy over HTTP until the
small event sells out, locust is stopped, the sale settles and every check passes."""

import pathlib

import pytest

from loadtests.harness import RECORD_FILE_NAME, run_loadtest
from loadtests.options import LoadtestOptions
from loadtests.sale_checks import parse_acknowledged
from onsale.cli import main
from tests.gateway.http_journeys import CREATED_EVENT_IDS
from tests.gateway.stack import Stack

pytestmark = pytest.mark.slow

SMALL = LoadtestOptions(
    users=24,
    spawn_rate=24.0,
    run_time_s=120,
    fans=400,
    seats=40,
    general=20,
    admit_per_second=40,
    opens_in_s=1.0,
    until_sold_out=True,
    settle_timeout_s=60.0,
)


async def test_a_load_run_until_sold_out_passes_every_check(
    stack: Stack, tmp_path: pathlib.Path
) -> None:
    phases: list[str] = []
    stats_seen: list[dict[str, object]] = []

    result = await run_loadtest(
        stack.parts,
        SMALL,
        tmp_path,
        on_phase=phases.append,
        on_stats=lambda stats, _: stats_seen.append(stats),
    )
    CREATED_EVENT_IDS.append(result.event_id)

    assert result.passed, result.checks.checks
    assert result.sold_out_at_s is not None and result.load_s < SMALL.run_time_s
    assert result.checks.invariants.sold == result.checks.invariants.capacity == 60
    acknowledged = parse_acknowledged((tmp_path / RECORD_FILE_NAME).read_text().splitlines())
    assert acknowledged.paid_order_ids and acknowledged.paid_order_ids <= acknowledged.order_ids
    names = {row.name for row in result.requests}
    assert {"/v1/events/[event]/holds", "/v1/venue/events/[event]/stats"} <= names
    assert stats_seen and phases[0] == "creating the event"


def test_a_load_run_without_a_running_system_is_refused(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONSALE_DATA_DIR", str(tmp_path))

    assert main(["loadtest", "--run-time-s", "5"]) == 1
    assert "start `onsale up` first" in capsys.readouterr().err


def test_a_load_that_cannot_run_is_refused_before_anything_starts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["loadtest", "--users", "0"]) == 2
    assert "loadtest refused" in capsys.readouterr().err
