"""The venue's CSV exports and its balance over real HTTP, on one event with a paid order, a
refunded one and a scan: a row per order, ticket, scan and ledger entry under a header, cells
escaped and never formulas, amounts to the cent, and the venue's roles and tenant fence."""

import csv
import io
import uuid
from typing import Any

import httpx
import pytest

from gateway.auth import Role
from tests.gateway.http_journeys import CREATED_EVENT_IDS, CreatedEvent, Fan, purchase_resent
from tests.gateway.stack import Stack, event_body
from tests.gateway.ticket_journeys import Venue, code_of

# A ticket type name a spreadsheet would run as a formula, with a comma and quotes to escape.
FORMULA_NAME = '=HYPERLINK("http://example.com"),"VIP"'
PRICE_CENTS = 5_000
FEES_PER_TICKET_CENTS = 520  # 10.4 % of 50.00


class SoldEvent:
    """An event with a paid order of two tickets, a refunded order of one, and one scan."""

    def __init__(self, venue: Venue, event: CreatedEvent) -> None:
        self.venue = venue
        self.event = event
        self.paid: dict[str, Any] = {}
        self.refunded: dict[str, Any] = {}


@pytest.fixture(scope="module")
async def sold(stack: Stack) -> SoldEvent:
    venue = Venue(stack)
    body = event_body(general_capacity=20, seat_rows=0)
    body["ticket_types"][0]["name"] = FORMULA_NAME
    async with stack.client(venue.manager_token) as manager:
        created = await manager.post("/v1/venue/events", json=body)
    assert created.status_code == 201, created.text
    CREATED_EVENT_IDS.append(created.json()["event_id"])
    event = CreatedEvent(stack, venue.manager_token, created.json())
    sold = SoldEvent(venue, event)
    buyer, refunded_buyer = Fan(stack, event), Fan(stack, event)
    sold.paid = await purchase_resent(buyer, 2)
    refunded = await purchase_resent(refunded_buyer, 1)
    async with event.venue() as manager:
        answer = await manager.post(
            f"/v1/orders/{refunded['order_id']}/refund", json={"reason": "cannot come"}
        )
    assert answer.status_code == 200 and answer.json()["status"] == "refunded", answer.text
    sold.refunded = answer.json()
    scanned = await venue.scan(event, await code_of(buyer, sold.paid["tickets"][0]["ticket_id"]))
    assert scanned.json()["result"] == "admitted", scanned.text
    return sold


async def export(client: httpx.AsyncClient, event: CreatedEvent, kind: str) -> httpx.Response:
    return await client.get(f"/v1/venue/events/{event.event_id}/exports/{kind}.csv")


def rows_of(answer: httpx.Response) -> list[dict[str, str]]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8"))))


async def test_attendees_export_has_a_header_and_a_row_per_ticket_with_formulas_defused(
    stack: Stack, sold: SoldEvent
) -> None:
    async with sold.event.venue() as manager:
        answer = await export(manager, sold.event, "attendees")

    header = answer.content.decode().split("\r\n", 1)[0]
    rows = rows_of(answer)

    assert header == (
        "ticket_id,order_id,ticket_type,ticket_type_name,seat,holder_user_id,buyer_email,"
        "status,issued_at,checked_in_at"
    )
    tickets = [*sold.paid["tickets"], *sold.refunded["tickets"]]
    assert sorted(row["ticket_id"] for row in rows) == sorted(t["ticket_id"] for t in tickets)
    assert {row["ticket_type_name"] for row in rows} == {"'" + FORMULA_NAME}
    statuses = {row["ticket_id"]: row["status"] for row in rows}
    assert statuses[sold.refunded["tickets"][0]["ticket_id"]] == "refunded"
    assert statuses[sold.paid["tickets"][0]["ticket_id"]] == "checked_in"
    assert '"\'=HYPERLINK(""http://example.com""),""VIP"""' in answer.text


