"""The demo's report: every figure of one run gathered in one `DemoReport`, printed on the
terminal and ending with the one line scripts read (`invariants.final_line`).

Figures about promises come from the system (`SystemFacts`); figures about experience (latency,
answers, outcomes) come from the driver. The HTML report (`html_report.py`) renders the same
`DemoReport`, so the two never disagree.
"""

import collections
import datetime
import math

import msgspec
from rich.console import Console
from rich.table import Table
from rich.text import Text

from loadtests.fairness import Fairness, measure_fairness
from loadtests.invariants import Invariants, TicketTypeSales, count_invariants, final_line
from loadtests.scenario import Scenario
from loadtests.system_facts import SystemFacts
from onsale.demo.cpu_use import SaleCpu
from onsale.demo.driver import SaleRun
from onsale.demo.pace_report import WaitListFigures, pace_rows
from onsale.demo.presale import VIP_KEY, PresaleFigures, members, presale_rows, vip_capacity
from onsale.demo.record import REPORTED_STEPS, DriverRecord
from onsale.demo.sale_watch import Sample
from onsale.demo.sold_out_notice import (
    SoldOutNotice,
    measure_sold_out_notice,
    room_waiting_after,
)
from onsale.demo.step_figures import StepFigures, latency_table, step_figures


class DemoReport(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    event_name: str
    started_at: str
    scenario: Scenario
    opens_in_s: float
    sale_s: float
    time_to_sell_out_s: float | None
    holds_acknowledged: int
    holds_per_s_average: float
    holds_per_s_peak: int
    steps: list[StepFigures]
    latencies_ms: dict[str, list[float]]
    requests: int
    server_errors: int
    first_refusals: list[str]
    driver_errors: list[str]
    error_codes: dict[str, int]
    outcomes: dict[str, int]
    tickets_bought: int
    fairness: Fairness
    invariants: Invariants
    ticket_types: list[TicketTypeSales]
    currency: str
    revenue_cents: int
    fees_cents: int
    charged_cents: int
    minted: int
    mints_pending: int
    mints_failed: int
    emails_sent: int
    emails_expected: int
    emails_failed: int
    email_files: int
    drain_waited_s: float
    drain_ended_by: str
    samples: list[Sample]
    hold_moments_s: list[float]
    cpu: SaleCpu
    sold_out_notice: SoldOutNotice | None
    wait_list: WaitListFigures
    presale: PresaleFigures

    @property
    def exit_code(self) -> int:
        return 0 if self.invariants.kept else 1


def format_cents(cents: int, currency: str) -> str:
    """Integer minor units as `USD 1,234.05`; negative amounts keep their sign in front."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}{currency} {whole:,}.{fraction:02d}"


def holds_per_second(moments_s: list[float]) -> tuple[float, int]:
    """The average rate from the first acknowledged hold to the last, and the busiest second."""
    if not moments_s:
        return 0.0, 0
    busiest = max(collections.Counter(math.floor(moment) for moment in moments_s).values())
    span_s = max(moments_s) - min(moments_s)
    average = len(moments_s) / span_s if span_s >= 1 else float(len(moments_s))
    return average, busiest


def promises_kept(record: DriverRecord, facts: SystemFacts) -> Invariants:
    """What the fans were told, checked against what the system stored and charged."""
    return count_invariants(
        ticket_types=facts.ticket_types,
        extra_tickets_on_seats=facts.extra_tickets_on_seats,
        acknowledged_hold_ids=set(record.acknowledged_hold_ids),
        stored_hold_ids=facts.stored_hold_ids,
        acknowledged_order_ids=record.acknowledged_order_ids,
        paid_order_ids=record.paid_order_ids,
        stored_orders=facts.stored_orders,
        charges=facts.charges,
    )


def sold_out_notice_of(run: SaleRun, sold_out_at: datetime.datetime | None) -> SoldOutNotice | None:
    """How soon the fans still waiting heard of the sell-out at `sold_out_at` (None: it did not
    sell out)."""
    return measure_sold_out_notice(
        run.record.told_sold_out_at_s,
        never_told=run.record.stopped_while_waiting,
        sold_out_at=sold_out_at,
        room_waiting_after_bound=room_waiting_after(
            [(sample.at_s, sample.waiting + sample.pre_queue) for sample in run.samples],
            run.sold_out_seen_at_s,
        ),
    )


def build_report(run: SaleRun, facts: SystemFacts, *, email_files: int) -> DemoReport:
    record = run.record
    invariants = promises_kept(record, facts)
    sale = facts.sale
    time_to_sell_out_s = None
    if invariants.sold_out and sale.last_paid_at is not None:
        time_to_sell_out_s = (sale.last_paid_at - sale.opens_at).total_seconds()
    average, peak = holds_per_second(record.hold_acknowledged_at_s)
    backlog = run.drain.backlog
    return DemoReport(
        event_id=run.event.event_id,
        event_name=run.event.name,
        started_at=run.started_at_wall.isoformat(timespec="seconds"),
        scenario=run.scenario,
        opens_in_s=run.event.opens_in_s,
        sale_s=run.sale_s,
        time_to_sell_out_s=time_to_sell_out_s,
        holds_acknowledged=len(record.acknowledged_hold_ids),
        holds_per_s_average=average,
        holds_per_s_peak=peak,
        steps=step_figures(record),
        latencies_ms={str(step): record.latencies_ms[step] for step in REPORTED_STEPS},
        requests=record.count_answers(),
        server_errors=record.count_answers(server_errors=True),
        first_refusals=[f"{kind}: {excerpt}" for kind, excerpt in record.first_refusals.items()],
        driver_errors=run.driver_errors,
        error_codes={f"{step} {code}": n for (step, code), n in record.error_codes.items()},
        outcomes={str(outcome): n for outcome, n in record.outcomes.most_common()},
        tickets_bought=record.tickets_bought,
        fairness=measure_fairness(facts.admissions),
        invariants=invariants,
        ticket_types=facts.ticket_types,
        currency=sale.currency,
        revenue_cents=sale.revenue_cents,
        fees_cents=sale.fees_cents,
        charged_cents=sum(
            charge.captured_cents - charge.refunded_cents
            for charge in facts.charges
            if charge.succeeded
        ),
        minted=backlog.minted,
        mints_pending=backlog.mints_pending,
        mints_failed=backlog.mints_failed,
        emails_sent=backlog.emails_sent,
        emails_expected=backlog.emails_expected,
        emails_failed=backlog.emails_failed,
        email_files=email_files,
        drain_waited_s=run.drain.waited_s,
        drain_ended_by=run.drain.ended_by,
        samples=run.samples,
        hold_moments_s=record.hold_acknowledged_at_s,
        cpu=run.cpu,
        sold_out_notice=sold_out_notice_of(run, sale.last_paid_at if invariants.sold_out else None),
        wait_list=WaitListFigures(
            joins=record.wait_list_joins,
            offers=record.wait_list_offers,
            conversions=record.wait_list_conversions,
        ),
        presale=presale_figures(run, facts),
    )


def presale_figures(run: SaleRun, facts: SystemFacts) -> PresaleFigures:
    uses = run.presale_code_uses
    return PresaleFigures(
        members=members(run.scenario),
        vip_capacity=vip_capacity(run.scenario),
        members_queued=run.record.presale.members_queued,
        members_admitted_early=run.record.presale.members_admitted_early,
        vip_sold=sum(row.sold_quantity for row in facts.ticket_types if row.key == VIP_KEY),
        code_uses=None if uses is None else uses[0],
        code_held=None if uses is None else uses[1],
    )


def correlation_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.3f}"


def share_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def figure_table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left", min_width=60)
    table.add_column("figure", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in rows:
        table.add_row(name, Text(value))
    return table


def sale_rows(report: DemoReport) -> list[tuple[str, str]]:
    scenario = report.scenario
    sell_out = (
        "did not sell out"
        if report.time_to_sell_out_s is None
        else f"{report.time_to_sell_out_s:,.1f} s after the sale opened"
    )
    return [
        ("event", f"{report.event_name} ({report.event_id})"),
        (
            "scenario",
            f"{scenario.fans:,} fans for {scenario.seats:,} seats + {scenario.general:,} general "
            f"admission; admit {scenario.admit_per_second}/s, at most "
            f"{scenario.max_active_shoppers:,} shoppers; {scenario.decline_share:.0%} decline, "
            f"{scenario.abandon_share:.0%} abandon",
        ),
        ("time to sell out", sell_out),
        ("sale ran", f"{report.sale_s:,.1f} s from creation to the last fan leaving"),
        (
            "holds",
            f"{report.holds_acknowledged:,} acknowledged, {report.holds_per_s_average:,.1f}/s "
            f"on average, {report.holds_per_s_peak:,} in the busiest second",
        ),
        ("tickets bought", f"{report.tickets_bought:,} as the fans were told"),
        ("fans", ", ".join(f"{n:,} {outcome}" for outcome, n in report.outcomes.items())),
        (
            "requests",
            f"{report.requests:,}; {report.server_errors:,} answered 5xx or not at all",
        ),
    ]


def fairness_rows(fairness: Fairness) -> list[tuple[str, str]]:
    return [
        (
            "presale line",
            f"{fairness.presale_admitted:,} fans admitted with the presale code, in their own "
            "line before the opening (not counted below)",
        ),
        (
            "pre-queue draw",
            f"rank correlation {correlation_text(fairness.pre_queue_rank_correlation)} between "
            f"arrival and admission over {fairness.pre_queued_admitted:,} admitted fans "
            "(a fair draw is near 0)",
        ),
        (
            "first come, first served",
            f"rank correlation {correlation_text(fairness.later_rank_correlation)} over "
            f"{fairness.later_admitted:,} fans who joined after the opening (near 1 is FIFO); "
            f"{share_text(fairness.later_overtaken_share)} admitted after someone who "
            "arrived after them",
        ),
    ]


def promise_rows(report: DemoReport) -> list[tuple[str, str]]:
    invariants = report.invariants
    return [
        (
            "sold",
            f"{invariants.sold:,} of {invariants.capacity:,}: "
            + ", ".join(
                f"{sales.key} {sales.live_tickets:,} of {sales.capacity:,}"
                for sales in report.ticket_types
            ),
        ),
        ("oversold", f"{invariants.oversold:,} units beyond capacity or sharing a seat"),
        (
            "lost",
            f"{invariants.lost:,}: {invariants.lost_holds:,} holds, "
            f"{invariants.lost_orders:,} orders, {invariants.lost_payments:,} payments",
        ),
        ("double charged", f"{invariants.double_charged:,} orders"),
        ("charged without a sale", f"{invariants.charged_without_sale:,} orders"),
    ]


def money_and_aftermath_rows(report: DemoReport) -> list[tuple[str, str]]:
    return [
        ("revenue", f"{format_cents(report.revenue_cents, report.currency)} face value"),
        ("fees", format_cents(report.fees_cents, report.currency)),
        ("charged at Stripe", format_cents(report.charged_cents, report.currency)),
        (
            "mints",
            f"{report.minted:,} minted, {report.mints_pending:,} pending, "
            f"{report.mints_failed:,} failed",
        ),
        (
            "emails",
            f"{report.emails_sent:,} sent of {report.emails_expected:,} notices, "
            f"{report.emails_failed:,} failed; {report.email_files:,} messages in the mail sink",
        ),
        (
            "backlogs",
            f"{report.drain_ended_by} after waiting {report.drain_waited_s:,.0f} s",
        ),
    ]


def report_pace_rows(report: DemoReport) -> list[tuple[str, str]]:
    return pace_rows(
        report.cpu, report.holds_acknowledged, report.sold_out_notice, report.wait_list
    )


def print_report(console: Console, report: DemoReport, html_path: str) -> None:
    """Every table, the problems seen, where the HTML report is, then the final line last."""
    console.rule("onsale demo: report")
    console.print(figure_table("the sale", sale_rows(report)))
    console.print(figure_table("the presale, before the opening", presale_rows(report.presale)))
    console.print(latency_table(report.steps))
    pace = report_pace_rows(report)
    console.print(figure_table("pace and cost, from the opening to the sell-out", pace))
    console.print(figure_table("admission fairness", fairness_rows(report.fairness)))
    console.print(figure_table("money and what followed", money_and_aftermath_rows(report)))
    console.print(figure_table("promises, checked in Postgres and Stripe", promise_rows(report)))
    for refusal in report.first_refusals:
        console.print(f"first answer of its kind: {refusal}", highlight=False, markup=False)
    for error in report.driver_errors:
        console.print(f"driver error: {error}", highlight=False, markup=False)
    if report.exit_code:
        console.print("[red]the run failed: a promise was broken or the event did not sell out")
    console.print(f"HTML report: {html_path}", highlight=False, soft_wrap=True)
    console.print(final_line(report.invariants), highlight=False, markup=False, soft_wrap=True)
