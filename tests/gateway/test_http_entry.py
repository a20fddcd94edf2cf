"""Entry policies over real HTTP: zones with inclusion, re-entry with its cooldown and maximum,
devices fenced to their zones, two gates scanning one code at once, and offline uploads
reconciled with what the gates recorded (the earliest scan wins, the others are reported).

Offline uploads space scans in time (within the skew a gate's clock may be ahead), so the
cooldown is shown passing without sleeping."""

import asyncio
import datetime
import uuid
from typing import Any

import asyncpg
import pytest

from tests.gateway.http_journeys import CREATED_EVENT_IDS, CreatedEvent, Fan, error_code
from tests.gateway.stack import Stack, event_body
from tests.gateway.ticket_journeys import Venue, code_at, code_key_of, ticket_of

ZONES = [
    {"id": "GA"},
    {"id": "VIP", "includes": ["GA"]},
    {"id": "BACKSTAGE", "includes": ["VIP"]},
]


@pytest.fixture
async def owner(stack: Stack) -> Any:
    connection = await asyncpg.connect(stack.parts.database_url)
    yield connection
    await connection.close()


@pytest.fixture
def venue(stack: Stack) -> Venue:
    return Venue(stack)


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def zoned_event(venue: Venue, **entry: Any) -> CreatedEvent:
    """GA tickets enter GA, BS tickets BACKSTAGE (and, through it, VIP and GA)."""
    body = event_body(general_capacity=20, seat_rows=0, opens_in=datetime.timedelta(hours=-1))
    body["ticket_types"][0]["zone"] = "GA"
    body["ticket_types"].append(
        {
            "key": "BS",
            "name": "Backstage",
            "kind": "general",
            "price_cents": 20_000,
            "capacity": 5,
            "zone": "BACKSTAGE",
        }
    )
    body["entry"] = {"zones": ZONES} | entry
    async with venue.stack.client(venue.manager_token) as manager:
        answer = await manager.post("/v1/venue/events", json=body)
    assert answer.status_code == 201, answer.text
    CREATED_EVENT_IDS.append(answer.json()["event_id"])
    return CreatedEvent(venue.stack, venue.manager_token, answer.json())


async def reentry_event(venue: Venue, **reentry: Any) -> CreatedEvent:
    return await zoned_event(venue, reentry={"enabled": True} | reentry)


class Ticket:
    """A bought ticket, its owner's code key, and the scans made of it."""

    def __init__(self, venue: Venue, fan: Fan, ticket_id: str, key: dict[str, Any]) -> None:
        self.venue = venue
        self.fan = fan
        self.ticket_id = ticket_id
        self.key = key

    def code(self, moment: datetime.datetime | None = None) -> str:
        return code_at(self.key, self.ticket_id, moment or now())

    async def scan(self, zone: str | None = None, direction: str | None = None, **more: Any) -> Any:
        body = {
            "event_id": self.fan.event.event_id,
            "payload": self.code(),
            "device_id": more.pop("device_id", "gate-1"),
        }
        body |= {"zone": zone} if zone is not None else {}
        body |= {"direction": direction} if direction is not None else {}
        async with self.venue.stack.client(more.pop("token", self.venue.staff_token)) as gate:
            return await gate.post("/v1/scan", json=body)

    async def outcome(self, zone: str | None = None, direction: str | None = None) -> str:
        """`admitted`, or the reason the gate gave."""
        answer = await self.scan(zone, direction)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["zone"], body["direction"]) == (zone, direction or "in")
        return "admitted" if body["result"] == "admitted" else str(body["reason"])


async def bought(venue: Venue, event: CreatedEvent, key: str = "GA") -> Ticket:
    as_type = CreatedEvent(
        venue.stack,
        venue.manager_token,
        {
            "event_id": event.event_id,
            "ticket_types": [{"key": "GA", "id": event.ticket_type_ids[key]}],
        },
    )
    fan = Fan(venue.stack, as_type)
    [ticket] = (await fan.purchase(1))["tickets"]
    return Ticket(venue, fan, ticket["ticket_id"], await code_key_of(fan, ticket["ticket_id"]))


