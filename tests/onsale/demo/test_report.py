"""The report of a run: built from what the driver saw and what the system recorded, printed
with the final line last, and written as a self-contained HTML page with its plots."""

import datetime
import io
import pathlib
import re

import msgspec
from rich.console import Console

from loadtests.fairness import Admission
from loadtests.invariants import OrderCharge, StoredOrder, TicketTypeSales
from loadtests.scenario import Scenario
from loadtests.system_facts import SaleFigures, SystemFacts
from onsale.demo.backlogs import Backlog, DrainResult
from onsale.demo.cpu_use import PartCpu, SaleCpu
from onsale.demo.driver import CreatedEvent, SaleRun
from onsale.demo.html_report import cumulative_share, render_html, write_html_report
from onsale.demo.record import DriverRecord, Outcome, Step
from onsale.demo.report import build_report, format_cents, holds_per_second, print_report
from onsale.demo.sale_watch import Sample

OPENS_AT = datetime.datetime(2030, 5, 1, 18, 0, tzinfo=datetime.UTC)


def sample(at_s: float, sold: int) -> Sample:
    return Sample(
        at_s=at_s,
        capacity=10,
        sold=sold,
        held=10 - sold,
        available=0,
        waiting=5,
        pre_queue=0,
        admitted=3,
        paid_orders=sold // 2,
        failed_orders=0,
        minted=0,
        mints_pending=sold,
        emails=0,
    )


def sold_out_run_and_facts(*, extra_charge: bool = False) -> tuple[SaleRun, SystemFacts]:
    record = DriverRecord()
    for index, latency in enumerate((12.0, 30.0, 45.0)):
        record.note_answer(Step.HOLD, 201, latency, None, "")
        record.note_hold(f"hold-{index}", at_s=3.0 + index * 0.4)
    record.note_answer(Step.HOLD, 409, 8.0, "SOLD_OUT", "")
    record.note_answer(Step.PAY, 200, 90.0, None, "")
    record.note_order("order-1", paid=True)
    record.note_outcome(Outcome.BOUGHT)
    record.note_outcome(Outcome.LEFT_SOLD_OUT)
    record.tickets_bought = 10
    sold_out_s = (OPENS_AT + datetime.timedelta(seconds=41.5)).timestamp()
    record.told_sold_out_at_s = [sold_out_s + 0.5, sold_out_s + 3.0]
    record.stopped_while_waiting = 1
    record.presale.members_queued = 1
    record.presale.members_admitted_early = 1
    run = SaleRun(
        scenario=Scenario(fans=2, seats=6, general=4),
        event=CreatedEvent(
            event_id="e1", name="Night <One>", ticket_type_ids={"GA": "g", "RES": "r"}, opens_in_s=2
        ),
        record=record,
        samples=[sample(1.0, 0), sample(2.0, 4), sample(3.0, 10)],
        sale_s=9.5,
        sold_out_seen_at_s=3.0,
        drain=DrainResult(
            backlog=Backlog(
                mints_pending=10,
                minted=0,
                mints_failed=0,
                emails_expected=1,
                emails_sent=0,
                emails_failed=0,
            ),
            waited_s=30.0,
            ended_by="stalled",
        ),
        driver_errors=[],
        started_at_wall=OPENS_AT - datetime.timedelta(seconds=2),
        cpu=SaleCpu(
            window_s=40.0,
            requests=4_000,
            parts=[
                PartCpu(part="gateway", cpu_s=30.0, share_of_machine=0.375),
                PartCpu(part="driver", cpu_s=2.0, share_of_machine=0.025),
            ],
        ),
        presale_code_uses=(1, 0),
    )
    charges = [
        OrderCharge(
            order_id="order-1",
            payment_intent_id="pi_1",
            succeeded=True,
            captured_cents=70_400,
            refunded_cents=0,
        )
    ]
    if extra_charge:
        charges.append(msgspec.structs.replace(charges[0], payment_intent_id="pi_2"))
    facts = SystemFacts(
        ticket_types=[
            TicketTypeSales(key="GA", capacity=4, sold_quantity=4, live_tickets=4),
            TicketTypeSales(key="RES", capacity=6, sold_quantity=6, live_tickets=6),
        ],
        extra_tickets_on_seats=0,
        stored_hold_ids={"hold-0", "hold-1", "hold-2"},
        stored_orders={"order-1": StoredOrder(status="fulfilled", total_cents=70_400)},
        charges=charges,
        admissions=[
            Admission(arrival=0, pre_queued=False, admitted_at_ms=100),
            Admission(arrival=1, pre_queued=False, admitted_at_ms=200),
        ],
        sale=SaleFigures(
            opens_at=OPENS_AT,
            last_paid_at=OPENS_AT + datetime.timedelta(seconds=41.5),
            revenue_cents=68_000,
            fees_cents=2_400,
            currency="USD",
        ),
    )
    return run, facts


