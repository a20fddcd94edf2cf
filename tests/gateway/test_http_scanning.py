"""The gates over real HTTP: a code admits its ticket once, even when many gates scan it at the same
instant; forged, stale, malformed, outdated and other events' codes are turned away with a reason;
only the event's venue scans; and a gate that lost its connection verifies from the manifest's
public keys and uploads."""

import asyncio
import datetime
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from engine.ticket_qr import QrPayload, qr_step, read_qr
from gateway.auth import Role
from persistence.located_ids import mint_located_id
from services.ticket_codes import signature_verifies
from tests.gateway.http_journeys import CreatedEvent, Fan, error_code
from tests.gateway.stack import Stack
from tests.gateway.ticket_journeys import (
    Venue,
    code_at,
    code_key_of,
    code_of,
    from_base64url,
    scans_of,
    ticket_of,
)

CONCURRENT_GATES = 8


@pytest.fixture
async def owner(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(stack.parts.database_url)
    yield connection
    await connection.close()


@pytest.fixture
def venue(stack: Stack) -> Venue:
    return Venue(stack)


@pytest.fixture
async def event(venue: Venue) -> CreatedEvent:
    return await venue.event(general_capacity=20, seat_rows=0)


async def test_a_code_admits_once_and_is_then_rejected_as_a_replay(
    stack: Stack, venue: Venue, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    fan = Fan(stack, event)
    [ticket] = (await fan.buy(1))["tickets"]
    code = await code_of(fan, ticket["ticket_id"])

    first = await venue.scan(event, code)
    replay = await venue.scan(event, code)

    assert first.status_code == 200, first.text
    assert first.json()["result"] == "admitted" and first.json()["reason"] is None
    assert first.json()["ticket_id"] == ticket["ticket_id"]
    assert replay.json()["result"] == "rejected"
    assert replay.json()["reason"] == "already_checked_in"
    checked_in = await ticket_of(fan, ticket["ticket_id"])
    assert checked_in["status"] == "checked_in" and checked_in["checked_in_at"] is not None
    async with fan.client() as client:
        no_code = await client.get(f"/v1/tickets/{ticket['ticket_id']}/qr")
    assert (no_code.status_code, error_code(no_code)) == (409, "TICKET_STATUS_CONFLICT")
    recorded = await scans_of(owner, ticket["ticket_id"])
    assert [(row["result"], row["reason"]) for row in recorded] == [
        ("admitted", None),
        ("rejected", "already_checked_in"),
    ]


async def test_concurrent_scans_of_one_code_admit_exactly_one(
    stack: Stack, venue: Venue, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    fan = Fan(stack, event)
    [ticket] = (await fan.buy(1))["tickets"]
    code = await code_of(fan, ticket["ticket_id"])

    answers = await asyncio.gather(
        *(venue.scan(event, code, device_id=f"gate-{gate}") for gate in range(CONCURRENT_GATES))
    )

    results = sorted((answer.json()["result"], answer.json()["reason"]) for answer in answers)
    assert results == [("admitted", None)] + [("rejected", "already_checked_in")] * (
        CONCURRENT_GATES - 1
    )
    recorded = await scans_of(owner, ticket["ticket_id"])
    assert len(recorded) == CONCURRENT_GATES
    assert sum(row["result"] == "admitted" for row in recorded) == 1


async def test_forged_stale_malformed_and_foreign_codes_are_rejected_with_a_reason(
    stack: Stack, venue: Venue, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    other_event = await venue.event(general_capacity=20, seat_rows=0)
    fan = Fan(stack, event)
    [ticket] = (await fan.buy(1))["tickets"]
    code = await code_of(fan, ticket["ticket_id"])
    signed_part, _, signature = code.rpartition(".")
    key = await code_key_of(fan, ticket["ticket_id"])
    now = datetime.datetime.now(datetime.UTC)
    stale = code_at(key, ticket["ticket_id"], now - datetime.timedelta(minutes=2))
    unknown_id = mint_located_id(
        await owner.fetchval(
            "SELECT event_number FROM event_directory WHERE event_id = $1",
            uuid.UUID(event.event_id),
        )
    )
    cases = {
        "forged": f"{signed_part}.{'A' * len(signature)}",
        "expired_code": stale,
        "malformed": "https://example.com/not-a-ticket",
        "outdated_code": f"tq1.{ticket['ticket_id']}.{qr_step(int(now.timestamp() * 1000))}."
        + "A" * 43,
        "unknown_ticket": code_at(key, unknown_id, now),
    }

    answers = {reason: await venue.scan(event, payload) for reason, payload in cases.items()}
    at_other_event = await venue.scan(other_event, code)

    for reason, answer in answers.items():
        assert answer.status_code == 200, answer.text
        assert (answer.json()["result"], answer.json()["reason"]) == ("rejected", reason)
    assert at_other_event.json()["reason"] == "wrong_event"
    assert (await ticket_of(fan, ticket["ticket_id"]))["status"] == "valid"
    recorded = await scans_of(owner, ticket["ticket_id"])
    assert sorted(row["reason"] for row in recorded) == ["expired_code", "forged"]
    admitted = await venue.scan(event, code)
    assert admitted.json()["result"] == "admitted"


async def test_only_the_events_venue_may_scan(stack: Stack, event: CreatedEvent) -> None:
    fan = Fan(stack, event)
    body = {"event_id": event.event_id, "payload": "tq2.x", "device_id": "gate-1"}
    other_staff = stack.token(roles=(Role.VENUE_STAFF,))

    async with fan.client() as client:
        by_fan = await client.post("/v1/scan", json=body)
    async with stack.client(other_staff) as client:
        by_other_venue = await client.post("/v1/scan", json=body)

    assert (by_fan.status_code, error_code(by_fan)) == (403, "FORBIDDEN")
    assert (by_other_venue.status_code, error_code(by_other_venue)) == (404, "NOT_FOUND")


def verifies_offline(public_key: str, payload: str) -> bool:
    """What an offline gate checks with the manifest alone: the code is signed by the ticket."""
    claims = read_qr(payload)
    assert isinstance(claims, QrPayload), payload
    return signature_verifies(public_key=from_base64url(public_key), payload=claims)


async def test_offline_gates_verify_from_the_manifest_and_uploads_resolve_duplicates(
    stack: Stack, venue: Venue, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    fan = Fan(stack, event)
    tickets = (await fan.buy(3))["tickets"]
    manifest: dict[str, str] = {}
    cursor: str | None = None
    async with stack.client(venue.staff_token) as gate:
        while True:
            params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
            page = (
                await gate.get(f"/v1/venue/events/{event.event_id}/scan-manifest", params=params)
            ).json()
            assert page["payload_version"] == "tq2"
            for entry in page["tickets"]:
                assert entry["ticket_id"] not in manifest
                assert set(entry) == {"ticket_id", "ticket_type_id", "seat", "status", "public_key"}
                manifest[entry["ticket_id"]] = entry["public_key"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert set(manifest) == {ticket["ticket_id"] for ticket in tickets}
    first, second, _ = (ticket["ticket_id"] for ticket in tickets)
    keys = {ticket_id: await code_key_of(fan, ticket_id) for ticket_id in (first, second)}
    # The gate's moments: after the tickets were issued, before (or just after) the upload.
    earlier = datetime.datetime.now(datetime.UTC)
    later = earlier + datetime.timedelta(seconds=20)
    codes = {
        (ticket_id, moment): code_at(keys[ticket_id], ticket_id, moment)
        for ticket_id in (first, second)
        for moment in (earlier, later)
    }
    assert all(
        verifies_offline(manifest[ticket_id], code) for (ticket_id, _), code in codes.items()
    )
    assert not verifies_offline(manifest[second], codes[(first, earlier)])
    scans = [
        {"payload": codes[(first, later)], "scanned_at": later.isoformat()},
        {"payload": codes[(first, earlier)], "scanned_at": earlier.isoformat()},
        {"payload": codes[(second, later)], "scanned_at": later.isoformat()},
        {"payload": "garbage", "scanned_at": later.isoformat()},
    ]

    async with stack.client(venue.staff_token) as gate:
        uploaded = await gate.post(
            f"/v1/venue/events/{event.event_id}/offline-scans",
            json={"device_id": "gate-offline", "scans": scans},
        )

    assert uploaded.status_code == 200, uploaded.text
    answer = uploaded.json()
    assert (answer["admitted"], answer["rejected"]) == (2, 2)
    assert [(result["result"], result["reason"]) for result in answer["results"]] == [
        ("rejected", "already_checked_in"),
        ("admitted", None),
        ("admitted", None),
        ("rejected", "malformed"),
    ]
    first_ticket = await ticket_of(fan, first)
    assert first_ticket["status"] == "checked_in"
    checked_in_at = datetime.datetime.fromisoformat(first_ticket["checked_in_at"])
    assert abs(checked_in_at - earlier) < datetime.timedelta(seconds=1)
    assert {row["offline"] for row in await scans_of(owner, first)} == {True}
    online = await venue.scan(
        event, code_at(keys[second], second, datetime.datetime.now(datetime.UTC))
    )
    assert online.json()["reason"] == "already_checked_in"
