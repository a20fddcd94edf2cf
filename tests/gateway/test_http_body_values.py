"""Nothing Postgres would refuse gets past the gateway, driven from `/openapi.json`: for every
operation with a JSON body, every text of its schema holding NUL (escaped or raw) and every
date-time out of range is a VALIDATION_ERROR naming the field, and changes nothing; NUL in a path
or query parameter is refused too. The valid bodies come from a real sale: a paid order, a pending
one and a ticket's code."""

import copy
import datetime
import json
import uuid
from collections.abc import Iterator
from typing import Any, NamedTuple

import asyncpg
import httpx
import jsonschema_rs
import pytest

from engine import limits
from gateway.auth import Role
from gateway.schemas import format_moment
from tests.gateway.http_journeys import (
    CREATED_EVENT_IDS,
    VISA,
    CreatedEvent,
    Fan,
    create_event,
    error_code,
)
from tests.gateway.stack import Stack, event_body
from tests.gateway.ticket_journeys import code_of

pytestmark = pytest.mark.usefixtures("stack")

ALL_ROLES = (Role.FAN, Role.VENUE_STAFF, Role.VENUE_MANAGER, Role.ADMIN)
COMPONENTS = "#/components/schemas/"
JSON_MEDIA = "application/json"
NUL = "\x00"
# A moment that cannot be converted to UTC, one past the year 9999 once it is, and one before 1970.
MOMENTS_OUT_OF_RANGE = (
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "1969-12-31T23:59:59Z",
)
# A parameter's text, percent-encoded as sent: NUL, and bytes that are no UTF-8 around one.
REFUSED_PARAMETER_TEXTS = ("%00", "1%ff%00%fe")
# The walk must reach at least this much of the schema, so it cannot pass by visiting nothing.
BODY_OPERATIONS_MIN = 12
TEXT_FIELDS_MIN = 40
MOMENT_FIELDS_MIN = 7
# Tables that work in the background writes after a sale (mints, notices, payment polls, actors'
# epochs), so they are not what a refused request could have changed.
BACKGROUND_TABLES = {
    "event_epochs",
    "fan_wallets",
    "nft_mints",
    "notifications",
    "outbox",
    "outbox_dead_letters",
    "payments",
    "webhook_inbox",
}
TENANT_TABLES = """
SELECT table_name FROM information_schema.columns
WHERE table_schema = 'public' AND column_name = 'tenant_id'
ORDER BY table_name
"""

Path = tuple[str | int, ...]


class Field(NamedTuple):
    """A text of a body's schema: where it is (0 for an array's items), whether a moment, and
    what the schema says of it."""

    path: Path
    moment: bool
    description: str


def field_name(path: Path) -> str:
    """A path as the gateway names a field: `ticket_types[0].name`."""
    name = ""
    for part in path:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else part
    return name


