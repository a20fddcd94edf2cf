"""The venue dashboard in headless Chromium, during a small sale run through the HTTP API against
the session's stack: the page follows the sale live, its controls pace, pause and resume it, and
it lists the work that keeps failing and retries it.

Set VENUE_DASHBOARD_SCREENSHOT to a path to keep a screenshot of the page at the end of the sale
(README's is made with `VENUE_DASHBOARD_SCREENSHOT=docs/venue-dashboard.png`).
"""

import asyncio
import os
import uuid
from typing import Any

import asyncpg
import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.gateway.chain_outage import chain_down, mint_out_of_quick_retries
from tests.gateway.dashboard.fans import queue_up
from tests.gateway.http_journeys import (
    VENUE_ROLES,
    CreatedEvent,
    Fan,
    create_event,
    error_code,
    general_items,
)
from tests.gateway.stack import Stack

SCREENSHOT_VARIABLE = "VENUE_DASHBOARD_SCREENSHOT"
CHANGE_TIMEOUT_MS = 20_000
GENERAL_CAPACITY = 100
SEAT_ROWS = 2
SEATS_PER_ROW = 12
SLOW_ADMISSION_PER_S = 2
FAST_ADMISSION_PER_S = 60
NO_UNLOCKS = "\u2013"

pytestmark = pytest.mark.usefixtures("stack")


def best_available(event: CreatedEvent, quantity: int) -> dict[str, Any]:
    return {"best_available": {"ticket_type_id": event.reserved, "quantity": quantity}}


async def expect_figures(page: Page, **figures: str) -> None:
    for name, text in figures.items():
        await expect(page.locator(f"#figure-{name.replace('_', '-')}")).to_have_text(
            text, timeout=CHANGE_TIMEOUT_MS
        )


async def expect_count(page: Page, table: str, key: str, text: str) -> None:
    cell = page.locator(f"#{table} tr[data-key='{key}'] td")
    await expect(cell).to_have_text(text, timeout=CHANGE_TIMEOUT_MS)


async def expect_control_message(page: Page, text: str) -> None:
    await expect(page.locator("#control-message")).to_have_text(text, timeout=CHANGE_TIMEOUT_MS)


async def expect_status(page: Page, text: str) -> None:
    await expect(page.locator("#event-status")).to_have_text(text, timeout=CHANGE_TIMEOUT_MS)


async def open_dashboard(page: Page, stack: Stack, token: str) -> None:
    await page.goto(f"{stack.base_url}/venue")
    await page.get_by_label("Venue token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("link", name="Night One").click()


async def test_dashboard_follows_a_sale_live_and_its_controls_pace_pause_and_resume_it(
    stack: Stack, browser_context: BrowserContext
) -> None:
    venue_token = stack.token(roles=VENUE_ROLES)
    event = await create_event(
        stack,
        venue_token,
        general_capacity=GENERAL_CAPACITY,
        seat_rows=SEAT_ROWS,
        seats_per_row=SEATS_PER_ROW,
        waiting_room={
            "enabled": True,
            "admit_per_second": SLOW_ADMISSION_PER_S,
            "max_active_shoppers": 500,
        },
    )
    page = await browser_context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.on(
        "console",
        lambda message: page_errors.append(message.text) if message.type == "error" else None,
    )
    seats = SEAT_ROWS * SEATS_PER_ROW

    await open_dashboard(page, stack, venue_token)
    await expect_figures(page, sold="0", held="0", available=str(GENERAL_CAPACITY + seats))
    await expect(page.locator("#feed-mode")).to_have_text("● live", timeout=CHANGE_TIMEOUT_MS)
    await expect_status(page, "on sale")
    await expect(page.locator("#seat-map figcaption")).to_contain_text(
        f"{seats} of {seats} available", timeout=CHANGE_TIMEOUT_MS
    )

    fans = await queue_up(stack, event, buyers=4, crowd=30)
    await asyncio.gather(*(fan.buy(general_items(event, 2)) for fan in fans))
    seated_hold = await fans[0].hold(best_available(event, 3))
    await fans[0].checkout(seated_hold)

    await expect_figures(
        page, sold="8", held="3", available=str(GENERAL_CAPACITY + seats - 11), revenue="$400.00"
    )
    await expect_count(page, "order-counts", "fulfilled", "4")
    await expect_count(page, "order-counts", "pending_payment", "1")
    await expect(page.locator("#seat-map figcaption")).to_contain_text(
        f"{seats - 3} of {seats} available", timeout=CHANGE_TIMEOUT_MS
    )
    await expect(page.locator("#ticket-type-bars [data-key='GA'] .bar-figures")).to_have_text(
        f"8 sold · 0 held · {GENERAL_CAPACITY - 8} available of {GENERAL_CAPACITY}"
    )

    await page.get_by_label("Admit per second").fill(str(FAST_ADMISSION_PER_S))
    await page.get_by_role("button", name="Set").click()
    await expect_control_message(page, f"Admitting {FAST_ADMISSION_PER_S} fans a second.")
    async with event.venue() as venue:
        settings = (await venue.get(f"/v1/venue/events/{event.event_id}")).json()
    assert settings["onsale"]["waiting_room"]["admit_per_second"] == FAST_ADMISSION_PER_S
    await expect(page.locator("#queue-summary")).to_contain_text(
        f"admitting {FAST_ADMISSION_PER_S} a second", timeout=CHANGE_TIMEOUT_MS
    )
    await expect_figures(page, waiting="0")

    await page.get_by_role("button", name="Pause sale").click()
    await expect_control_message(page, "Sale paused.")
    refused = await fans[2].try_hold(general_items(event, 1))
    assert (refused.status_code, error_code(refused)) == (409, "SALE_NOT_OPEN")
    await expect_status(page, "paused")
    await expect(page.get_by_role("button", name="Resume sale")).to_be_enabled()

    await page.get_by_role("button", name="Resume sale").click()
    await expect_control_message(page, "Sale resumed.")
    await asyncio.gather(*(fan.buy(general_items(event, 2)) for fan in fans[2:]))
    await expect_status(page, "on sale")
    await expect_figures(page, sold="12", held="3", revenue="$600.00")
    await expect_count(page, "order-counts", "fulfilled", "6")

    screenshot = os.environ.get(SCREENSHOT_VARIABLE)
    if screenshot:
        await page.screenshot(path=screenshot, full_page=True)
    await page.close()
    assert page_errors == []


async def test_sign_in_is_refused_with_its_reason_when_the_token_has_no_venue_role(
    stack: Stack, browser_context: BrowserContext
) -> None:
    page = await browser_context.new_page()
    await page.goto(f"{stack.base_url}/venue")

    await page.get_by_label("Venue token").fill(stack.token())
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#sign-in-message")).to_have_text(
        "That token has no venue role (venue_manager or admin).", timeout=CHANGE_TIMEOUT_MS
    )
    await page.get_by_label("Venue token").fill("not-a-token")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#sign-in-message")).to_have_text(
        "That token was refused: it is malformed, badly signed or expired.",
        timeout=CHANGE_TIMEOUT_MS,
    )
    await expect(page.locator("#events")).to_be_hidden()
    await page.close()


