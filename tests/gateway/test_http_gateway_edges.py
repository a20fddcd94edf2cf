"""The gateway's edges: ids are read in their canonical form only (in paths, queries and cursors),
a wrong method is answered with the methods that are allowed, and production serves no
interactive docs."""

import base64
import uuid

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from gateway.app import create_app
from gateway.cursors import decode_position, decode_ticket_id, encode_position
from gateway.errors import ApiError, ErrorCode
from gateway.settings import Environment, Settings
from persistence.tickets import TicketPosition
from tests.gateway.http_journeys import Fan, create_event, error_code
from tests.gateway.stack import Stack


def other_forms(canonical: str) -> dict[str, str]:
    """Texts `uuid.UUID` reads as the same id, none of them in the canonical form."""
    digit_at = next(index for index, character in enumerate(canonical) if character.isdigit())
    arabic_indic = chr(0x0660 + int(canonical[digit_at]))
    return {
        "braces": f"{{{canonical}}}",
        "urn": f"urn:uuid:{canonical}",
        "no hyphens": canonical.replace("-", ""),
        "arabic-indic digit": canonical[:digit_at] + arabic_indic + canonical[digit_at + 1 :],
    }


def encoded_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


async def test_not_found_when_a_path_names_an_event_or_a_hold_in_another_form_than_canonical(
    stack: Stack,
) -> None:
    event = await create_event(stack, general_capacity=5)
    fan = Fan(stack, event)
    hold_id = await fan.hold(1)
    async with fan.client() as client:
        events = {
            form: await client.get(f"/v1/events/{text}")
            for form, text in other_forms(event.event_id).items()
        }
        holds = {
            form: await client.get(f"/v1/holds/{text}")
            for form, text in other_forms(hold_id).items()
        }
        upper_event = await client.get(f"/v1/events/{event.event_id.upper()}")
        upper_hold = await client.get(f"/v1/holds/{hold_id.upper()}")

    for answer in [*events.values(), *holds.values()]:
        assert (answer.status_code, error_code(answer)) == (404, "NOT_FOUND"), answer.url
    assert upper_event.status_code == 200, upper_event.text
    assert (upper_hold.status_code, upper_hold.json()["hold_id"]) == (200, hold_id)


async def test_validation_error_when_a_listing_names_its_event_in_another_form_than_canonical(
    stack: Stack,
) -> None:
    event = await create_event(stack, general_capacity=5)
    async with stack.client(stack.token()) as fan:
        others = [
            await fan.get("/v1/me/tickets", params={"event_id": text})
            for text in other_forms(event.event_id).values()
        ]
        canonical = await fan.get("/v1/me/tickets", params={"event_id": event.event_id})

    for answer in others:
        assert (answer.status_code, error_code(answer)) == (422, "VALIDATION_ERROR")
    assert (canonical.status_code, canonical.json()["tickets"]) == (200, [])


def test_cursor_is_malformed_when_it_names_a_ticket_in_another_form_than_canonical() -> None:
    ticket_id = uuid.uuid4()
    cursors = [
        (decode, cursor)
        for text in other_forms(str(ticket_id)).values()
        for decode, cursor in (
            (decode_position, encoded_cursor(f"17.{text}")),
            (decode_ticket_id, encoded_cursor(text)),
        )
    ]
    for decode, cursor in cursors:
        with pytest.raises(ApiError) as raised:
            decode(cursor)
        assert raised.value.code is ErrorCode.VALIDATION_ERROR
    position = TicketPosition(issued_at_us=17, ticket_id=ticket_id)

    assert decode_position(encode_position(position)) == position
    assert decode_ticket_id(encoded_cursor(str(ticket_id).upper())) == ticket_id


async def test_method_not_allowed_names_every_method_of_the_path_when_the_method_is_wrong(
    stack: Stack,
) -> None:
    async with stack.client(stack.token()) as fan:
        on_a_hold = await fan.put(f"/v1/holds/{uuid.uuid4()}")
        on_the_hot_route = await fan.get(f"/v1/events/{uuid.uuid4()}/holds")

    assert (on_a_hold.status_code, error_code(on_a_hold)) == (405, "METHOD_NOT_ALLOWED")
    assert on_a_hold.headers["allow"] == "DELETE, GET"
    assert (on_the_hot_route.status_code, error_code(on_the_hot_route)) == (
        405,
        "METHOD_NOT_ALLOWED",
    )
    assert on_the_hot_route.headers["allow"] == "POST"


async def test_interactive_docs_are_served_when_the_environment_is_not_production(
    stack: Stack,
) -> None:
    async with stack.client() as client:
        answers = [await client.get(path) for path in ("/docs", "/redoc")]

    assert [answer.status_code for answer in answers] == [200, 200]


async def test_interactive_docs_are_absent_when_the_environment_is_production(
    stack: Stack,
) -> None:
    public_key = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    settings = Settings(environment=Environment.PRODUCTION, jwt_public_key=public_key)
    app = create_app(settings, stack.parts)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        docs, redoc, document = [
            await client.get(path) for path in ("/docs", "/redoc", "/openapi.json")
        ]

    assert (docs.status_code, error_code(docs)) == (404, "NOT_FOUND")
    assert (redoc.status_code, error_code(redoc)) == (404, "NOT_FOUND")
    assert document.status_code == 200
