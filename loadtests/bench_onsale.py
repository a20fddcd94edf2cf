"""B6: a full on-sale under locust on the embedded default, checked afterwards.

`onsale up` on a fresh data directory; an event of 4,000 reserved seats and 1,000 general
admission tickets; 20,000 fans, one locust user each, arrive over the first 20 s, queue, hold,
pay, get their tickets and NFTs until the event sells out; then the sale settles and is checked
in Postgres, Stripe and the API (`loadtests/sale_checks.py`). The figure is the seconds to sell
out; the target is selling out with nothing oversold, lost or charged twice. Locust runs on the
same two cores as the system, so its latencies include the load generator's own queueing.

    python -m loadtests.bench_onsale [fans]
"""

import pathlib
import sys
import tempfile

import msgspec
import uvloop

from embedded.runtime_file import read_runtime_file
from loadtests.bench_http import running_system
from loadtests.harness import LoadtestResult, run_loadtest
from loadtests.invariants import final_line
from loadtests.options import LoadtestOptions

FANS = 20_000
OPTIONS = LoadtestOptions(
    users=FANS,
    spawn_rate=1_000.0,
    run_time_s=900,
    fans=FANS,
    seats=4_000,
    general=1_000,
    admit_per_second=150,
    until_sold_out=True,
)
TARGET = "sold_out_with_0_oversold_0_lost_0_double_charged"


def report(result: LoadtestResult) -> int:
    for row in result.requests:
        print(
            f"  {row.name:<34} {row.requests:>8,} requests {row.failures:>5,} failed "
            f"median {row.median_ms:>6,.0f} ms p99 {row.p99_ms:>7,.0f} ms {row.per_s:>7,.1f}/s"
        )
    for check in result.checks.checks:
        print(f"  {'pass' if check.passed else 'FAIL'}  {check.name}: {check.detail}")
    invariants = result.checks.invariants
    print(f"  {final_line(invariants)}")
    sold_out = result.sold_out_at_s is not None and invariants.sold_out
    ok = sold_out and result.passed
    figure = f"{result.sold_out_at_s:.1f}" if result.sold_out_at_s is not None else "never"
    print(f"B6 sold_out_s={figure} target={TARGET} {'ok' if ok else 'short'}")
    return 0 if ok else 1


def main(arguments: list[str] | None = None) -> int:
    fans = int(arguments[0]) if arguments else FANS
    options = msgspec.structs.replace(OPTIONS, fans=fans, users=fans)
    print(
        f"B6: {options.seats:,} reserved seats + {options.general:,} general admission, "
        f"{options.fans:,} fans at most, {options.users:,} locust users at once"
    )
    with tempfile.TemporaryDirectory(prefix="onsale-b6-") as directory:
        data_dir = pathlib.Path(directory)
        with running_system(data_dir):
            parts = read_runtime_file(data_dir)
            result = uvloop.run(
                run_loadtest(
                    parts,
                    options,
                    data_dir / "loadtest",
                    on_phase=lambda phase: print(f"  {phase}", flush=True),
                    on_stats=lambda stats, s: print(
                        f"  {s:6.1f} s sold {stats['sold']:,}/{stats['capacity']:,} "
                        f"held {stats['held']:,} waiting {stats['queue']['waiting']:,}",
                        flush=True,
                    ),
                )
            )
    return report(result)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
