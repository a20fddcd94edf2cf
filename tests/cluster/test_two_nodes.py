"""Scale-out for real, on one machine: two Ray nodes (the second in a network namespace of its own,
so no part may assume 127.0.0.1), two gateways attached to the head and HAProxy in front.

A whole sale works through the balancer, a fan admitted by one gateway holding through the other;
`kill -9` of the second node mid-sale loses nothing acknowledged and its events serve again from
the head; `kill -9` of a gateway mid-sale sends fans to the other. Recovery times are printed
(run with -s to see them).
"""

import asyncio
import email
import email.policy
import time

import httpx
import pytest

from actors.names import inventory_actor_name, waiting_room_actor_name
from gateway.auth import Role
from loadtests.local_cluster.cluster import LocalCluster
from loadtests.running_system import sign
from tests.cluster.sale_load import (
    VISA,
    Broken,
    Load,
    broken_promises,
    buyer,
    event_body,
    every_event_holds_after,
    fan_client,
    new_fan,
    until_answered,
)

pytestmark = [pytest.mark.slow, pytest.mark.cluster]
ADMISSION_BOUND_S = 30.0
MINT_AND_MAIL_BOUND_S = 60.0
RECOVERY_BOUND_S = 90.0
EVENTS = 4
BUYERS_PER_EVENT = 2
SELL_OUT_CAPACITY = 25
SELL_OUT_BUYERS = 3
LOAD_BEFORE_KILL_S = 4.0
LOAD_AFTER_RECOVERY_S = 3.0
POLL_S = 0.25


async def create_events(
    cluster: LocalCluster, bodies: list[dict[str, object]]
) -> list[tuple[str, str]]:
    venue = sign(cluster.parts(), "venue-manager", Role.VENUE_MANAGER, 3_600)
    created = []
    async with httpx.AsyncClient(
        base_url=cluster.balancer_url, headers={"Authorization": f"Bearer {venue}"}, timeout=30
    ) as client:
        for body in bodies:
            answer = await client.post("/v1/venue/events", json=body)
            assert answer.status_code == 201, answer.text
            created.append((answer.json()["event_id"], answer.json()["ticket_types"][0]["id"]))
    return created


async def admitted_access_token(fan: httpx.AsyncClient, event_id: str) -> str:
    place = (await fan.post(f"/v1/events/{event_id}/queue")).json()
    deadline = time.monotonic() + ADMISSION_BOUND_S
    while time.monotonic() < deadline:
        answer = await fan.get(f"/v1/events/{event_id}/queue/{place['queue_id']}")
        if answer.status_code == 200 and answer.json()["state"] == "admitted":
            token: str = answer.json()["access_token"]
            return token
        await asyncio.sleep(POLL_S)
    raise AssertionError("the fan was never admitted")


def mail_to(cluster: LocalCluster, address: str) -> list[email.message.Message]:
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(cluster.mail_directory.glob("*.eml"))
    ]
    return [message for message in messages if address in str(message["To"])]


async def test_whole_sale_works_through_the_balancer_with_each_step_on_either_gateway(
    cluster: LocalCluster,
) -> None:
    ((event_id, ticket_type_id),) = await create_events(
        cluster, [event_body("Two gateways", 100, waiting_room=True)]
    )
    first, second = (cluster.gateway_url(gateway) for gateway in cluster.gateways)
    fan, load = new_fan(cluster.parts()), Load()
    async with fan_client(fan, first) as through_first:
        access_token = await admitted_access_token(through_first, event_id)
    async with fan_client(fan, second) as through_second:
        held = await until_answered(
            through_second,
            f"/v1/events/{event_id}/holds",
            {"items": [{"ticket_type_id": ticket_type_id, "quantity": 2}]},
            load,
            {"X-Access-Token": access_token},
        )
    assert held.status_code == 201, held.text
    async with fan_client(fan, cluster.balancer_url) as through_balancer:
        order = await until_answered(
            through_balancer, f"/v1/holds/{held.json()['hold_id']}/checkout", None, load
        )
        assert order.status_code == 201, order.text
        order_id = order.json()["order_id"]
        paid = await until_answered(
            through_balancer, f"/v1/dev/orders/{order_id}/pay", {"card": VISA}, load
        )
        assert paid.status_code == 200 and paid.json()["status"] in ("paid", "fulfilled")
        deadline = time.monotonic() + MINT_AND_MAIL_BOUND_S
        while time.monotonic() < deadline:
            tickets = (await through_balancer.get(f"/v1/orders/{order_id}")).json()["tickets"]
            minted = all(ticket["mint"]["status"] == "minted" for ticket in tickets)
            if minted and mail_to(cluster, fan.email):
                break
            await asyncio.sleep(POLL_S)
    assert len(tickets) == 2 and minted, tickets
    assert all(ticket["status"] == "valid" for ticket in tickets), tickets
    assert len(mail_to(cluster, fan.email)) == 1


