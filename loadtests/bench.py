"""`python -m loadtests.bench B5` runs one benchmark; `all` (or nothing) runs every one and ends
with one table of their figures, targets and verdicts.

Each benchmark module has `main() -> int` and prints, as its last line,
`<id> <figure>=<value> target=<target> ok|short`, after any detail; B1 and B2 print the two
sides of their comparison as detail lines, which the table repeats. The exit code is 0 when every
figure meets its target.
"""

import contextlib
import importlib
import io
import sys
from typing import TextIO

BENCHMARK_MODULES = {
    "B1": "loadtests.bench_pipeline",
    "B2": "loadtests.bench_http",
    "B3": "loadtests.bench_waiting_room",
    "B4": "loadtests.bench_rebuild",
    "B5": "loadtests.bench_best_available",
    "B6": "loadtests.bench_onsale",
    "B7": "loadtests.bench_balancer",
    "HOLDS": "loadtests.bench_engine_holds",
    "DOOR": "loadtests.bench_door",
    "SCAN": "loadtests.bench_scan",
    "SEARCH": "loadtests.bench_search",
    "LOOPS": "loadtests.bench_standing_loops",
}
# The detail lines of B1 and B2 that give the two sides of their comparison.
COMPARISON_PREFIXES = ("pipeline ", "row_lock ", "gateway ", "trivial ")
UNKNOWN_BENCHMARK_EXIT_CODE = 64


class Tee(io.TextIOBase):
    """Writes through to the terminal and keeps a copy, so the table can quote the output."""

    def __init__(self, terminal: TextIO) -> None:
        self._terminal = terminal
        self.kept = io.StringIO()

    def write(self, text: str) -> int:
        self.kept.write(text)
        return self._terminal.write(text)

    def flush(self) -> None:
        self._terminal.flush()


def run(benchmark_id: str) -> tuple[int, list[str]]:
    """Run one benchmark: its exit code and the lines it printed."""
    tee = Tee(sys.stdout)
    with contextlib.redirect_stdout(tee):
        module = importlib.import_module(BENCHMARK_MODULES[benchmark_id])
        exit_code = int(module.main())
    return exit_code, tee.kept.getvalue().splitlines()


def summary_row(benchmark_id: str, exit_code: int, lines: list[str]) -> tuple[str, ...]:
    """id, figure, comparison, target and verdict, from a benchmark's printed lines."""
    last = next((line for line in reversed(lines) if line.startswith(benchmark_id + " ")), None)
    if last is None:
        return (benchmark_id, f"no result (exit {exit_code})", "", "", "short")
    words = last.split()[1:]
    verdict = words[-1] if words and words[-1] in ("ok", "short") else "short"
    target = next(
        (word.removeprefix("target=") for word in words if word.startswith("target=")), ""
    )
    figures = " ".join(w for w in words if not w.startswith("target=") and w not in ("ok", "short"))
    comparison = "; ".join(line for line in lines if line.startswith(COMPARISON_PREFIXES))
    return (benchmark_id, figures, comparison, target, verdict)


def print_table(rows: list[tuple[str, ...]]) -> None:
    header = ("id", "figure", "compared with", "target", "verdict")
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    print()
    for row in [header, tuple("-" * width for width in widths), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def main(arguments: list[str]) -> int:
    requested = [argument.upper() for argument in arguments] or ["ALL"]
    if requested == ["ALL"]:
        requested = list(BENCHMARK_MODULES)
    unknown = [name for name in requested if name not in BENCHMARK_MODULES]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARK_MODULES)}")
        return UNKNOWN_BENCHMARK_EXIT_CODE
    rows, exit_codes = [], []
    for name in requested:
        exit_code, lines = run(name)
        exit_codes.append(exit_code)
        rows.append(summary_row(name, exit_code, lines))
    if len(rows) > 1:
        print_table(rows)
    return max(exit_codes)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
