"""The door over real HTTP: codes only the ticket's owner can make, scanner devices, and offline
uploads that cannot rewrite history.

A manifest, a device token and a staff token together give nothing that signs a code the gate
admits; the owner's app, with its code key and no network, makes codes that admit once; a
transferred ticket's codes and the old `tq1` codes are refused; a back-dated upload changes
nothing; a device scans only its tenant's events (and those it was registered for) until it is
revoked."""

import datetime
import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.ticket_qr import qr_step
from tests.gateway.http_journeys import CreatedEvent, Fan, error_code
from tests.gateway.stack import Stack
from tests.gateway.ticket_journeys import (
    Venue,
    code_at,
    code_key_of,
    from_base64url,
    ticket_of,
    to_base64url,
)


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


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def bought_ticket(fan: Fan) -> str:
    [ticket] = (await fan.purchase(1))["tickets"]
    ticket_id: str = ticket["ticket_id"]
    return ticket_id


async def register_device(venue: Venue, **body: Any) -> dict[str, Any]:
    async with venue.stack.client(venue.manager_token) as manager:
        answer = await manager.post("/v1/venue/devices", json={"name": "North gate"} | body)
    assert answer.status_code == 201, answer.text
    device: dict[str, Any] = answer.json()
    return device


async def listed_devices(venue: Venue) -> dict[str, dict[str, Any]]:
    async with venue.stack.client(venue.manager_token) as manager:
        answer = await manager.get("/v1/venue/devices")
    assert answer.status_code == 200, answer.text
    return {device["device_id"]: device for device in answer.json()["devices"]}


async def manifest_of(stack: Stack, token: str, event: CreatedEvent) -> dict[str, Any]:
    async with stack.client(token) as gate:
        answer = await gate.get(f"/v1/venue/events/{event.event_id}/scan-manifest")
    assert answer.status_code == 200, answer.text
    manifest: dict[str, Any] = answer.json()
    return manifest


def signed_with_seed(seed: bytes, ticket_id: str, step: int) -> str:
    message = f"tq2.{ticket_id}.{step}"
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(message.encode())
    return f"{message}.{to_base64url(signature)}"


def forgeries(ticket_id: str, materials: dict[str, bytes], step: int) -> dict[str, str]:
    """Every code an attacker could make from what the venue's side holds: each material (and its
    sha256) as an Ed25519 seed, as an HMAC key in the old format and in the new one."""
    codes: dict[str, str] = {}
    for name, material in materials.items():
        for form, key in ((name, material), (f"sha256({name})", hashlib.sha256(material).digest())):
            if len(key) == 32:
                codes[f"{form} as seed"] = signed_with_seed(key, ticket_id, step)
            tq1 = f"tq1.{ticket_id}.{step}"
            mac = hmac.new(key, tq1.encode(), hashlib.sha256).digest()
            codes[f"{form} as tq1 key"] = f"{tq1}.{to_base64url(mac)}"
            tq2 = f"tq2.{ticket_id}.{step}"
            long_mac = hmac.new(key, tq2.encode(), hashlib.sha512).digest()
            codes[f"{form} as tq2 key"] = f"{tq2}.{to_base64url(long_mac)}"
    return codes


async def test_manifest_device_and_staff_tokens_together_cannot_make_a_code_that_admits(
    stack: Stack, venue: Venue, event: CreatedEvent
) -> None:
    fan = Fan(stack, event)
    ticket_id = await bought_ticket(fan)
    device = await register_device(venue, event_ids=[event.event_id])
    manifest = await manifest_of(stack, device["device_token"], event)
    staff_manifest = await manifest_of(stack, venue.staff_token, event)
    [entry] = [entry for entry in manifest["tickets"] if entry["ticket_id"] == ticket_id]
    device_secret = from_base64url(device["device_token"].rpartition(".")[2])
    materials = {
        "public key": from_base64url(entry["public_key"]),
        "device secret": device_secret,
        "device token": device["device_token"].encode(),
        "staff token": venue.staff_token.encode(),
        "manifest": repr(sorted(manifest["tickets"], key=str)).encode(),
    }
    codes = forgeries(ticket_id, materials, qr_step(int(now().timestamp() * 1_000)))

    answers = {name: await venue.scan(event, code) for name, code in codes.items()}

    assert staff_manifest["tickets"] == manifest["tickets"]
    assert manifest["payload_version"] == "tq2"
    assert set(entry) == {"ticket_id", "ticket_type_id", "seat", "status", "public_key"}
    assert len(answers) >= 15
    for name, answer in answers.items():
        assert answer.status_code == 200, (name, answer.text)
        reason = answer.json()["reason"]
        assert answer.json()["result"] == "rejected", name
        assert reason == ("outdated_code" if "tq1" in name else "forged"), (name, reason)
    assert (await ticket_of(fan, ticket_id))["status"] == "valid"
    genuine = await venue.scan(event, code_at(await code_key_of(fan, ticket_id), ticket_id, now()))
    assert genuine.json()["result"] == "admitted", genuine.text


