"""The venue dashboard's desk in headless Chromium, against the session's stack: an order found
by its buyer's email, its history and its confirmation sent again; seats blocked and a refused
control from the inventory controls; an export downloaded with the bearer token; the balance.

Set VENUE_DESK_SCREENSHOT to a path to keep a screenshot of the desk at the end (README's is
made with `VENUE_DESK_SCREENSHOT=docs/venue-desk.png`).
"""

import csv
import io
import os
import re

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.gateway.dashboard.test_venue_dashboard import (
    CHANGE_TIMEOUT_MS,
    expect_figures,
    open_dashboard,
)
from tests.gateway.desk_journeys import NamedFan, emails_once_there
from tests.gateway.http_journeys import VENUE_ROLES, create_event
from tests.gateway.stack import Stack

SCREENSHOT_VARIABLE = "VENUE_DESK_SCREENSHOT"
GENERAL_CAPACITY = 10
SEATS_PER_ROW = 4
A_MOMENT = re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2} [AP]M$")

pytestmark = pytest.mark.usefixtures("stack")


def dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}"


async def keep_desk_screenshot(page: Page, path: str) -> None:
    """The desk and the panels beside it, from the search to the exports."""
    await page.evaluate("window.scrollTo(0, 0)")
    top = await page.locator("#desk-panel").bounding_box()
    bottom = await page.locator("#exports-panel").bounding_box()
    assert top is not None and bottom is not None
    margin = 12
    clip = {
        "x": top["x"] - margin,
        "y": top["y"] - margin,
        "width": top["width"] + 2 * margin,
        "height": bottom["y"] + bottom["height"] - top["y"] + 2 * margin,
    }
    await page.screenshot(path=path, full_page=True, clip=clip)  # type: ignore[arg-type]


async def collect_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


async def test_desk_finds_an_order_by_email_shows_its_history_and_resends_its_confirmation(
    stack: Stack, browser_context: BrowserContext
) -> None:
    venue_token = stack.token(roles=VENUE_ROLES)
    event = await create_event(stack, venue_token, general_capacity=GENERAL_CAPACITY, seat_rows=0)
    buyer, other = NamedFan(stack, event, "Ada Lovelace"), NamedFan(stack, event, "Alan Turing")
    order = await buyer.purchase(2)
    await other.purchase(1)
    await emails_once_there(stack, buyer.email, 1)
    page = await browser_context.new_page()
    errors = await collect_errors(page)

    await open_dashboard(page, stack, venue_token)
    await page.get_by_label("Search").fill(buyer.email.lower())
    await page.get_by_role("button", name="Search", exact=True).click()
    rows = page.locator("#desk-rows tr")
    await expect(rows).to_have_count(1, timeout=CHANGE_TIMEOUT_MS)
    await expect(rows.locator("td")).to_have_text(
        [order["order_id"], buyer.email, "fulfilled", dollars(order["total_cents"]), A_MOMENT]
    )

    await rows.get_by_role("button", name=order["order_id"]).click()
    history = page.locator("#desk-history li strong")
    await expect(history.first).to_have_text("Order created", timeout=CHANGE_TIMEOUT_MS)
    await expect(page.locator("#desk-history li[data-kind='payment_succeeded']")).to_have_count(1)
    await page.get_by_role("button", name="Resend confirmation").click()

    await expect(page.locator("#desk-order-message")).to_have_text(
        f"Confirmation sent again to {buyer.email}.", timeout=CHANGE_TIMEOUT_MS
    )
    messages = await emails_once_there(stack, buyer.email, 2)
    assert len(messages) == 2
    resent = messages[1].get_payload(decode=True)
    assert isinstance(resent, bytes) and order["tickets"][0]["ticket_id"] in resent.decode()
    await page.close()
    assert errors == []


async def test_seats_are_blocked_a_refusal_is_shown_and_exports_download_with_the_token(
    stack: Stack, browser_context: BrowserContext
) -> None:
    venue_token = stack.token(roles=VENUE_ROLES)
    event = await create_event(
        stack,
        venue_token,
        general_capacity=GENERAL_CAPACITY,
        seat_rows=1,
        seats_per_row=SEATS_PER_ROW,
    )
    buyer = NamedFan(stack, event, "Grace Hopper")
    order = await buyer.purchase(2)
    page = await browser_context.new_page()
    errors = await collect_errors(page)

    await open_dashboard(page, stack, venue_token)
    await expect(page.locator("#balance-gross")).to_have_text("$100.00", timeout=CHANGE_TIMEOUT_MS)
    await expect(page.locator("#balance-net")).to_have_text("$100.00")
    await page.get_by_label("Seats").fill("101-A-1, 101-A-2")
    await page.get_by_role("button", name="Block seats", exact=True).click()

    await expect(page.locator("#stock-message")).to_have_text(
        "Seats blocked. RES: 0 sold · 0 held · 2 blocked · 2 available of 4 at $80.00",
        timeout=CHANGE_TIMEOUT_MS,
    )
    await expect_figures(page, blocked="2", available=str(GENERAL_CAPACITY - 2 + 2))
    await expect(page.locator("#seat-map figcaption")).to_contain_text(
        "2 of 4 available", timeout=CHANGE_TIMEOUT_MS
    )

    await page.get_by_label("Ticket type").select_option(label="GA · General Admission")
    await page.get_by_label("Quantity").fill(str(GENERAL_CAPACITY))
    await page.get_by_role("button", name="Withhold", exact=True).click()
    await expect(page.locator("#stock-message")).to_have_text(
        "Refused (SOLD_OUT): not enough available to withhold", timeout=CHANGE_TIMEOUT_MS
    )
    await expect_figures(page, blocked="2")

    async with page.expect_download() as started:
        await page.get_by_role("button", name="attendees.csv").click()
    download = await started.value
    assert download.suggested_filename == f"{event.event_id}-attendees.csv"
    saved = await download.path()
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert rows[0][:2] == ["ticket_id", "order_id"]
    assert sorted(row[0] for row in rows[1:]) == sorted(
        ticket["ticket_id"] for ticket in order["tickets"]
    )
    await expect(page.locator("#exports-message")).to_have_text(
        f"Saved {event.event_id}-attendees.csv."
    )

    screenshot = os.environ.get(SCREENSHOT_VARIABLE)
    if screenshot:
        await page.get_by_label("Search").fill(buyer.email)
        await page.get_by_role("button", name="Search", exact=True).click()
        await page.get_by_role("button", name=order["order_id"]).click()
        await expect(page.locator("#desk-history li").first).to_be_visible(
            timeout=CHANGE_TIMEOUT_MS
        )
        await keep_desk_screenshot(page, screenshot)
    await page.close()
    assert errors == []