async def test_orders_scans_and_ledger_exports_have_a_row_per_order_scan_and_entry(
    stack: Stack, sold: SoldEvent
) -> None:
    async with sold.event.venue() as manager:
        orders = rows_of(await export(manager, sold.event, "orders"))
        scans = rows_of(await export(manager, sold.event, "scans"))
        ledger = rows_of(await export(manager, sold.event, "ledger"))

    by_order = {row["order_id"]: row for row in orders}
    assert set(by_order) == {sold.paid["order_id"], sold.refunded["order_id"]}
    assert by_order[sold.paid["order_id"]]["tickets"] == "2"
    assert by_order[sold.paid["order_id"]]["subtotal_cents"] == str(2 * PRICE_CENTS)
    assert by_order[sold.refunded["order_id"]]["status"] == "refunded"
    assert [(row["ticket_id"], row["result"]) for row in scans] == [
        (sold.paid["tickets"][0]["ticket_id"], "admitted")
    ]
    assert len(ledger) == 12  # four accounts for each sale, and the refund's reversal
    signed = sum(
        int(row["amount_cents"]) * (1 if row["direction"] == "debit" else -1) for row in ledger
    )
    assert signed == 0
    assert {row["order_id"] for row in ledger} == set(by_order)


async def test_balance_shows_gross_refunds_net_and_fees_to_the_cent(
    stack: Stack, sold: SoldEvent
) -> None:
    async with sold.event.venue() as manager:
        one = await manager.get("/v1/venue/balance", params={"event_id": sold.event.event_id})
        every = await manager.get("/v1/venue/balance")

    assert one.status_code == 200, one.text
    assert one.json() == {
        "currency": "USD",
        "events": [
            {
                "event_id": sold.event.event_id,
                "currency": "USD",
                "gross_cents": 3 * PRICE_CENTS,
                "refunds_cents": PRICE_CENTS,
                "net_cents": 2 * PRICE_CENTS,
                "fees_cents": 2 * FEES_PER_TICKET_CENTS,
            }
        ],
    }
    assert every.json()["events"] == one.json()["events"]


async def test_exports_and_balance_are_the_venue_managers_and_admins_of_the_tenant_only(
    stack: Stack, sold: SoldEvent
) -> None:
    tenant_id = sold.venue.tenant_id
    admin = stack.token(tenant_id=tenant_id, roles=(Role.ADMIN,))
    other_manager = Venue(stack).manager_token
    path = f"/v1/venue/events/{sold.event.event_id}/exports"
    answers: dict[str, httpx.Response] = {}
    async with stack.client(admin) as client:
        answers["admin"] = await client.get(f"{path}/scans.csv")
        answers["unknown kind"] = await client.get(f"{path}/payouts.csv")
        answers["unknown event"] = await client.get(
            f"/v1/venue/events/{uuid.uuid4()}/exports/orders.csv"
        )
        answers["malformed"] = await client.get("/v1/venue/balance", params={"event_id": "x"})
    async with stack.client(other_manager) as client:
        answers["other tenant"] = await client.get(f"{path}/orders.csv")
        answers["other balance"] = await client.get(
            "/v1/venue/balance", params={"event_id": sold.event.event_id}
        )
        answers["own balance"] = await client.get("/v1/venue/balance")
    async with stack.client(sold.venue.staff_token) as client:
        answers["staff"] = await client.get(f"{path}/orders.csv")
        answers["staff balance"] = await client.get("/v1/venue/balance")
    async with stack.client(stack.token(tenant_id=tenant_id)) as client:
        answers["fan"] = await client.get(f"{path}/orders.csv")

    assert len(rows_of(answers["admin"])) == 1
    for name in ("unknown kind", "unknown event", "other tenant", "other balance"):
        assert answers[name].status_code == 404, name
        assert answers[name].json()["error"]["code"] == "NOT_FOUND", name
    assert answers["malformed"].status_code == 422
    assert answers["own balance"].json() == {"currency": None, "events": []}
    for name in ("staff", "staff balance", "fan"):
        assert answers[name].status_code == 403, name
        assert answers[name].json()["error"]["code"] == "FORBIDDEN", name