async def test_owners_offline_code_admits_once(
    stack: Stack, venue: Venue, event: CreatedEvent
) -> None:
    fan, stranger = Fan(stack, event), Fan(stack, event)
    ticket_id = await bought_ticket(fan)
    async with fan.client() as client:
        answer = await client.get(f"/v1/tickets/{ticket_id}/code-key")
    async with stranger.client() as client:
        foreign = await client.get(f"/v1/tickets/{ticket_id}/code-key")
    key = answer.json()
    manifest = await manifest_of(stack, venue.staff_token, event)
    [entry] = [entry for entry in manifest["tickets"] if entry["ticket_id"] == ticket_id]
    code = code_at(key, ticket_id, now())

    first = await venue.scan(event, code)
    again = await venue.scan(event, code)

    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert set(key) == {
        "ticket_id",
        "payload_version",
        "signing_key",
        "public_key",
        "qr_step_s",
        "qr_skew_steps",
    }
    assert (key["ticket_id"], key["payload_version"], key["qr_step_s"]) == (ticket_id, "tq2", 30)
    assert key["public_key"] == entry["public_key"]
    assert (foreign.status_code, error_code(foreign)) == (404, "NOT_FOUND")
    assert (first.json()["result"], first.json()["reason"]) == ("admitted", None)
    assert (again.json()["result"], again.json()["reason"]) == ("rejected", "already_checked_in")
    async with fan.client() as client:
        checked_in = await client.get(f"/v1/tickets/{ticket_id}/code-key")
    assert (checked_in.status_code, error_code(checked_in)) == (409, "TICKET_STATUS_CONFLICT")


async def test_transferred_tickets_old_code_is_refused_and_a_tq1_code_is_outdated(
    stack: Stack, venue: Venue, event: CreatedEvent
) -> None:
    giver, recipient = Fan(stack, event), Fan(stack, event)
    ticket_id = await bought_ticket(giver)
    old_key = await code_key_of(giver, ticket_id)
    async with giver.client() as client:
        given = await client.post(
            f"/v1/tickets/{ticket_id}/transfer",
            json={"to_user_id": recipient.user_id, "to_tenant_id": str(recipient.tenant_id)},
        )
    assert given.status_code == 200, given.text
    new_ticket_id = given.json()["ticket_id"]
    new_key = await code_key_of(recipient, new_ticket_id)
    step = qr_step(int(now().timestamp() * 1_000))

    old_code = await venue.scan(event, code_at(old_key, ticket_id, now()))
    old_key_on_new_ticket = await venue.scan(
        event, signed_with_seed(from_base64url(old_key["signing_key"]), new_ticket_id, step)
    )
    tq1 = await venue.scan(event, f"tq1.{new_ticket_id}.{step}.{'A' * 43}")
    new_code = await venue.scan(event, code_at(new_key, new_ticket_id, now()))

    assert new_key["public_key"] != old_key["public_key"]
    assert (old_code.json()["result"], old_code.json()["reason"]) == ("rejected", "transferred")
    assert old_key_on_new_ticket.json()["reason"] == "forged"
    assert (tq1.json()["result"], tq1.json()["reason"]) == ("rejected", "outdated_code")
    assert new_code.json()["result"] == "admitted", new_code.text


async def test_back_dated_offline_upload_is_rejected_and_changes_nothing(
    stack: Stack, venue: Venue, owner: asyncpg.Connection
) -> None:
    event = await venue.event(
        general_capacity=20, seat_rows=0, opens_in=datetime.timedelta(hours=-2)
    )
    fan = Fan(stack, event)
    ticket_id = await bought_ticket(fan)
    key = await code_key_of(fan, ticket_id)
    week_ago, hour_ago = now() - datetime.timedelta(days=7), now() - datetime.timedelta(hours=1)
    soon = now() + datetime.timedelta(minutes=10)
    scans = {
        "outside_door_window": (code_at(key, ticket_id, week_ago), week_ago),
        "before_ticket_issued": (code_at(key, ticket_id, hour_ago), hour_ago),
        "code_step_mismatch": (code_at(key, ticket_id, now()), hour_ago),
        "scanned_after_upload": (code_at(key, ticket_id, soon), soon),
    }

    async with stack.client(venue.staff_token) as gate:
        uploaded = await gate.post(
            f"/v1/venue/events/{event.event_id}/offline-scans",
            json={
                "device_id": "gate-offline",
                "scans": [
                    {"payload": payload, "scanned_at": moment.isoformat()}
                    for payload, moment in scans.values()
                ],
            },
        )

    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["admitted"] == 0
    assert [
        (result["result"], result["reason"], result["ticket_id"])
        for result in uploaded.json()["results"]
    ] == [("rejected", reason, ticket_id) for reason in scans]
    ticket = await ticket_of(fan, ticket_id)
    assert (ticket["status"], ticket["checked_in_at"]) == ("valid", None)
    recorded = await owner.fetch(
        "SELECT result FROM ticket_scans WHERE ticket_id = $1", uuid.UUID(ticket_id)
    )
    assert [row["result"] for row in recorded] == ["rejected"] * len(scans)
    admitted = await venue.scan(event, code_at(key, ticket_id, now()))
    assert admitted.json()["result"] == "admitted", admitted.text