async def upload(
    ticket: Ticket,
    scans: list[tuple[datetime.datetime, str | None, str]],
    device_id: str = "gate-offline",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An offline gate's upload of (moment, zone, direction) scans of the ticket."""
    body = {
        "device_id": device_id,
        "scans": [
            {"payload": ticket.code(moment), "scanned_at": moment.isoformat(), "direction": way}
            | ({} if zone is None else {"zone": zone})
            for moment, zone, way in scans
        ],
    }
    async with ticket.venue.stack.client(ticket.venue.staff_token, **(headers or {})) as gate:
        answer = await gate.post(
            f"/v1/venue/events/{ticket.fan.event.event_id}/offline-scans", json=body
        )
    assert answer.status_code == 200, answer.text
    uploaded: dict[str, Any] = answer.json()
    return uploaded


def outcomes(uploaded: dict[str, Any]) -> list[str]:
    return [
        "admitted" if result["result"] == "admitted" else result["reason"]
        for result in uploaded["results"]
    ]


async def test_zones_admit_a_ticket_where_its_zone_reaches_and_refuse_it_elsewhere(
    venue: Venue,
) -> None:
    event = await zoned_event(venue)
    general = await bought(venue, event, "GA")
    backstage = await bought(venue, event, "BS")

    general_at_vip = await general.outcome("VIP")
    general_at_ga = await general.outcome("GA")
    backstage_at = [await backstage.outcome(zone) for zone in ("VIP", "GA", "BACKSTAGE")]
    unknown = await general.scan("PIT")
    async with venue.stack.client(venue.manager_token) as manager:
        shown = (await manager.get(f"/v1/venue/events/{event.event_id}")).json()

    assert general_at_vip == "wrong_zone"
    assert general_at_ga == "admitted"
    assert backstage_at == ["admitted"] * 3
    assert (unknown.status_code, error_code(unknown)) == (422, "VALIDATION_ERROR")
    assert unknown.json()["error"]["details"]["field"] == "zone"
    assert shown["entry"] == {
        "zones": [{"id": zone["id"], "includes": zone.get("includes", [])} for zone in ZONES],
        "reentry": {"enabled": False, "cooldown_s": 0, "max_reentries": 100},
    }
    assert {row["key"]: row["zone"] for row in shown["ticket_types"]} == {
        "GA": "GA",
        "BS": "BACKSTAGE",
    }
    assert (await ticket_of(general.fan, general.ticket_id))["status"] == "checked_in"


async def test_a_device_given_zones_scans_only_at_those_gates(venue: Venue) -> None:
    event = await zoned_event(venue)
    backstage = await bought(venue, event, "BS")
    async with venue.stack.client(venue.manager_token) as manager:
        answer = await manager.post("/v1/venue/devices", json={"name": "VIP", "zones": ["VIP"]})
    token = answer.json()["device_token"]

    at_ga = await backstage.scan("GA", token=token)
    at_main_entrance = await backstage.scan(token=token)
    at_vip = await backstage.scan("VIP", token=token)

    assert (at_ga.status_code, error_code(at_ga)) == (403, "FORBIDDEN")
    assert "not zone 'GA'" in at_ga.json()["error"]["message"]
    assert (at_main_entrance.status_code, error_code(at_main_entrance)) == (403, "FORBIDDEN")
    assert "main entrance" in at_main_entrance.json()["error"]["message"]
    assert at_vip.json()["result"] == "admitted", at_vip.text


async def test_without_reentry_a_ticket_enters_once_and_cannot_go_out(venue: Venue) -> None:
    event = await zoned_event(venue)
    ticket = await bought(venue, event)

    scans = [
        await ticket.outcome("GA"),
        await ticket.outcome("GA"),
        await ticket.outcome("GA", "out"),
    ]

    assert scans == ["admitted", "already_checked_in", "reentry_disabled"]


async def test_with_reentry_a_ticket_goes_out_and_back_in_up_to_its_maximum(venue: Venue) -> None:
    event = await reentry_event(venue, max_reentries=1)
    ticket = await bought(venue, event)

    out_before_in = await ticket.outcome("GA", "out")
    scans = [
        await ticket.outcome("GA"),
        await ticket.outcome("GA"),
        await ticket.outcome("GA", "out"),
        await ticket.outcome("GA", "out"),
        await ticket.outcome("GA"),
        await ticket.outcome("GA", "out"),
        await ticket.outcome("GA"),
    ]

    assert out_before_in == "not_inside"
    assert scans == [
        "admitted",
        "already_inside",
        "admitted",
        "not_inside",
        "admitted",
        "admitted",
        "reentry_limit",
    ]


async def test_reentry_waits_for_its_cooldown(venue: Venue) -> None:
    event = await reentry_event(venue, cooldown_s=10)
    ticket = await bought(venue, event)
    start = now()

    def at(seconds: float) -> datetime.datetime:
        return start + datetime.timedelta(seconds=seconds)

    uploaded = await upload(
        ticket,
        [(at(1), "GA", "in"), (at(2), "GA", "out"), (at(5), "GA", "in"), (at(13), "GA", "in")],
    )

    assert outcomes(uploaded) == ["admitted", "admitted", "reentry_cooldown", "admitted"]
    assert uploaded["conflicts"] == []


async def test_two_gates_scanning_one_code_at_once_admit_it_once(
    venue: Venue, owner: asyncpg.Connection
) -> None:
    event = await zoned_event(venue)
    ticket = await bought(venue, event)

    answers = await asyncio.gather(
        ticket.scan("GA", device_id="gate-1"), ticket.scan("GA", device_id="gate-2")
    )

    results = sorted(
        "admitted" if answer.json()["result"] == "admitted" else answer.json()["reason"]
        for answer in answers
    )
    assert results == ["admitted", "already_checked_in"]
    admitted = await owner.fetchval(
        "SELECT count(*) FROM ticket_scans WHERE ticket_id = $1 AND result = 'admitted'",
        uuid.UUID(ticket.ticket_id),
    )
    assert admitted == 1


@pytest.mark.parametrize("earlier_gate_first", [True, False])
async def test_two_offline_gates_end_alike_in_either_order_the_earliest_admitting(
    venue: Venue, owner: asyncpg.Connection, earlier_gate_first: bool
) -> None:
    event = await zoned_event(venue)
    ticket = await bought(venue, event)
    start = now()
    earlier = (start + datetime.timedelta(seconds=1), "GA", "in")
    later = (start + datetime.timedelta(seconds=2), "GA", "in")
    order = [("north", earlier), ("south", later)]
    if not earlier_gate_first:
        order.reverse()

    first = await upload(ticket, [order[0][1]], device_id=order[0][0])
    second = await upload(ticket, [order[1][1]], device_id=order[1][0])

    answers = {order[0][0]: outcomes(first), order[1][0]: outcomes(second)}
    assert first["conflicts"] == []
    if earlier_gate_first:
        assert answers == {"north": ["admitted"], "south": ["already_checked_in"]}
        assert second["conflicts"] == []
    else:
        assert answers == {"south": ["admitted"], "north": ["admitted"]}
        [conflict] = second["conflicts"]
        assert (conflict["ticket_id"], conflict["told"], conflict["now"]) == (
            ticket.ticket_id,
            "admitted",
            "already_checked_in",
        )
        assert conflict["scanned_at"] == first["results"][0]["scanned_at"]
    recorded = await owner.fetch(
        "SELECT device_id, result, reason FROM ticket_scans WHERE ticket_id = $1",
        uuid.UUID(ticket.ticket_id),
    )
    assert sorted(tuple(row) for row in recorded) == [
        ("north", "admitted", None),
        ("south", "rejected", "already_checked_in"),
    ]
    state = await ticket_of(ticket.fan, ticket.ticket_id)
    assert state["status"] == "checked_in"
    assert datetime.datetime.fromisoformat(state["checked_in_at"]) == earlier[0].replace(
        microsecond=earlier[0].microsecond // 1_000 * 1_000
    )


async def test_an_offline_scan_before_a_live_admission_takes_its_place(
    venue: Venue, owner: asyncpg.Connection
) -> None:
    event = await zoned_event(venue)
    ticket = await bought(venue, event)
    offline_moment = now()
    live = await ticket.scan("GA")

    uploaded = await upload(ticket, [(offline_moment, "GA", "in")])

    assert live.json()["result"] == "admitted", live.text
    assert outcomes(uploaded) == ["admitted"]
    [conflict] = uploaded["conflicts"]
    assert conflict == {
        "scan_id": live.json()["scan_id"],
        "ticket_id": ticket.ticket_id,
        "scanned_at": conflict["scanned_at"],
        "told": "admitted",
        "now": "already_checked_in",
    }
    recorded = await owner.fetch(
        "SELECT result, reason, offline FROM ticket_scans WHERE ticket_id = $1 ORDER BY scanned_at",
        uuid.UUID(ticket.ticket_id),
    )
    assert [tuple(row) for row in recorded] == [
        ("admitted", None, True),
        ("rejected", "already_checked_in", False),
    ]
    state = await ticket_of(ticket.fan, ticket.ticket_id)
    assert datetime.datetime.fromisoformat(
        state["checked_in_at"]
    ) < datetime.datetime.fromisoformat(conflict["scanned_at"])


@pytest.mark.parametrize("with_key", [True, False])
async def test_the_same_upload_sent_twice_records_nothing_new(
    venue: Venue, owner: asyncpg.Connection, with_key: bool
) -> None:
    event = await reentry_event(venue)
    ticket = await bought(venue, event)
    start = now()
    scans = [(start, "GA", "in"), (start + datetime.timedelta(milliseconds=50), "GA", "out")]
    headers = {"Idempotency-Key": str(uuid.uuid4())} if with_key else None

    first = await upload(ticket, scans, headers=headers)
    second = await upload(ticket, scans, headers=headers)

    assert outcomes(first) == outcomes(second) == ["admitted", "admitted"]
    assert second["conflicts"] == []
    rows = await owner.fetchval(
        "SELECT count(*) FROM ticket_scans WHERE ticket_id = $1", uuid.UUID(ticket.ticket_id)
    )
    assert rows == 2
    assert await ticket.outcome("GA") == "admitted"


async def test_entry_policy_problems_name_their_field_and_a_patch_keeps_zones_in_use(
    venue: Venue,
) -> None:
    event = await zoned_event(venue)
    body = event_body(general_capacity=5, seat_rows=0)
    cycle = body | {
        "entry": {"zones": [{"id": "A", "includes": ["B"]}, {"id": "B", "includes": ["A"]}]}
    }
    stray_zone = body | {"ticket_types": [body["ticket_types"][0] | {"zone": "VIP"}]}
    async with venue.stack.client(venue.manager_token) as manager:
        with_cycle = await manager.post("/v1/venue/events", json=cycle)
        with_stray_zone = await manager.post("/v1/venue/events", json=stray_zone)
        path = f"/v1/venue/events/{event.event_id}"
        removing_ga = await manager.patch(path, json={"entry": {"zones": [{"id": "BACKSTAGE"}]}})
        moving_types = await manager.patch(
            path,
            json={
                "entry": {"zones": [{"id": "BACKSTAGE"}], "reentry": {"enabled": True}},
                "ticket_types": [{"key": "GA", "zone": None}],
            },
        )

    assert (with_cycle.status_code, error_code(with_cycle)) == (422, "VALIDATION_ERROR")
    assert with_cycle.json()["error"]["details"]["field"] == "entry.zones"
    assert with_stray_zone.json()["error"]["details"]["field"] == "ticket_types[0].zone"
    assert (removing_ga.status_code, error_code(removing_ga)) == (422, "VALIDATION_ERROR")
    assert removing_ga.json()["error"]["details"]["field"] == "entry.zones"
    assert moving_types.status_code == 200, moving_types.text
    shown = moving_types.json()
    assert [zone["id"] for zone in shown["entry"]["zones"]] == ["BACKSTAGE"]
    assert shown["entry"]["reentry"]["enabled"] is True
    assert {row["key"]: row["zone"] for row in shown["ticket_types"]} == {
        "GA": None,
        "BS": "BACKSTAGE",
    }
