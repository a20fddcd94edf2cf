"""The venue's ticket tools over real HTTP: comps that count as sold at no revenue, a lock that
stops both scanning and transfers, a reissue whose old code dies, and the Supervisor expiring
unused tickets a day after their event ends."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import ray

from actors.names import NAMESPACE, SUPERVISOR_NAME
from actors.wall_clock import wall_clock_ms
from gateway.auth import Role
from tests.gateway.http_journeys import CreatedEvent, Fan, error_code
from tests.gateway.stack import Stack
from tests.gateway.ticket_journeys import Venue, code_of, listed_tickets, ticket_of

# A round of the Supervisor's own loop may hold the ticket's row while this test's round runs.
EXPIRY_POLLS_MAX = 100
EXPIRY_POLL_INTERVAL_S = 0.1


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
    return await venue.event(general_capacity=20, seat_rows=1, seats_per_row=4)


async def stats_of(stack: Stack, venue: Venue, event: CreatedEvent) -> dict[str, Any]:
    async with stack.client(venue.manager_token) as manager:
        answer = await manager.get(f"/v1/venue/events/{event.event_id}/stats")
    assert answer.status_code == 200, answer.text
    stats: dict[str, Any] = answer.json()
    return stats


async def test_comps_are_issued_with_a_reason_and_count_as_sold_at_no_revenue(
    stack: Stack, venue: Venue, event: CreatedEvent
) -> None:
    buyer, guest = Fan(stack, event), Fan(stack, event)
    await buyer.buy(2)
    before = await stats_of(stack, venue, event)
    path = f"/v1/venue/events/{event.event_id}/comps"
    to_guest = {"to_user_id": guest.user_id, "to_tenant_id": str(guest.tenant_id)}

    async with stack.client(venue.manager_token) as manager:
        press = await manager.post(
            path,
            json=to_guest
            | {"reason": "press", "items": [{"ticket_type_id": event.general, "quantity": 3}]},
        )
        vip = await manager.post(
            path, json=to_guest | {"reason": "vip_guest", "seats": ["101-A-1", "101-A-2"]}
        )
        taken = await manager.post(path, json=to_guest | {"reason": "staff", "seats": ["101-A-1"]})
        unknown_reason = await manager.post(
            path, json=to_guest | {"reason": "friends", "seats": ["101-A-3"]}
        )
    async with guest.client() as client:
        by_fan = await client.post(path, json=to_guest | {"reason": "press", "seats": ["101-A-4"]})
    after = await stats_of(stack, venue, event)

    assert press.status_code == 201, press.text
    assert press.json()["reason"] == "press" and len(press.json()["tickets"]) == 3
    assert vip.status_code == 201, vip.text
    assert sorted(ticket["seat"] for ticket in vip.json()["tickets"]) == ["101-A-1", "101-A-2"]
    assert (taken.status_code, error_code(taken)) == (409, "SEAT_UNAVAILABLE")
    assert (unknown_reason.status_code, error_code(unknown_reason)) == (422, "VALIDATION_ERROR")
    assert (by_fan.status_code, error_code(by_fan)) == (403, "FORBIDDEN")
    assert after["sold"] == before["sold"] + 5
    assert after["comps"] == before["comps"] + 5 == 5
    assert after["revenue_cents"] == before["revenue_cents"] > 0
    assert after["available"] == before["available"] - 5
    assert after["withheld"] == before["withheld"] == 0
    assert after["sold"] + after["held"] + after["available"] == after["capacity"]
    listed = await listed_tickets(guest)
    assert len(listed) == 5
    assert {ticket["order_id"] for ticket in listed} == {
        press.json()["order_id"],
        vip.json()["order_id"],
    }


async def test_a_comp_order_is_read_by_its_guest_and_the_venue_and_is_not_refundable(
    stack: Stack, venue: Venue, event: CreatedEvent
) -> None:
    guest, stranger = Fan(stack, event), Fan(stack, event)
    async with stack.client(venue.manager_token) as manager:
        given = await manager.post(
            f"/v1/venue/events/{event.event_id}/comps",
            json={
                "to_user_id": guest.user_id,
                "to_tenant_id": str(guest.tenant_id),
                "reason": "vip_guest",
                "seats": ["101-A-3", "101-A-4"],
            },
        )
        assert given.status_code == 201, given.text
        order_path = f"/v1/orders/{given.json()['order_id']}"
        read_by_venue = await manager.get(order_path)
        refused = await manager.post(
            f"{order_path}/refund",
            json={"reason": "changed our minds"},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
    async with guest.client() as client:
        read_by_guest = await client.get(order_path)
    async with stranger.client() as client:
        read_by_stranger = await client.get(order_path)
    after = await stats_of(stack, venue, event)

    assert read_by_guest.status_code == 200, read_by_guest.text
    order = read_by_guest.json()
    assert (order["status"], order["total_cents"], order["fees_cents"]) == ("fulfilled", 0, 0)
    assert sorted(ticket["seat"] for ticket in order["tickets"]) == ["101-A-3", "101-A-4"]
    assert {ticket["status"] for ticket in order["tickets"]} == {"valid"}
    by_venue = read_by_venue.json()
    assert {key: value for key, value in by_venue.items() if key != "tickets"} == {
        key: value for key, value in order.items() if key != "tickets"
    }
    assert {ticket["ticket_id"] for ticket in by_venue["tickets"]} == {
        ticket["ticket_id"] for ticket in order["tickets"]
    }
    assert (read_by_stranger.status_code, error_code(read_by_stranger)) == (404, "NOT_FOUND")
    assert (refused.status_code, error_code(refused)) == (409, "ORDER_NOT_REFUNDABLE")
    assert refused.json()["error"]["details"] == {"status": "fulfilled", "complimentary": True}
    assert (after["sold"], after["comps"], after["revenue_cents"]) == (2, 2, 0)


async def test_a_locked_ticket_neither_transfers_nor_scans_until_unlocked(
    stack: Stack, venue: Venue, event: CreatedEvent
) -> None:
    fan = Fan(stack, event)
    [ticket] = (await fan.buy(1))["tickets"]
    code = await code_of(fan, ticket["ticket_id"])
    tools = f"/v1/venue/tickets/{ticket['ticket_id']}"

    async with stack.client(venue.manager_token) as manager:
        without_reason = await manager.post(f"{tools}/lock", json={"reason": "boredom"})
        locked = await manager.post(f"{tools}/lock", json={"reason": "chargeback", "note": "bank"})
    async with fan.client() as client:
        by_fan = await client.post(f"{tools}/lock", json={"reason": "fraud"})
        transfer = await client.post(
            f"/v1/tickets/{ticket['ticket_id']}/transfer", json={"to_user_id": "someone"}
        )
    scanned_locked = await venue.scan(event, code)
    async with stack.client(venue.manager_token) as manager:
        unlocked = await manager.post(f"{tools}/unlock", json={})
    scanned_unlocked = await venue.scan(event, code)
    async with stack.client(venue.manager_token) as manager:
        lock_after_entry = await manager.post(f"{tools}/lock", json={"reason": "dispute"})

    assert (without_reason.status_code, error_code(without_reason)) == (422, "VALIDATION_ERROR")
    assert locked.status_code == 200, locked.text
    assert (locked.json()["status"], locked.json()["status_reason"]) == ("locked", "chargeback")
    assert (by_fan.status_code, error_code(by_fan)) == (403, "FORBIDDEN")
    assert (transfer.status_code, error_code(transfer)) == (409, "TRANSFER_NOT_ALLOWED")
    assert transfer.json()["error"]["details"]["reason"] == "locked"
    assert (scanned_locked.json()["result"], scanned_locked.json()["reason"]) == (
        "rejected",
        "locked",
    )
    assert unlocked.json()["status"] == "valid"
    assert scanned_unlocked.json()["result"] == "admitted"
    assert (lock_after_entry.status_code, error_code(lock_after_entry)) == (
        409,
        "TICKET_STATUS_CONFLICT",
    )


async def test_a_reissued_ticket_gets_a_new_code_on_the_same_seat_and_the_old_one_dies(
    stack: Stack, venue: Venue, event: CreatedEvent
) -> None:
    fan = Fan(stack, event)
    [ticket] = (await fan.buy(1))["tickets"]
    old_code = await code_of(fan, ticket["ticket_id"])
    other_venue = stack.token(roles=(Role.VENUE_MANAGER,))

    async with stack.client(other_venue) as stranger:
        foreign = await stranger.post(f"/v1/venue/tickets/{ticket['ticket_id']}/reissue", json={})
    async with stack.client(venue.manager_token) as manager:
        reissued = await manager.post(
            f"/v1/venue/tickets/{ticket['ticket_id']}/reissue", json={"note": "phone lost"}
        )
        twice = await manager.post(f"/v1/venue/tickets/{ticket['ticket_id']}/reissue", json={})

    assert (foreign.status_code, error_code(foreign)) == (404, "NOT_FOUND")
    assert reissued.status_code == 201, reissued.text
    new = reissued.json()
    assert new["ticket_id"] != ticket["ticket_id"]
    assert (new["order_id"], new["seat"], new["status"]) == (
        ticket["order_id"],
        ticket["seat"],
        "valid",
    )
    assert new["mint"] == ticket["mint"]
    assert (twice.status_code, error_code(twice)) == (409, "TICKET_STATUS_CONFLICT")
    assert (await ticket_of(fan, ticket["ticket_id"]))["status"] == "revoked"
    assert [listed["ticket_id"] for listed in await listed_tickets(fan)] == [new["ticket_id"]]
    assert (await venue.scan(event, old_code)).json()["reason"] == "revoked"
    new_code = await code_of(fan, new["ticket_id"])
    assert new_code != old_code
    assert (await venue.scan(event, new_code)).json()["result"] == "admitted"


async def test_supervisor_expires_unused_tickets_a_day_after_their_event_ends(
    stack: Stack, venue: Venue, event: CreatedEvent, owner: asyncpg.Connection
) -> None:
    fan = Fan(stack, event)
    [ticket] = (await fan.buy(1))["tickets"]
    code = await code_of(fan, ticket["ticket_id"])
    event_id = uuid.UUID(event.event_id)
    await owner.execute(
        """
        UPDATE events SET starts_at = now() - interval '26 hours',
                          ends_at = now() - interval '25 hours'
        WHERE id = $1
        """,
        event_id,
    )

    supervisor = ray.get_actor(SUPERVISOR_NAME, namespace=NAMESPACE)
    await supervisor.supervise_round.remote(reconcile=False, now_ms=wall_clock_ms())
    for _ in range(EXPIRY_POLLS_MAX):
        if (await ticket_of(fan, ticket["ticket_id"]))["status"] == "expired":
            break
        await asyncio.sleep(EXPIRY_POLL_INTERVAL_S)

    assert (await ticket_of(fan, ticket["ticket_id"]))["status"] == "expired"
    assert (await venue.scan(event, code)).json()["reason"] == "ticket_expired"