async def test_device_scans_until_revoked_and_is_seen_and_recorded(
    stack: Stack, venue: Venue, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    fan = Fan(stack, event)
    first, second = (ticket["ticket_id"] for ticket in (await fan.purchase(2))["tickets"])
    device = await register_device(venue, zones=["GA", "VIP"])
    token = device["device_token"]
    before = (await listed_devices(venue))[device["device_id"]]

    scanned = await venue.scan(
        event, code_at(await code_key_of(fan, first), first, now()), device_id="typed", token=token
    )
    seen = (await listed_devices(venue))[device["device_id"]]
    async with stack.client(token) as gate:
        elsewhere = await gate.get("/v1/me/tickets")
        venue_route = await gate.get(f"/v1/venue/events/{event.event_id}")
    async with stack.client(venue.manager_token) as manager:
        revoked = await manager.delete(f"/v1/venue/devices/{device['device_id']}")
    after_revoke = await venue.scan(
        event, code_at(await code_key_of(fan, second), second, now()), token=token
    )
    async with stack.client(token) as gate:
        manifest_after_revoke = await gate.get(f"/v1/venue/events/{event.event_id}/scan-manifest")

    assert token.startswith(f"sd1.{venue.tenant_id}.{device['device_id']}.")
    assert (device["name"], device["event_ids"], device["zones"]) == (
        "North gate",
        [],
        ["GA", "VIP"],
    )
    assert "device_token" not in before and before["last_seen_at"] is None
    assert before["revoked_at"] is None
    assert scanned.json()["result"] == "admitted", scanned.text
    assert seen["last_seen_at"] is not None
    recorded = await owner.fetchval(
        "SELECT device_id FROM ticket_scans WHERE ticket_id = $1", uuid.UUID(first)
    )
    assert recorded == device["device_id"]
    assert (elsewhere.status_code, error_code(elsewhere)) == (401, "UNAUTHENTICATED")
    assert (venue_route.status_code, error_code(venue_route)) == (401, "UNAUTHENTICATED")
    assert revoked.status_code == 204
    assert (after_revoke.status_code, error_code(after_revoke)) == (401, "UNAUTHENTICATED")
    assert manifest_after_revoke.status_code == 401
    assert (await listed_devices(venue))[device["device_id"]]["revoked_at"] is not None
    assert (await ticket_of(fan, second))["status"] == "valid"


async def test_devices_are_fenced_by_tenant_and_by_the_events_they_were_given(
    stack: Stack, venue: Venue, event: CreatedEvent
) -> None:
    other_event = await venue.event(general_capacity=5, seat_rows=0)
    other_venue = Venue(stack)
    foreign_event = await other_venue.event(general_capacity=5, seat_rows=0)
    fan = Fan(stack, other_event)
    ticket_id = await bought_ticket(fan)
    code = code_at(await code_key_of(fan, ticket_id), ticket_id, now())
    device = await register_device(venue, event_ids=[event.event_id])
    foreign_device = await register_device(other_venue)

    at_other_event = await venue.scan(other_event, code, token=device["device_token"])
    at_foreign_event = await venue.scan(foreign_event, code, token=device["device_token"])
    async with stack.client(venue.manager_token) as manager:
        revoke_foreign = await manager.delete(f"/v1/venue/devices/{foreign_device['device_id']}")
        with_foreign_event = await manager.post(
            "/v1/venue/devices", json={"name": "Gate", "event_ids": [foreign_event.event_id]}
        )
    async with stack.client(venue.staff_token) as staff:
        by_staff = await staff.post("/v1/venue/devices", json={"name": "Gate"})
    forged_token = device["device_token"][:-4] + "AAAA"
    with_forged_token = await venue.scan(event, code, token=forged_token)
    other_tenants_token = await venue.scan(event, code, token=foreign_device["device_token"])

    assert (at_other_event.status_code, error_code(at_other_event)) == (403, "FORBIDDEN")
    assert "other events" in at_other_event.json()["error"]["message"]
    assert (at_foreign_event.status_code, error_code(at_foreign_event)) == (404, "NOT_FOUND")
    assert (revoke_foreign.status_code, error_code(revoke_foreign)) == (404, "NOT_FOUND")
    assert foreign_device["device_id"] not in await listed_devices(venue)
    assert (with_foreign_event.status_code, error_code(with_foreign_event)) == (
        422,
        "VALIDATION_ERROR",
    )
    assert (by_staff.status_code, error_code(by_staff)) == (403, "FORBIDDEN")
    assert (with_forged_token.status_code, error_code(with_forged_token)) == (
        401,
        "UNAUTHENTICATED",
    )
    assert (other_tenants_token.status_code, error_code(other_tenants_token)) == (404, "NOT_FOUND")
    assert (await ticket_of(fan, ticket_id))["status"] == "valid"
    staff_scan = await venue.scan(other_event, code)
    assert staff_scan.json()["result"] == "admitted", staff_scan.text
