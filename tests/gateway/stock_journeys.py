"""Steps the stock-control HTTP tests share: a control posted by the event's venue, the stats
with their invariant checked, and the fan's seat map by seat id."""

from typing import Any

import httpx

from tests.gateway.http_journeys import CreatedEvent


async def control(
    event: CreatedEvent, body: dict[str, Any], client: httpx.AsyncClient | None = None
) -> httpx.Response:
    if client is not None:
        return await client.post(f"/v1/venue/events/{event.event_id}/inventory", json=body)
    async with event.venue() as venue:
        return await venue.post(f"/v1/venue/events/{event.event_id}/inventory", json=body)


async def controlled(event: CreatedEvent, body: dict[str, Any]) -> dict[str, Any]:
    """The type's figures after a control that must be accepted."""
    answer = await control(event, body)
    assert answer.status_code == 200, answer.text
    figures: dict[str, Any] = answer.json()
    assert_invariant(figures)
    return figures


def assert_invariant(figures: dict[str, Any]) -> None:
    total = figures["sold"] + figures["held"] + figures["blocked"] + figures["available"]
    assert total == figures["capacity"], figures
    assert figures["withheld"] == figures["blocked"], figures


async def stats(event: CreatedEvent) -> dict[str, Any]:
    """The event's stats, the invariant checked in total and per type; types by key."""
    async with event.venue() as venue:
        answer = await venue.get(f"/v1/venue/events/{event.event_id}/stats")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert_invariant(body)
    for row in body["by_ticket_type"]:
        assert_invariant(row)
    assert body["blocked"] == sum(row["blocked"] for row in body["by_ticket_type"])
    body["types"] = {row["key"]: row for row in body["by_ticket_type"]}
    return body


async def seat_marks(event: CreatedEvent, token: str) -> dict[str, dict[str, Any]]:
    """Every seat of the fan's seat map by seat id, as the map shows it."""
    async with event.stack.client(token) as client:
        answer = await client.get(f"/v1/events/{event.event_id}/seatmap")
    assert answer.status_code == 200, answer.text
    return {
        f"{section['id']}-{row['id']}-{seat['n']}": seat
        for section in answer.json()["sections"]
        for row in section["rows"]
        for seat in row["seats"]
    }