async def test_stats_are_polled_and_still_change_when_the_stream_cannot_be_read(
    stack: Stack, browser_context: BrowserContext
) -> None:
    venue_token = stack.token(roles=VENUE_ROLES)
    event = await create_event(stack, venue_token, general_capacity=GENERAL_CAPACITY, seat_rows=0)
    page = await browser_context.new_page()
    await page.route("**/stats/stream", lambda route: route.abort())

    await open_dashboard(page, stack, venue_token)
    await expect_figures(page, held="0", available=str(GENERAL_CAPACITY))
    await expect(page.locator("#feed-mode")).to_have_text("● polling", timeout=CHANGE_TIMEOUT_MS)
    async with stack.client(stack.token()) as fan:
        held = await fan.post(f"/v1/events/{event.event_id}/holds", json=general_items(event, 3))
    assert held.status_code == 201, held.text

    await expect_figures(page, held="3", available=str(GENERAL_CAPACITY - 3))
    await expect(page.locator("#seat-map-panel")).to_be_hidden()
    await expect(page.locator("#admit-per-second")).to_be_disabled()
    await page.close()


async def test_failed_work_is_listed_and_retried_from_the_dashboard_until_it_lands(
    stack: Stack, browser_context: BrowserContext
) -> None:
    tenant_id = uuid.uuid4()
    venue_token = stack.token(tenant_id=tenant_id, roles=VENUE_ROLES)
    event = await create_event(stack, venue_token, general_capacity=GENERAL_CAPACITY, seat_rows=0)
    owner = await asyncpg.connect(stack.parts.database_url)
    page = await browser_context.new_page()
    try:
        with chain_down(stack):
            [ticket] = (await Fan(stack, event).purchase(1))["tickets"]
            await mint_out_of_quick_retries(owner, tenant_id, ticket["ticket_id"])
            await open_dashboard(page, stack, venue_token)
            row = page.locator("#failed-work-rows tr")
            await expect(row).to_have_count(1, timeout=CHANGE_TIMEOUT_MS)
            await expect(row.locator("td").nth(0)).to_have_text("NFT mint")
            await expect(row.locator("td").nth(1)).to_have_text(ticket["ticket_id"])
            await expect_count(page, "mint-counts", "failed", "1")
        await owner.execute(
            "UPDATE outbox SET available_at = now() + interval '1 hour' WHERE aggregate_id = $1",
            ticket["ticket_id"],
        )

        await row.get_by_role("button", name="Retry now").click()

        await expect(page.locator("#failed-work-message")).to_have_text(
            f"Retrying now: NFT mint {ticket['ticket_id']}", timeout=CHANGE_TIMEOUT_MS
        )
        await expect_count(page, "mint-counts", "minted", "1")
        await expect(page.locator("#failed-work-panel")).to_be_hidden(timeout=CHANGE_TIMEOUT_MS)
    finally:
        await page.close()
        await owner.close()


