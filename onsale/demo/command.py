"""`onsale demo` from start to end: booting the system, the sale, the checks against
Postgres and Stripe, stopping the system, and the report, whose last line is the verdict.

The system is stopped before the report is printed, so nothing it prints can follow the final
line; a run that cannot stop the system cleanly fails even when its sale passed.
"""

import argparse
import logging
import time

import uvloop
from rich.console import Console

from gateway.parts import Parts
from gateway.settings import Settings
from loadtests.scenario import Scenario, plan_fans
from loadtests.system_facts import read_system_facts
from onsale.demo.child_system import ChildSystem, SystemDidNotStart
from onsale.demo.driver import EventCreationFailed, fan_id_of, run_sale
from onsale.demo.flags import scenario_from
from onsale.demo.html_report import write_html_report
from onsale.demo.mailbox import Mailbox
from onsale.demo.progress import Progress
from onsale.demo.record import DriverRecord
from onsale.demo.report import DemoReport, build_report, print_report

SCENARIO_EXIT_CODE = 2
MAIL_DIRECTORY = "mail"
# Their request logs would run through the live view: one line per call to Stripe.
QUIETED_LOGGERS = ("stripe", "httpx")


async def run_demo(
    console: Console, parts: Parts, scenario: Scenario, settings: Settings, system_pid: int | None
) -> tuple[DemoReport, str]:
    """Drive the sale, check it in the system, write the HTML report: the report and its path."""
    record = DriverRecord()
    mail_directory = settings.data_path / MAIL_DIRECTORY if "smtp" in parts.embedded else None
    since_ns = time.time_ns()
    with Progress(console, record, fans=scenario.fans) as progress:
        run = await run_sale(
            parts,
            scenario,
            record=record,
            progress=progress,
            mail_directory=mail_directory,
            system_pid=system_pid,
        )
        progress.set_phase("checking Postgres and Stripe")
        facts = await read_system_facts(
            database_url=parts.database_url,
            stripe_api_key=parts.stripe_api_key,
            stripe_api_base=parts.stripe_api_base,
            event_id=run.event.event_id,
            acknowledged_hold_ids=record.acknowledged_hold_ids,
            arrival_of_fan={fan_id_of(plan.user_id): plan.number for plan in plan_fans(scenario)},
        )
    email_files = Mailbox(mail_directory, since_ns=since_ns).count()
    report = build_report(run, facts, email_files=email_files)
    return report, str(write_html_report(report, settings.data_path))


def demo(console: Console, settings: Settings, arguments: argparse.Namespace) -> int:
    try:
        scenario = scenario_from(arguments)
    except ValueError as error:
        console.print(f"onsale: demo refused: {error}", markup=False, highlight=False)
        return SCENARIO_EXIT_CODE
    for name in QUIETED_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    system = ChildSystem(settings)
    console.rule("onsale demo: booting the embedded system")
    console.print(f"logs of onsale up: {system.log_path}", highlight=False, soft_wrap=True)
    try:
        parts, ready_s, checks = system.start()
    except SystemDidNotStart as error:
        console.print("[red]the system did not start:[/red]")
        console.print(str(error), markup=False, highlight=False)
        return 1
    console.print(f"ready in {ready_s:.1f} s; checks: {checks}", highlight=False)
    console.print(f"embedded parts: {', '.join(parts.embedded) or 'none'}", highlight=False)
    console.rule("onsale demo: the sale")
    try:
        outcome = uvloop.run(run_demo(console, parts, scenario, settings, system.pid))
    except (EventCreationFailed, OSError, TimeoutError) as error:
        console.print("[red]the demo could not run:[/red]")
        console.print(str(error), markup=False, highlight=False)
        outcome = None
    finally:
        console.rule("onsale demo: shutting down")
        exit_status = system.stop()
    stopped_cleanly = exit_status == 0
    if stopped_cleanly:
        console.print("stopped cleanly: every part shut down")
    else:
        console.print(f"[red]onsale up did not stop cleanly (exit status {exit_status})[/red]")
    if outcome is None:
        return 1
    report, html_path = outcome
    print_report(console, report, html_path)
    return report.exit_code if stopped_cleanly else 1