def printed(report_lines: str) -> list[str]:
    return [line for line in report_lines.splitlines() if line.strip()]


def test_money_is_written_from_integer_cents() -> None:
    assert format_cents(68_000, "USD") == "USD 680.00"
    assert format_cents(123_456_705, "EUR") == "EUR 1,234,567.05"
    assert format_cents(-5, "USD") == "-USD 0.05"


def test_holds_per_second_are_the_average_over_the_sale_and_the_busiest_second() -> None:
    assert holds_per_second([]) == (0.0, 0)
    assert holds_per_second([1.1, 1.2, 1.9, 3.5, 4.0]) == (5 / 2.9, 3)


def test_a_kept_run_reports_its_figures_and_ends_with_the_final_line() -> None:
    run, facts = sold_out_run_and_facts()
    report = build_report(run, facts, email_files=0)
    output = io.StringIO()

    print_report(Console(file=output, width=200), report, "/data/reports/demo.html")

    lines = printed(output.getvalue())
    assert lines[-1] == "oversold=0 lost=0 double_charged=0 sold=10 capacity=10"
    assert report.exit_code == 0
    assert report.time_to_sell_out_s == 41.5
    text = output.getvalue()
    assert "USD 680.00" in text and "/data/reports/demo.html" in text
    assert re.search(r"hold\s+│\s+4", text), "the hold step reports its four answers"
    assert re.search(r"driver CPU per request\s+│\s+0\.50 ms \(4,000 requests", text)
    assert re.search(r"CPU: gateway\s+│\s+30\.0 s, 38% of the machine", text)
    assert report.sold_out_notice is not None
    assert (report.sold_out_notice.told, report.sold_out_notice.max_s) == (2, 3.0)
    assert re.search(r"still waiting 2 s after the sell-out\s+│\s+2 fans", text)
    assert re.search(r"1 queued with FANCLUB, 1 admitted before the opening", text)
    assert re.search(r"VIP \(hidden, unlocked by the code\)\s+│\s+0 of 1 sold", text)
    assert re.search(r"FANCLUB uses \(one hold each\)\s+│\s+1 paid, 0 in live holds", text)


def test_a_double_charge_fails_the_run_and_shows_in_the_final_line() -> None:
    run, facts = sold_out_run_and_facts(extra_charge=True)
    report = build_report(run, facts, email_files=0)
    output = io.StringIO()

    print_report(Console(file=output, width=200), report, "/data/reports/demo.html")

    assert report.exit_code == 1
    assert printed(output.getvalue())[-1].startswith("oversold=0 lost=0 double_charged=1 ")


def test_the_html_report_is_self_contained_with_its_plots(tmp_path: pathlib.Path) -> None:
    run, facts = sold_out_run_and_facts()
    report = build_report(run, facts, email_files=0)

    path = write_html_report(report, tmp_path)

    assert path.parent == tmp_path / "reports" and path.name.startswith("demo-")
    page = path.read_text()
    assert page == render_html(report)
    assert page.count("<svg") == 5 and page.count("<polyline") >= 5
    assert "Night &lt;One&gt;" in page
    assert "oversold=0 lost=0 double_charged=0 sold=10 capacity=10" in page
    assert not re.search(r"(src|href)=", page), "nothing is loaded from elsewhere"


def test_the_latency_distribution_ends_at_every_answer() -> None:
    points = cumulative_share([float(value) for value in range(1, 1_001)])

    assert len(points) == 200
    assert points[-1] == (1_000.0, 100.0)
    assert [share for _, share in points] == sorted(share for _, share in points)
