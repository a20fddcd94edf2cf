"""The demo's report as one self-contained HTML page: the same figures as the terminal, and
plots of the sale, the queue, holds a second and latency, drawn as inline SVG.

It needs nothing but the file: no script, no stylesheet or font from anywhere else. Written
under `<data dir>/reports/`, named by the moment the run started.
"""

import collections
import datetime
import html
import math
import pathlib

from loadtests.invariants import final_line
from onsale.demo.presale import presale_rows
from onsale.demo.report import (
    DemoReport,
    fairness_rows,
    money_and_aftermath_rows,
    promise_rows,
    report_pace_rows,
    sale_rows,
)
from onsale.demo.step_figures import statuses_text
from onsale.demo.svg_charts import Series, line_chart

REPORTS_DIRECTORY = "reports"
CDF_POINTS_MAX = 200
STYLE = """
body { font-family: sans-serif; margin: 2rem auto; max-width: 960px; color: #111827; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; width: 100%; }
td, th { border-bottom: 1px solid #e5e7eb; padding: 0.3rem 0.6rem; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { font-family: monospace; font-size: 1.1rem; padding: 0.8rem; border-radius: 6px; }
.kept { background: #dcfce7; } .broken { background: #fee2e2; }
figure { margin: 1rem 0; }
"""


def rows_table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(value)}</td></tr>"
        for name, value in rows
    )
    return f"<table>{cells}</table>"


def latency_table(report: DemoReport) -> str:
    header = "".join(
        f"<th>{name}</th>"
        for name in ("step", "answers", "p50 ms", "p99 ms", "max ms", "queued p99 ms", "statuses")
    )
    body = "".join(
        "<tr>"
        f"<td>{html.escape(figures.step)}</td>"
        f'<td class="number">{figures.answers:,}</td>'
        f'<td class="number">{figures.p50_ms:,.1f}</td>'
        f'<td class="number">{figures.p99_ms:,.1f}</td>'
        f'<td class="number">{figures.max_ms:,.1f}</td>'
        f'<td class="number">{figures.wait_p99_ms:,.1f}</td>'
        f"<td>{html.escape(statuses_text(figures.by_status))}</td>"
        "</tr>"
        for figures in report.steps
    )
    return f"<table><tr>{header}</tr>{body}</table>"


def cumulative_share(latencies_ms: list[float]) -> list[tuple[float, float]]:
    """(latency, % of answers at most that slow), thinned to CDF_POINTS_MAX points."""
    ordered = sorted(latencies_ms)
    if not ordered:
        return []
    points = min(CDF_POINTS_MAX, len(ordered))
    return [
        (ordered[math.ceil((index + 1) / points * len(ordered)) - 1], (index + 1) / points * 100)
        for index in range(points)
    ]


def per_second(moments_s: list[float], offset_s: float) -> list[tuple[float, float]]:
    """Counts of moments in each whole second, every second from the first to the last."""
    if not moments_s:
        return []
    counts = collections.Counter(math.floor(moment - offset_s) for moment in moments_s)
    return [
        (float(second), float(counts[second])) for second in range(min(counts), max(counts) + 1)
    ]


def charts(report: DemoReport) -> list[str]:
    opened = report.opens_in_s
    samples = report.samples

    def over_time(name: str, value: str) -> Series:
        return Series(
            name=name,
            points=[(sample.at_s - opened, float(getattr(sample, value))) for sample in samples],
        )

    since_opening = "seconds since the sale opened"
    return [
        line_chart(
            title="Sales over time",
            series=[
                over_time("sold", "sold"),
                over_time("held", "held"),
                over_time("available", "available"),
            ],
            x_label=since_opening,
            y_label="tickets",
        ),
        line_chart(
            title="Queue over time",
            series=[
                over_time("pre-queue", "pre_queue"),
                over_time("waiting", "waiting"),
                over_time("admitted", "admitted"),
            ],
            x_label=since_opening,
            y_label="fans",
        ),
        line_chart(
            title="Holds acknowledged per second",
            series=[Series(name="holds/s", points=per_second(report.hold_moments_s, opened))],
            x_label=since_opening,
            y_label="holds",
        ),
        line_chart(
            title="Latency distribution (share of answers at most this slow)",
            series=[
                Series(name=step, points=cumulative_share(latencies))
                for step, latencies in report.latencies_ms.items()
            ],
            x_label="milliseconds (logarithmic)",
            y_label="% of answers",
            log_x=True,
        ),
        line_chart(
            title="Paid orders, mints and emails over time",
            series=[
                over_time("paid orders", "paid_orders"),
                over_time("minted", "minted"),
                over_time("emails", "emails"),
            ],
            x_label=since_opening,
            y_label="count",
        ),
    ]


def render_html(report: DemoReport) -> str:
    verdict_class = "kept" if report.exit_code == 0 else "broken"
    problems = "".join(
        f"<li><code>{html.escape(sample)}</code></li>"
        for sample in report.first_refusals + report.driver_errors
    )
    figures = "".join(f"<figure>{chart}</figure>" for chart in charts(report))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>onsale demo {html.escape(report.started_at)}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>onsale demo — {html.escape(report.event_name)}</h1>"
        f"<p>Run started {html.escape(report.started_at)}.</p>"
        f'<p class="verdict {verdict_class}">{html.escape(final_line(report.invariants))}</p>'
        f"<h2>The sale</h2>{rows_table(sale_rows(report))}"
        f"<h2>The presale, before the opening</h2>{rows_table(presale_rows(report.presale))}"
        f"<h2>Promises, checked in Postgres and Stripe</h2>{rows_table(promise_rows(report))}"
        f"<h2>Admission fairness</h2>{rows_table(fairness_rows(report.fairness))}"
        f"<h2>Money and what followed</h2>{rows_table(money_and_aftermath_rows(report))}"
        f"<h2>Latency by step</h2>{latency_table(report)}"
        "<h2>Pace and cost, from the opening to the sell-out</h2>"
        f"{rows_table(report_pace_rows(report))}"
        f"<h2>Over time</h2>{figures}"
        + (
            f"<h2>Refusals and errors, first of each kind</h2><ul>{problems}</ul>"
            if problems
            else ""
        )
        + "</body></html>\n"
    )


def write_html_report(report: DemoReport, data_directory: pathlib.Path) -> pathlib.Path:
    directory = data_directory / REPORTS_DIRECTORY
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.fromisoformat(report.started_at).strftime("%Y%m%d-%H%M%S")
    path = directory / f"demo-{stamp}.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path