def is_text(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "string" or (isinstance(kind, list) and "string" in kind):
        return True
    enum = schema.get("enum")
    return enum is not None and all(isinstance(value, str) for value in enum)


def fields_of(
    schema: dict[str, Any], components: dict[str, Any], path: Path = ()
) -> Iterator[Field]:
    """Every text the schema lets a body hold, following $ref, unions, objects and arrays."""
    if "$ref" in schema:
        yield from fields_of(components[schema["$ref"].removeprefix(COMPONENTS)], components, path)
    for union in ("anyOf", "oneOf", "allOf"):
        for member in schema.get(union, []):
            yield from fields_of(member, components, path)
    for name, member in schema.get("properties", {}).items():
        yield from fields_of(member, components, (*path, name))
    if isinstance(schema.get("items"), dict):
        yield from fields_of(schema["items"], components, (*path, 0))
    if is_text(schema):
        yield Field(path, schema.get("format") == "date-time", schema.get("description", ""))


class BodyOperation(NamedTuple):
    method: str
    path: str
    schema: dict[str, Any]
    fields: tuple[Field, ...]


def body_operations(document: dict[str, Any]) -> list[BodyOperation]:
    """Every operation of the document with a JSON body, with the texts its body may hold."""
    components = document["components"]["schemas"]
    operations = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            content = operation.get("requestBody", {}).get("content", {})
            if JSON_MEDIA not in content:
                continue
            schema = content[JSON_MEDIA]["schema"]
            fields = tuple(dict.fromkeys(fields_of(schema, components)))
            operations.append(BodyOperation(method, path, schema, fields))
    return operations


def value_at(body: Any, path: Path) -> Any:
    for part in path:
        if isinstance(part, int):
            if not isinstance(body, list) or len(body) <= part:
                return None
        elif not isinstance(body, dict) or part not in body:
            return None
        body = body[part]
    return body


def with_value(body: Any, path: Path, value: str) -> Any:
    changed = copy.deepcopy(body)
    holder = changed
    for part in path[:-1]:
        holder = holder[part]
    holder[path[-1]] = value
    return changed


def with_nul(text: str) -> str:
    return text[:1] + NUL + text[1:]


def moment(delta: datetime.timedelta) -> str:
    return (datetime.datetime.now(datetime.UTC) + delta).isoformat()


def ticket_type_sale() -> dict[str, Any]:
    """A ticket type's own window and phases, every text of them given."""
    return {
        "on_sale_from": moment(datetime.timedelta(minutes=1)),
        "on_sale_until": moment(datetime.timedelta(hours=2)),
        "price_phases": [
            {"price_cents": 5_000, "until": moment(datetime.timedelta(hours=1))},
            {"price_cents": 5_500},
        ],
    }


def entry_policy() -> dict[str, Any]:
    """An entry policy with every text it may hold."""
    return {
        "zones": [{"id": "VIP", "includes": ["GA"]}, {"id": "GA"}],
        "reentry": {"enabled": True, "cooldown_s": 900, "max_reentries": 2},
    }


def zoned_event_body() -> dict[str, Any]:
    body = event_body() | {"entry": entry_policy()}
    body["ticket_types"][0]["zone"] = "VIP"
    return body


def phased_event_body() -> dict[str, Any]:
    body = event_body()
    body["ticket_types"][0] |= ticket_type_sale() | {"price_cents": 5_000}
    return body


class Sale:
    """A sale whose every operation has a target: an event, a paid order with minted tickets, a
    pending order and a ticket's code; one caller holds every role in the venue's tenant."""

    def __init__(self, stack: Stack, event: CreatedEvent, fan: Fan) -> None:
        self.stack = stack
        self.event = event
        self.fan = fan
        self.tenant_id = fan.tenant_id
        self.paid_order_id = ""
        self.pending_order_id = ""
        self.ticket_id = ""
        self.code = ""
        self.code_id = ""

    def client(self) -> httpx.AsyncClient:
        return self.fan.client()

    def targets(self) -> dict[str, tuple[str, list[dict[str, Any]]]]:
        """For each operation with a body, as `METHOD path`, its path and its valid bodies,
        between them holding every text the operation's body may hold."""
        event_id = self.event.event_id
        general = self.event.general
        scanned_at = moment(datetime.timedelta(minutes=-1))
        note = {"note": "asked at the desk"}
        return {
            "POST /v1/venue/events": (
                "/v1/venue/events",
                [
                    event_body() | {"webhook_url": "https://venue.example.com/hooks"},
                    phased_event_body(),
                    zoned_event_body(),
                ],
            ),
            "PATCH /v1/venue/events/{event_id}": (
                f"/v1/venue/events/{event_id}",
                [
                    {
                        "status": "live",
                        "onsale": {
                            "opens_at": moment(datetime.timedelta(minutes=-1)),
                            "closes_at": moment(datetime.timedelta(days=1)),
                        },
                    },
                    {"ticket_types": [{"key": "RES", **ticket_type_sale()}]},
                    {"entry": entry_policy(), "ticket_types": [{"key": "GA", "zone": "VIP"}]},
                ],
            ),
            "POST /v1/events/{event_id}/holds": (
                f"/v1/events/{event_id}/holds",
                [
                    {"items": [{"ticket_type_id": general, "quantity": 1}], "code": "FANCLUB"},
                    {"seats": ["101-A-1"]},
                    {
                        "best_available": {
                            "ticket_type_id": self.event.reserved,
                            "quantity": 2,
                            "section": "101",
                        }
                    },
                ],
            ),
            "POST /v1/venue/events/{event_id}/codes": (
                f"/v1/venue/events/{event_id}/codes",
                [
                    {
                        "code": "FANCLUB2",
                        "kind": "presale",
                        "unlocks": ["RES"],
                        "applies_to": ["GA"],
                        "valid_from": moment(datetime.timedelta(minutes=-1)),
                        "valid_until": moment(datetime.timedelta(days=1)),
                        "discount": {"percent": 10},
                    },
                    {
                        "generate": 2,
                        "prefix": "PRESS",
                        "kind": "discount",
                        "discount": {"percent": 5},
                    },
                ],
            ),
            "POST /v1/venue/events/{event_id}/inventory": (
                f"/v1/venue/events/{event_id}/inventory",
                [
                    {"block": {"seats": ["101-A-3"], "reason": "kill"}},
                    {"unblock": {"seats": ["101-A-3"]}},
                    {"withhold": {"ticket_type_id": general, "quantity": 1, "reason": "press"}},
                    {"release": {"ticket_type_id": general, "quantity": 1, "reason": "press"}},
                    {"add_capacity": {"ticket_type_id": general, "quantity": 1}},
                    {"price": {"ticket_type_id": general, "price_cents": 5000}},
                ],
            ),
            "PATCH /v1/venue/events/{event_id}/codes/{code_id}": (
                f"/v1/venue/events/{event_id}/codes/{self.code_id}",
                [{"active": True}],
            ),
            "POST /v1/events/{event_id}/wait-list": (
                f"/v1/events/{event_id}/wait-list",
                [{"quantity": 1, "ticket_type_id": general}],
            ),
            "POST /v1/events/{event_id}/queue": (
                f"/v1/events/{event_id}/queue",
                [{"code": "FANCLUB"}],
            ),
            "POST /v1/orders/{order_id}/refund": (
                f"/v1/orders/{self.paid_order_id}/refund",
                [
                    {"reason": "the fan cannot come"},
                    {"reason": "one cannot come", "ticket_ids": [self.ticket_id]},
                ],
            ),
            "POST /v1/orders/{order_id}/refund-request": (
                f"/v1/orders/{self.paid_order_id}/refund-request",
                [{"reason": "cannot come on the new date"}],
            ),
            "POST /v1/venue/events/{event_id}/cancel": (
                f"/v1/venue/events/{event_id}/cancel",
                [{"reason": "the artist is ill"}],
            ),
            "POST /v1/venue/events/{event_id}/postpone": (
                f"/v1/venue/events/{event_id}/postpone",
                [
                    {
                        "starts_at": moment(datetime.timedelta(days=60)),
                        "ends_at": moment(datetime.timedelta(days=60, hours=3)),
                        "refund_until": moment(datetime.timedelta(days=50)),
                    }
                ],
            ),
            "POST /v1/dev/orders/{order_id}/pay": (
                f"/v1/dev/orders/{self.pending_order_id}/pay",
                [{"card": VISA}],
            ),
            "POST /v1/tickets/{ticket_id}/transfer": (
                f"/v1/tickets/{self.ticket_id}/transfer",
                [
                    {"to_user_id": "a-friend", "to_tenant_id": str(uuid.uuid4())},
                    {"to_email": "a-friend@example.com"},
                ],
            ),
            "POST /v1/scan": (
                "/v1/scan",
                [
                    {
                        "event_id": event_id,
                        "payload": self.code,
                        "device_id": "gate-1",
                        "zone": "GA",
                        "direction": "out",
                    }
                ],
            ),
            "POST /v1/venue/events/{event_id}/offline-scans": (
                f"/v1/venue/events/{event_id}/offline-scans",
                [
                    {
                        "device_id": "gate-1",
                        "scans": [
                            {
                                "payload": self.code,
                                "scanned_at": scanned_at,
                                "zone": "GA",
                                "direction": "in",
                            }
                        ],
                    }
                ],
            ),
            "POST /v1/venue/devices": (
                "/v1/venue/devices",
                [{"name": "North gate", "event_ids": [event_id], "zones": ["GA"]}],
            ),
            "POST /v1/venue/events/{event_id}/comps": (
                f"/v1/venue/events/{event_id}/comps",
                [
                    {
                        "to_user_id": "a-reviewer",
                        "to_tenant_id": str(uuid.uuid4()),
                        "reason": "press",
                        "items": [{"ticket_type_id": general, "quantity": 1}],
                        "source": "on_sale",
                        "email": "reviewer@example.com",
                        "note": "for the review",
                    },
                    {"to_user_id": "a-reviewer", "reason": "press", "seats": ["101-A-2"]},
                    {"to_email": "reviewer@example.com", "reason": "press", "seats": ["101-A-3"]},
                ],
            ),
            "POST /v1/venue/tickets/{ticket_id}/lock": (
                f"/v1/venue/tickets/{self.ticket_id}/lock",
                [{"reason": "fraud"} | note],
            ),
            "POST /v1/venue/tickets/{ticket_id}/unlock": (
                f"/v1/venue/tickets/{self.ticket_id}/unlock",
                [note],
            ),
            "POST /v1/venue/tickets/{ticket_id}/reissue": (
                f"/v1/venue/tickets/{self.ticket_id}/reissue",
                [note],
            ),
        }

    async def rows(self) -> dict[str, list[str]]:
        """Every row of the venue's tenant in Postgres, but those background work writes."""
        connection = await asyncpg.connect(self.stack.parts.database_url)
        try:
            tables = [row["table_name"] for row in await connection.fetch(TENANT_TABLES)]
            return {
                table: sorted(
                    row["line"]
                    for row in await connection.fetch(
                        f"SELECT to_jsonb(t)::text AS line FROM {table} t WHERE tenant_id = $1",
                        self.tenant_id,
                    )
                )
                for table in tables
                if table not in BACKGROUND_TABLES
            }
        finally:
            await connection.close()


async def open_sale(stack: Stack) -> Sale:
    """An event on sale, a fan (who is also its venue) with a paid order and a pending one."""
    tenant_id = uuid.uuid4()
    fan_user_id = f"fan-{uuid.uuid4().hex[:10]}"
    token = stack.token(user_id=fan_user_id, tenant_id=tenant_id, roles=ALL_ROLES)
    event = await create_event(stack, token)
    fan = Fan(stack, event)
    fan.user_id, fan.tenant_id, fan.token = fan_user_id, tenant_id, token
    sale = Sale(stack, event, fan)
    paid = await fan.buy(2)
    sale.paid_order_id = paid["order_id"]
    sale.ticket_id = paid["tickets"][0]["ticket_id"]
    sale.code = await code_of(fan, sale.ticket_id)
    sale.pending_order_id = (await fan.checkout(await fan.hold(1)))["order_id"]
    async with fan.client() as client:
        made = await client.post(
            f"/v1/venue/events/{event.event_id}/codes",
            json={"code": "FANCLUB", "kind": "discount", "discount": {"percent": 10}},
        )
    assert made.status_code == 201, made.text
    sale.code_id = made.json()["code_id"]
    return sale


async def openapi(stack: Stack) -> dict[str, Any]:
    async with stack.client() as client:
        answer = await client.get("/openapi.json")
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def assert_refused(answer: httpx.Response, field: str | None, what: str) -> None:
    assert answer.status_code == 422, (what, answer.text)
    assert error_code(answer) == "VALIDATION_ERROR", (what, answer.text)
    if field is not None:
        assert answer.json()["error"]["details"].get("field") == field, (what, answer.text)


async def test_walk_reaches_every_text_and_the_moment_range_is_published_when_reading_openapi(
    stack: Stack,
) -> None:
    operations = body_operations(await openapi(stack))
    names = {
        f"{operation.method.upper()} {operation.path}": {
            field_name(field.path) for field in operation.fields
        }
        for operation in operations
    }
    texts = [field for operation in operations for field in operation.fields]
    moments = [field for field in texts if field.moment]

    assert len(operations) >= BODY_OPERATIONS_MIN, sorted(names)
    assert len(texts) >= TEXT_FIELDS_MIN, names
    assert len(moments) >= MOMENT_FIELDS_MIN, names
    assert {"onsale.opens_at", "ticket_types[0].name", "seatmap.sections[0].rows[0].id"} <= names[
        "POST /v1/venue/events"
    ]
    assert {"seats[0]", "best_available.section"} <= names["POST /v1/events/{event_id}/holds"]
    assert "scans[0].scanned_at" in names["POST /v1/venue/events/{event_id}/offline-scans"]
    published = (
        f"from {format_moment(limits.MOMENT_MS_MIN)} to {format_moment(limits.MOMENT_MS_MAX)}"
    )
    assert all(published in field.description for field in moments), moments


async def test_every_text_with_nul_and_moment_out_of_range_is_refused_when_sent_in_any_body(
    stack: Stack,
) -> None:
    document = await openapi(stack)
    operations = body_operations(document)
    sale = await open_sale(stack)
    targets = sale.targets()
    unreached: list[str] = []
    visited_texts = visited_moments = 0

    assert {f"{op.method.upper()} {op.path}" for op in operations} == set(targets)
    async with sale.client() as client:
        for operation in operations:
            label = f"{operation.method.upper()} {operation.path}"
            path, bodies = targets[label]
            validator = jsonschema_rs.validator_for(
                operation.schema | {"components": document["components"]}
            )
            for body in bodies:
                assert validator.is_valid(body), (label, body)
            before = await sale.rows()
            for field in operation.fields:
                name = field_name(field.path)
                body = next(
                    (body for body in bodies if value_at(body, field.path) is not None), None
                )
                if body is None:
                    unreached.append(f"{label} {name}")
                    continue
                what = f"{label} {name}"
                with_escaped_nul = with_value(
                    body, field.path, with_nul(value_at(body, field.path))
                )
                answer = await client.request(operation.method, path, json=with_escaped_nul)
                assert_refused(answer, name, f"{what} escaped NUL")
                raw = json.dumps(with_escaped_nul).encode().replace(b"\\u0000", NUL.encode())
                answer = await client.request(
                    operation.method, path, content=raw, headers={"content-type": JSON_MEDIA}
                )
                assert_refused(answer, None, f"{what} raw NUL")
                visited_texts += 1
                if field.moment:
                    for out_of_range in MOMENTS_OUT_OF_RANGE:
                        changed = with_value(body, field.path, out_of_range)
                        answer = await client.request(operation.method, path, json=changed)
                        assert_refused(answer, name, f"{what} {out_of_range}")
                    visited_moments += 1
            key = "colo" + NUL + "ur"
            answer = await client.request(operation.method, path, json=bodies[0] | {key: "red"})
            assert_refused(answer, key, f"{label} key with NUL")
            assert await sale.rows() == before, label

    assert not unreached, unreached
    assert visited_texts >= TEXT_FIELDS_MIN and visited_moments >= MOMENT_FIELDS_MIN


async def test_text_is_kept_as_sent_when_it_holds_a_backslash_before_u0000(stack: Stack) -> None:
    name = "Night \\u0000 One"
    async with stack.client(stack.token(roles=(Role.VENUE_MANAGER,))) as client:
        created = await client.post("/v1/venue/events", json=event_body() | {"name": name})
        assert created.status_code == 201, created.text
        CREATED_EVENT_IDS.append(created.json()["event_id"])
        read = await client.get(f"/v1/venue/events/{created.json()['event_id']}")
    assert read.status_code == 200 and read.json()["name"] == name, read.text


async def test_event_keeps_its_moments_and_sells_when_they_are_the_edges_of_the_range(
    stack: Stack,
) -> None:
    earliest = format_moment(limits.MOMENT_MS_MIN)
    latest = format_moment(limits.MOMENT_MS_MAX)
    body = event_body()
    body.update(starts_at=earliest, ends_at=latest)
    body["onsale"].update(opens_at="1970-01-01T01:00:00+01:00", closes_at=latest)
    token = stack.token(roles=(Role.VENUE_MANAGER,))
    async with stack.client(token) as client:
        created = await client.post("/v1/venue/events", json=body)
        assert created.status_code == 201, created.text
        CREATED_EVENT_IDS.append(created.json()["event_id"])
        event = CreatedEvent(stack, token, created.json())
        read = await client.get(f"/v1/venue/events/{event.event_id}")
        patched = await client.patch(
            f"/v1/venue/events/{event.event_id}",
            json={"onsale": {"closes_at": "9999-12-31T23:59:59.999-00:00"}},
        )
    await Fan(stack, event).hold(1)

    assert read.status_code == 200, read.text
    shown = read.json()
    assert (shown["starts_at"], shown["ends_at"]) == (earliest, latest)
    assert (shown["onsale"]["opens_at"], shown["onsale"]["closes_at"]) == (earliest, latest)
    assert patched.status_code == 200, patched.text
    assert patched.json()["onsale"]["closes_at"] == latest


async def test_nul_is_refused_without_a_server_error_when_sent_in_a_path_or_query_parameter(
    stack: Stack,
) -> None:
    """A path parameter holding NUL, or bytes that are no UTF-8, names nothing: NOT_FOUND (or,
    where the route reads its body first, the empty body's VALIDATION_ERROR). Such a query
    parameter is a VALIDATION_ERROR naming it, on a real event of the caller's tenant."""
    document = await openapi(stack)
    token = stack.token(roles=ALL_ROLES)
    event = await create_event(stack, token)
    path_parameters = query_parameters = 0
    async with stack.client(token) as client:
        for template, methods in document["paths"].items():
            for method, operation in methods.items():
                parameters = operation.get("parameters", [])
                names = [item["name"] for item in parameters if item["in"] == "path"]
                real = {name: str(uuid.uuid4()) for name in names} | (
                    {"event_id": event.event_id} if "event_id" in names else {}
                )
                expected = (404, 422) if "requestBody" in operation else (404,)
                queries = [item["name"] for item in parameters if item["in"] == "query"]
                for refused in REFUSED_PARAMETER_TEXTS:
                    for name in names:
                        path = template.format_map(real | {name: refused})
                        answer = await client.request(method, path, json={})
                        assert answer.status_code in expected, (method, path, answer.text)
                        assert error_code(answer) in ("NOT_FOUND", "VALIDATION_ERROR")
                        path_parameters += 1
                    for name in queries:
                        path = f"{template.format_map(real)}?{name}={refused}"
                        answer = await client.request(method, path)
                        assert_refused(answer, None, f"{method} {path}")
                        assert answer.json()["error"]["details"]["parameter"] == name, path
                        query_parameters += 1

    assert path_parameters >= 40 and query_parameters >= 12, (path_parameters, query_parameters)
