"""The demo's driver end to end at a tiny size against the running HTTP stack: fans queue, hold,
pay or decline, the event sells out, and the system's own records keep every promise."""

import asyncio
import io

import pytest
from rich.console import Console

from gateway.auth import Role
from loadtests.fairness import measure_fairness
from loadtests.invariants import count_invariants, final_line
from loadtests.running_system import sign
from loadtests.scenario import Scenario, plan_fans
from loadtests.system_facts import read_system_facts
from onsale.demo.driver import VENUE_USER_ID, fan_id_of, run_sale
from onsale.demo.presale import members, vip_capacity
from onsale.demo.progress import Progress
from onsale.demo.record import DriverRecord, Outcome
from tests.gateway.http_journeys import CREATED_EVENT_IDS
from tests.gateway.stack import Stack

pytestmark = pytest.mark.slow

TINY = Scenario(
    fans=40,
    seats=24,
    general=8,
    admit_per_second=40,
    max_active_shoppers=40,
    decline_share=0.1,
    abandon_share=0.0,
    opens_in_s=1.0,
    arrival_s=2.0,
    sale_timeout_s=90.0,
    drain_timeout_s=1.0,
)
# The seats, general admission and the presale's VIP tickets.
TICKETS = TINY.seats + TINY.general + vip_capacity(TINY)


async def shoppers_once_settled(stack: Stack, event_id: str, expected: int) -> int:
    """The admitted fans the venue's stats count, read until they reach `expected` or 60 s pass.

    Confirmations end access through the outbox, a moment after the sale; the dispatcher's rounds
    also carry the session's other tenants' messages, whose deliveries may take that moment longer.
    """
    token = sign(stack.parts, VENUE_USER_ID, Role.VENUE_MANAGER, ttl_s=600)
    async with stack.client(token) as client:
        for _ in range(120):
            stats = (await client.get(f"/v1/venue/events/{event_id}/stats")).json()
            if stats["queue"]["admitted"] == expected:
                break
            await asyncio.sleep(0.5)
    return stats["queue"]["admitted"]


async def test_a_tiny_on_sale_sells_out_and_keeps_every_promise(stack: Stack) -> None:
    record = DriverRecord()
    output = io.StringIO()

    with Progress(Console(file=output), record, fans=TINY.fans) as progress:
        run = await run_sale(
            stack.parts, TINY, record=record, progress=progress, mail_directory=None
        )
    CREATED_EVENT_IDS.append(run.event.event_id)
    facts = await read_system_facts(
        database_url=stack.parts.database_url,
        stripe_api_key=stack.parts.stripe_api_key,
        stripe_api_base=stack.parts.stripe_api_base,
        event_id=run.event.event_id,
        acknowledged_hold_ids=record.acknowledged_hold_ids,
        arrival_of_fan={fan_id_of(plan.user_id): plan.number for plan in plan_fans(TINY)},
    )

    invariants = count_invariants(
        ticket_types=facts.ticket_types,
        extra_tickets_on_seats=facts.extra_tickets_on_seats,
        acknowledged_hold_ids=set(record.acknowledged_hold_ids),
        stored_hold_ids=facts.stored_hold_ids,
        acknowledged_order_ids=record.acknowledged_order_ids,
        paid_order_ids=record.paid_order_ids,
        stored_orders=facts.stored_orders,
        charges=facts.charges,
    )
    assert final_line(invariants) == (
        f"oversold=0 lost=0 double_charged=0 sold={TICKETS} capacity={TICKETS}"
    )
    assert run.sold_out_seen_at_s is not None
    assert record.outcomes[Outcome.BOUGHT] == len(record.paid_order_ids) > 0
    assert record.outcomes[Outcome.FAILED] == 0 and run.driver_errors == []
    assert record.tickets_bought == TICKETS
    assert record.presale.members_queued == members(TINY) > 0
    assert run.presale_code_uses == (members(TINY), 0), "each member's VIP hold is one paid use"
    assert record.count_answers(server_errors=True) == 0, record.first_refusals
    assert len([charge for charge in facts.charges if charge.succeeded]) == len(
        record.paid_order_ids
    )
    fairness = measure_fairness(facts.admissions)
    # A fan still waiting when the event sells out stops polling, so the system may have admitted
    # fans that never learned of it; it never admits one that did not join.
    admitted_by_system = (
        fairness.presale_admitted + fairness.pre_queued_admitted + fairness.later_admitted
    )
    assert record.fans_admitted <= admitted_by_system <= record.fans_arrived
    # Each buyer's confirmation ends their access, so only the fans who did not buy still shop.
    shopping = await shoppers_once_settled(
        stack, run.event.event_id, admitted_by_system - len(record.paid_order_ids)
    )
    assert shopping == admitted_by_system - len(record.paid_order_ids)
    assert run.drain.backlog.mints_pending + run.drain.backlog.minted == TICKETS
    assert "selling" in output.getvalue()
