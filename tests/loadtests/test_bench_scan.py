"""SCAN's pieces, not its timings: the offline gate's checks, the figures and the last line."""

from engine.ticket_qr import qr_step
from loadtests.bench import summary_row
from loadtests.bench_scan import (
    Figures,
    Scan,
    admitted_once,
    figures,
    manifest_and_codes,
    offline,
    summary,
    verify_offline,
)
from services.ticket_codes import sign_code

NOW_MS = 1_800_000_000_000
FAST = Figures(scans_per_s=100.0, p50_ms=8.0, p99_ms=40.0, max_ms=60.0, timed=1_000)


def test_the_offline_gate_finds_every_code_of_its_manifest_genuine() -> None:
    manifest, codes = manifest_and_codes(5, NOW_MS)

    assert len(manifest) == len(set(manifest)) == 5
    assert verify_offline(manifest, codes, NOW_MS) == 5


def test_the_offline_gate_refuses_codes_it_cannot_vouch_for() -> None:
    manifest, codes = manifest_and_codes(3, NOW_MS)
    other_manifest, other_codes = manifest_and_codes(1, NOW_MS)
    (ticket_id,) = other_manifest
    forged = sign_code(seed=bytes(32), ticket_id=ticket_id, step=qr_step(NOW_MS))

    assert verify_offline(manifest, codes + other_codes, NOW_MS) == 3
    assert verify_offline(other_manifest, [forged, "tq1.x", "nonsense"], NOW_MS) == 0
    assert verify_offline(manifest, codes, NOW_MS + 10 * 60 * 1_000) == 0


def test_the_offline_part_counts_its_verifications_per_second() -> None:
    ticks = iter([10.0, 12.0])

    per_s, genuine = offline(4, clock=lambda: next(ticks))

    assert (per_s, genuine) == (2.0, 4)


def test_figures_count_only_the_scans_sent_after_the_warm_up() -> None:
    scans = [
        Scan("t1", "admitted", None, 0.5, 0.5),
        Scan("t2", "admitted", None, 1.0, 0.010),
        Scan("t3", "admitted", None, 1.5, 0.030),
        Scan("t4", "admitted", None, 2.0, 0.020),
    ]

    result = figures(scans, warm_until=1.0)

    assert result.timed == 3
    assert result.scans_per_s == 3 / 1.02
    assert (round(result.p50_ms, 6), round(result.max_ms, 6)) == (20.0, 30.0)


def test_every_scan_must_admit_and_no_ticket_twice() -> None:
    admitted = [Scan("t1", "admitted", None, 0.0, 0.01), Scan("t2", "admitted", None, 0.0, 0.01)]

    assert admitted_once(admitted)
    assert not admitted_once([*admitted, Scan("t1", "admitted", None, 0.0, 0.01)])
    assert not admitted_once([*admitted, Scan("t3", "rejected", "forged", 0.0, 0.01)])


def test_the_last_line_is_judged_on_the_paced_run_and_the_offline_rate() -> None:
    line = summary(FAST, 2_500.0, correct=True)

    assert line == (
        "SCAN scans_per_s=100 p50_ms=8.0 p99_ms=40.0 offline_verifications_per_s=2,500 "
        "target=p99<=100ms@>=50/s,offline>=1,000/s,all_admitted_once ok"
    )
    assert summary_row("SCAN", 0, ["detail", line])[1:] == (
        "scans_per_s=100 p50_ms=8.0 p99_ms=40.0 offline_verifications_per_s=2,500",
        "",
        "p99<=100ms@>=50/s,offline>=1,000/s,all_admitted_once",
        "ok",
    )


def test_the_verdict_is_short_when_any_part_misses() -> None:
    slow = Figures(scans_per_s=100.0, p50_ms=8.0, p99_ms=150.0, max_ms=200.0, timed=1_000)
    idle = Figures(scans_per_s=40.0, p50_ms=8.0, p99_ms=40.0, max_ms=60.0, timed=400)

    assert summary(slow, 2_500.0, correct=True).endswith(" short")
    assert summary(idle, 2_500.0, correct=True).endswith(" short")
    assert summary(FAST, 900.0, correct=True).endswith(" short")
    assert summary(FAST, 2_500.0, correct=False).endswith(" short")
