"""Each reported step of the fans' journeys as the fans saw it: its answers by status, its
latency percentiles and how long requests queued for one of the driver's connections, and the
terminal's table of them (the HTML report draws its own from the same figures).
"""

import msgspec
from rich.table import Table

from onsale.demo.record import REPORTED_STEPS, DriverRecord, summarize_latencies


class StepFigures(msgspec.Struct, frozen=True, kw_only=True):
    step: str
    answers: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    wait_p99_ms: float
    by_status: dict[int, int]


def step_figures(record: DriverRecord) -> list[StepFigures]:
    """Each reported step's latencies and answers, as the fans saw them."""
    summaries = record.latency_summaries()
    return [
        StepFigures(
            step=str(step),
            answers=summaries[step].count,
            p50_ms=summaries[step].p50_ms,
            p99_ms=summaries[step].p99_ms,
            max_ms=summaries[step].max_ms,
            wait_p99_ms=summarize_latencies(record.waits_ms[step]).p99_ms,
            by_status={
                status: count
                for (answer_step, status), count in sorted(record.answers.items())
                if answer_step == step
            },
        )
        for step in REPORTED_STEPS
    ]


def statuses_text(by_status: dict[int, int]) -> str:
    """`200: 1,234, 409: 56`; status 0 stands for no answer at all."""
    return ", ".join(f"{status or 'none'}: {count:,}" for status, count in by_status.items())


def latency_table(steps: list[StepFigures]) -> Table:
    table = Table(
        title="latency by step (ms; queued: waiting for one of the driver's connections)",
        title_justify="left",
        min_width=60,
    )
    for name in ("step", "answers", "p50", "p99", "max", "queued p99", "statuses"):
        table.add_column(name, justify="left" if name in ("step", "statuses") else "right")
    for figures in steps:
        table.add_row(
            figures.step,
            f"{figures.answers:,}",
            f"{figures.p50_ms:,.1f}",
            f"{figures.p99_ms:,.1f}",
            f"{figures.max_ms:,.1f}",
            f"{figures.wait_p99_ms:,.1f}",
            statuses_text(figures.by_status),
        )
    return table