async def test_wait_list_figures_show_who_waits_and_who_was_offered_returned_tickets(
    stack: Stack, browser_context: BrowserContext
) -> None:
    venue_token = stack.token(roles=VENUE_ROLES)
    event = await create_event(
        stack,
        venue_token,
        general_capacity=2,
        seat_rows=0,
        wait_list={"enabled": True, "offer_ttl_s": 600},
    )
    holder, first, second = Fan(stack, event), Fan(stack, event), Fan(stack, event)
    hold_id = await holder.hold(2)
    for fan in (first, second):
        async with stack.client(fan.token) as client:
            joined = await client.post(
                f"/v1/events/{event.event_id}/wait-list", json={"quantity": 2}
            )
        assert joined.status_code == 201, joined.text
    page = await browser_context.new_page()

    await open_dashboard(page, stack, venue_token)
    await expect_count(page, "wait-list-counts", "waiting", "2")
    await expect_count(page, "wait-list-counts", "offered", "0")
    async with stack.client(holder.token) as client:
        released = await client.delete(f"/v1/holds/{hold_id}")
    assert released.status_code == 204

    await expect_count(page, "wait-list-counts", "waiting", "1")
    await expect_count(page, "wait-list-counts", "offered", "1")
    await expect_figures(page, held="2", available="0")
    await page.close()


async def held_with_code(fan: Fan, code: str) -> str:
    async with fan.client() as client:
        answer = await client.post(
            f"/v1/events/{fan.event.event_id}/holds",
            json={**general_items(fan.event, 1), "code": code},
        )
    assert answer.status_code == 201, answer.text
    hold_id: str = answer.json()["hold_id"]
    return hold_id


async def test_codes_show_their_uses_and_are_added_and_turned_off_from_the_dashboard(
    stack: Stack, browser_context: BrowserContext
) -> None:
    venue_token = stack.token(roles=VENUE_ROLES)
    event = await create_event(stack, venue_token, general_capacity=GENERAL_CAPACITY, seat_rows=0)
    async with stack.client(venue_token) as client:
        made = await client.post(
            f"/v1/venue/events/{event.event_id}/codes",
            json={
                "code": "EARLY10",
                "kind": "discount",
                "discount": {"percent": 10},
                "max_uses": 5,
            },
        )
    assert made.status_code == 201, made.text
    buyer, holder = Fan(stack, event), Fan(stack, event)
    order = await buyer.checkout(await held_with_code(buyer, "early10"))
    paid = await buyer.pay(order["order_id"])
    assert paid.status_code == 200, paid.text
    await held_with_code(holder, "Early10")
    page = await browser_context.new_page()

    await open_dashboard(page, stack, venue_token)
    row = page.locator("#code-rows tr[data-code='EARLY10']")
    await expect(row.locator("td")).to_have_text(
        ["EARLY10", "Discount", NO_UNLOCKS, "10 % off", "1", "1", "5", "Deactivate"],
        timeout=CHANGE_TIMEOUT_MS,
    )

    await page.get_by_label("Code", exact=True).fill("FANCLUB")
    await page.get_by_label("Kind").select_option("presale")
    await page.get_by_role("button", name="Add code").click()
    await expect(page.locator("#code-message")).to_have_text("Code FANCLUB added.")
    await expect(page.locator("#code-rows tr[data-code='FANCLUB'] td").nth(1)).to_have_text(
        "Presale"
    )

    await row.get_by_role("button", name="Deactivate").click()
    await expect(page.locator("#code-message")).to_have_text("Code EARLY10 takes no new uses.")
    await expect(row.locator("td").nth(7)).to_have_text("inactive")
    async with Fan(stack, event).client() as client:
        refused = await client.post(
            f"/v1/events/{event.event_id}/holds",
            json={**general_items(event, 1), "code": "EARLY10"},
        )
    assert error_code(refused) == "CODE_INVALID"
    await page.close()


async def test_a_cancelled_event_shows_its_refunds_progressing_to_all_refunded(
    stack: Stack, browser_context: BrowserContext
) -> None:
    venue_token = stack.token(roles=VENUE_ROLES)
    event = await create_event(stack, venue_token, general_capacity=GENERAL_CAPACITY, seat_rows=0)
    await asyncio.gather(*(Fan(stack, event).purchase(1) for _ in range(2)))
    page = await browser_context.new_page()
    await open_dashboard(page, stack, venue_token)
    await expect(page.locator("#refund-progress")).to_be_hidden()

    async with event.venue() as venue:
        cancelled = await venue.post(
            f"/v1/venue/events/{event.event_id}/cancel", json={"reason": "the stage collapsed"}
        )
    assert cancelled.status_code == 202, cancelled.text

    await expect_status(page, "cancelled")
    await expect(page.locator("#refund-line")).to_have_text(
        "2 of 2 orders refunded · 0 pending · 0 failed", timeout=CHANGE_TIMEOUT_MS
    )
    await expect(page.locator("#refund-bar")).to_have_attribute("value", "2")
    await expect(page.get_by_role("button", name="Pause sale")).to_be_disabled()
    await page.close()