async def test_nothing_acknowledged_is_lost_when_the_second_node_dies_mid_sale(
    cluster: LocalCluster,
) -> None:
    events = await create_events(
        cluster,
        [event_body(f"Node loss {index}", 10_000) for index in range(EVENTS)]
        + [event_body("Sells out", SELL_OUT_CAPACITY)],
    )
    parts, load = cluster.parts(), Load()
    url = cluster.balancer_url
    buyers = [
        asyncio.create_task(buyer(parts, url, event, load))
        for event in events[:EVENTS]
        for _ in range(BUYERS_PER_EVENT)
    ] + [
        asyncio.create_task(buyer(parts, url, events[EVENTS], load)) for _ in range(SELL_OUT_BUYERS)
    ]
    try:
        await asyncio.sleep(LOAD_BEFORE_KILL_S)
        view = await asyncio.to_thread(cluster.view)
        node = cluster.network.node_address
        on_second_node = [
            event_id
            for event_id, _ in events
            if node
            in (
                view.actors.get(inventory_actor_name(event_id)),
                view.actors.get(waiting_room_actor_name(event_id)),
            )
        ]
        assert on_second_node, f"no event's actor runs on the second node: {view}"
        killed_at = time.monotonic()
        killed = cluster.kill_second_node()
        recovered_s = await every_event_holds_after(
            load, [event_id for event_id, _ in events[:EVENTS]], killed_at, RECOVERY_BOUND_S
        )
        await asyncio.sleep(LOAD_AFTER_RECOVERY_S)
    finally:
        load.running = False
        ended = await asyncio.gather(*buyers, return_exceptions=True)
    assert [error for error in ended if error is not None] == []
    view = await asyncio.to_thread(cluster.view)
    moved = {
        event_id: view.actors.get(inventory_actor_name(event_id)) for event_id in on_second_node
    }

    broken = await broken_promises(cluster.database_url, load, [event_id for event_id, _ in events])
    assert broken == Broken(holds_lost=0, orders_lost=0, units_oversold=0)
    print(
        f"\nsecond node killed ({len(killed)} processes) with {len(on_second_node)} of "
        f"{len(events)} events' actors on it: every event held again {recovered_s:.1f} s later, "
        f"from {sorted(set(moved.values()) - {None})}; {len(load.acknowledged_holds)} holds and "
        f"{len(load.paid_orders)} orders acknowledged, all in Postgres; answers "
        f"{sorted(load.statuses.items())}"
    )
    assert view.nodes.get(node) is False
    assert set(moved.values()) <= {cluster.network.host_address, None}
    assert len(load.paid_orders) > 0


async def test_fans_go_to_the_other_gateway_when_one_is_killed_mid_sale(
    cluster: LocalCluster,
) -> None:
    events = await create_events(
        cluster, [event_body(f"Gateway loss {i}", 10_000) for i in range(2)]
    )
    parts, load = cluster.parts(), Load()
    buyers = [
        asyncio.create_task(buyer(parts, cluster.balancer_url, event, load))
        for event in events
        for _ in range(BUYERS_PER_EVENT)
    ]
    try:
        await asyncio.sleep(LOAD_BEFORE_KILL_S)
        killed_at = time.monotonic()
        cluster.kill_gateway(cluster.gateways[1])
        recovered_s = await every_event_holds_after(
            load, [event_id for event_id, _ in events], killed_at, RECOVERY_BOUND_S
        )
        await asyncio.sleep(LOAD_AFTER_RECOVERY_S)
    finally:
        load.running = False
        ended = await asyncio.gather(*buyers, return_exceptions=True)
    assert [error for error in ended if error is not None] == []
    broken = await broken_promises(cluster.database_url, load, [event_id for event_id, _ in events])
    assert broken == Broken(holds_lost=0, orders_lost=0, units_oversold=0)
    print(
        f"\ngateway-2 killed: every event held again {recovered_s:.1f} s later through the "
        f"balancer; {len(load.acknowledged_holds)} holds and {len(load.paid_orders)} orders "
        f"acknowledged, all in Postgres; answers {sorted(load.statuses.items())}"
    )
    assert cluster.balancer_states()[cluster.gateways[1].name].startswith("DOWN")
    assert len(load.paid_orders) > 0
