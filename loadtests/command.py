"""The terminal side of `onsale loadtest`: its flags, the progress lines, the tables at the end.

The system under load is the one `onsale up` runs with the same data directory: its runtime file
says where the gateway, Postgres and Stripe are, and holds the development secret the fans'
tokens are signed with.
"""

import argparse
import datetime
import logging
import sys
from typing import Any

import uvloop
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from embedded.runtime_file import read_runtime_file
from gateway.settings import Settings
from loadtests.harness import LoadtestResult, run_loadtest
from loadtests.invariants import final_line
from loadtests.options import options_from
from loadtests.running_system import readiness

OPTIONS_EXIT_CODE = 2
# Their request logs would bury the progress lines: one line per call of the checks.
QUIETED_LOGGERS = ("httpx", "stripe")
RUNS_DIRECTORY = "loadtests"


def stats_line(stats: dict[str, Any], elapsed_s: float) -> str:
    orders = stats["orders"]
    return (
        f"{elapsed_s:6.1f} s  {stats['status']:<9} sold {stats['sold']:,}/{stats['capacity']:,}"
        f"  held {stats['held']:,}  waiting {stats['queue']['waiting']:,}"
        f"  fulfilled {orders['fulfilled']:,}  pending {orders['pending_payment']:,}"
        f"  minted {stats['mints']['minted']:,}"
    )


def print_result(console: Console, result: LoadtestResult) -> None:
    requests = Table(title="requests (locust)")
    for column in ("name", "requests", "failures", "median ms", "p99 ms", "per s"):
        requests.add_column(column, justify="left" if column == "name" else "right")
    for row in result.requests:
        requests.add_row(
            escape(row.name), f"{row.requests:,}", f"{row.failures:,}", f"{row.median_ms:,.0f}",
            f"{row.p99_ms:,.0f}", f"{row.per_s:,.1f}",
        )  # fmt: skip
    console.print(requests)
    checks = Table(title="checks")
    checks.add_column("check")
    checks.add_column("result")
    checks.add_column("detail", overflow="fold")
    checks.add_row(
        "the sale settled",
        "[green]pass[/green]" if result.settled else "[red]FAIL[/red]",
        "no order left between paid and fulfilled" if result.settled else "orders still moving",
    )
    for check in result.checks.checks:
        verdict = "[green]pass[/green]" if check.passed else "[red]FAIL[/red]"
        checks.add_row(check.name, verdict, check.detail)
    console.print(checks)
    sold_out = (
        "not sold out"
        if result.sold_out_at_s is None
        else (f"sold out after {result.sold_out_at_s:.1f} s")
    )
    console.print(
        f"event {result.event_id}: {result.load_s:.1f} s of load, {sold_out}; "
        f"locust's log and CSV figures: {result.run_directory}",
        highlight=False,
        soft_wrap=True,
    )
    console.print("loadtest " + ("passed" if result.passed else "FAILED"), highlight=False)
    console.print(final_line(result.checks.invariants), highlight=False)


def loadtest(console: Console, settings: Settings, arguments: argparse.Namespace) -> int:
    try:
        options = options_from(arguments)
    except ValueError as error:
        print(f"onsale: loadtest refused: {error}", file=sys.stderr)
        return OPTIONS_EXIT_CODE
    try:
        parts = read_runtime_file(settings.data_path)
    except FileNotFoundError:
        print(
            f"onsale: loadtest refused: no running system with the data directory "
            f"{settings.data_path}; start `onsale up` first",
            file=sys.stderr,
        )
        return 1
    status, _ = readiness(parts.gateway_url)
    if status != 200:
        print(
            f"onsale: loadtest refused: {parts.gateway_url}/health/ready answered "
            f"{status or 'nothing'}; is `onsale up` running?",
            file=sys.stderr,
        )
        return 1
    run_directory = (
        settings.data_path
        / RUNS_DIRECTORY
        / (datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ"))
    )
    for name in QUIETED_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        result = uvloop.run(
            run_loadtest(
                parts,
                options,
                run_directory,
                on_phase=lambda phase: console.rule(f"onsale loadtest: {phase}"),
                on_stats=lambda stats, s: console.print(stats_line(stats, s), highlight=False),
            )
        )
    except (ValueError, RuntimeError, OSError) as error:
        print(f"onsale: loadtest could not run: {error}", file=sys.stderr)
        return 1
    print_result(console, result)
    return 0 if result.passed else 1
