"""A venue's codes for an event (venue_manager, admin): make one, or a generated batch of
single-use codes; list them with their tallies; turn one off or on again.

Codes are added and switched through the event's InventoryActor, which decides every use, so a
code turned off stops new uses at once. Every route is fenced to the caller's tenant.
"""

import secrets
import uuid

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine import limits
from engine.commands import AddCodes, ChangeCode
from engine.inventory.codes import CodeDefinition, CodeKind
from engine.outcomes import CodesView
from engine.rejections import Rejected
from gateway.auth import Principal
from gateway.code_schemas import (
    CodeList,
    CreateCodeBody,
    GeneratedCodesView,
    GeneratedCodeView,
    PatchCodeBody,
)
from gateway.code_views import code_view, discount_view, moment_or_none
from gateway.cursors import decode_text, encode_text, page_limit
from gateway.errors import ApiError, ErrorCode, rejection_error
from gateway.exchange import (
    VENUE_ROLES,
    answer_once,
    authenticate,
    decode_body,
    invalid,
    json_response,
    path_id,
    read_body,
)
from gateway.routes.holds import engine_key
from gateway.routes.venue import tenant_event
from gateway.state import gateway_state
from persistence.code_reads import StoredCode, list_codes
from persistence.event_details import EventDetails
from persistence.event_repository import milliseconds_of
from persistence.tenancy import tenant_transaction

router = APIRouter()
CREATE_DECODER = msgspec.json.Decoder(CreateCodeBody)
PATCH_DECODER = msgspec.json.Decoder(PatchCodeBody)
# Generated codes: the prefix, a dash, then random characters that no one misreads (no 0/O, 1/I).
GENERATED_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GENERATED_CHARACTERS = 10
GENERATED_SEPARATOR = "-"


def ticket_type_ids(details: EventDetails, keys: list[str], field: str) -> tuple[str, ...]:
    ids = {ticket_type.key: ticket_type.ticket_type_id for ticket_type in details.ticket_types}
    unknown = [key for key in keys if key not in ids]
    if unknown:
        raise invalid("name ticket types of this event by key", field=field, keys=unknown)
    return tuple(dict.fromkeys(ids[key] for key in keys))


def generated_text(prefix: str | None) -> str:
    random_part = "".join(secrets.choice(GENERATED_ALPHABET) for _ in range(GENERATED_CHARACTERS))
    return random_part if prefix is None else f"{prefix}{GENERATED_SEPARATOR}{random_part}"


def new_codes(details: EventDetails, body: CreateCodeBody) -> tuple[CodeDefinition, ...]:
    """The codes a body makes, after the checks its types cannot express."""
    if (body.code is None) == (body.generate is None):
        raise invalid("give exactly one of code or generate", field="code")
    if body.prefix is not None and body.generate is None:
        raise invalid("a prefix is for generated codes", field="prefix")
    if body.code is not None and not body.code.isprintable():
        raise invalid("a code is printable characters", field="code")
    discount = body.discount
    if discount is not None and (discount.percent is None) == (discount.amount_cents is None):
        raise invalid("a discount is a percent or an amount_cents", field="discount")
    if body.kind is CodeKind.DISCOUNT and discount is None:
        raise invalid("a discount code needs a discount", field="discount")
    if body.kind is CodeKind.PRESALE and body.valid_from is None:
        raise invalid("a presale code opens from its valid_from", field="valid_from")
    if body.unlocks and body.kind is not CodeKind.PRESALE:
        raise invalid("only a presale code unlocks ticket types", field="unlocks")
    valid_from_ms = None if body.valid_from is None else milliseconds_of(body.valid_from)
    valid_until_ms = None if body.valid_until is None else milliseconds_of(body.valid_until)
    if valid_from_ms is not None and valid_until_ms is not None and valid_until_ms <= valid_from_ms:
        raise invalid("valid_until must be after valid_from", field="valid_until")
    if body.generate is not None and body.max_uses not in (None, 1):
        raise invalid("generated codes are single-use", field="max_uses")
    terms = CodeDefinition(
        code_id="",
        code="",
        kind=body.kind,
        unlocks=ticket_type_ids(details, body.unlocks, "unlocks"),
        applies_to=ticket_type_ids(details, body.applies_to, "applies_to"),
        valid_from_ms=valid_from_ms,
        valid_until_ms=valid_until_ms,
        max_uses=1 if body.generate is not None else body.max_uses,
        max_uses_per_fan=body.max_uses_per_fan,
        discount_percent=None if discount is None else discount.percent,
        discount_amount_cents=None if discount is None else discount.amount_cents,
    )
    texts = (
        [body.code]
        if body.code is not None
        else list({generated_text(body.prefix): None for _ in range(body.generate or 0)})
    )
    return tuple(
        msgspec.structs.replace(terms, code_id=str(uuid.uuid4()), code=text) for text in texts
    )


def created_view(details: EventDetails, outcome: CodesView, generated: bool) -> msgspec.Struct:
    views = [
        code_view(details, StoredCode(definition=code, uses=uses, held=held))
        for code, uses, held in zip(outcome.codes, outcome.uses, outcome.held, strict=True)
    ]
    if not generated:
        return views[0]
    first = views[0]
    terms = outcome.codes[0]
    return GeneratedCodesView(
        codes=[GeneratedCodeView(code_id=view.code_id, code=view.code) for view in views],
        kind=first.kind,
        unlocks=first.unlocks,
        applies_to=first.applies_to,
        valid_from=moment_or_none(terms.valid_from_ms),
        valid_until=moment_or_none(terms.valid_until_ms),
        max_uses=1,
        max_uses_per_fan=first.max_uses_per_fan,
        discount=discount_view(terms),
        active=first.active,
        uses=sum(view.uses for view in views),
        held=sum(view.held for view in views),
    )


async def add_codes(
    request: Request, principal: Principal, details: EventDetails, body: CreateCodeBody
) -> Response:
    codes = new_codes(details, body)
    if body.generate is not None and len(codes) != body.generate:
        raise ApiError(ErrorCode.UNAVAILABLE, message="generated codes collided; retry")
    command = AddCodes(
        new_codes=codes,
        idempotency_key=engine_key(principal, "codes", request.headers.get("idempotency-key")),
    )
    client = gateway_state(request).clients.inventory(details.location.event_id)
    result = await client.execute(command)
    if isinstance(result, Rejected):
        raise rejection_error(result)
    assert isinstance(result, CodesView), result
    return json_response(created_view(details, result, body.generate is not None), status=201)


@router.post("/v1/venue/events/{event_id}/codes")
async def create_codes(request: Request, event_id: str) -> Response:
    principal = await authenticate(request, *VENUE_ROLES)
    details = await tenant_event(request, principal, event_id)
    raw_body = await read_body(request)

    async def produce() -> Response:
        return await add_codes(request, principal, details, decode_body(raw_body, CREATE_DECODER))

    return await answer_once(request, principal, raw_body, produce)


@router.get("/v1/venue/events/{event_id}/codes")
async def read_codes(request: Request, event_id: str) -> Response:
    """A page of the event's codes, each with `uses` (paid) and `held` (live holds)."""
    principal = await authenticate(request, *VENUE_ROLES)
    details = await tenant_event(request, principal, event_id)
    limit = page_limit(
        request.query_params.get("limit"),
        default=limits.CODES_LISTED_PER_PAGE_DEFAULT,
        maximum=limits.CODES_LISTED_PER_PAGE_MAX,
    )
    cursor = request.query_params.get("cursor")
    after_key = "" if cursor is None else decode_text(cursor)
    location = details.location
    pool = gateway_state(request).database_pool
    async with tenant_transaction(pool, location.tenant_id) as connection:
        stored = await list_codes(
            connection, event_id=location.event_id, after_key=after_key, limit=limit + 1
        )
    page = stored[:limit]
    next_cursor = encode_text(page[-1].definition.key) if len(stored) > limit else None
    return json_response(
        CodeList(codes=[code_view(details, code) for code in page], next_cursor=next_cursor)
    )


@router.patch("/v1/venue/events/{event_id}/codes/{code_id}")
async def change_code(request: Request, event_id: str, code_id: str) -> Response:
    """Turn a code off (or on again) through the event's InventoryActor: at once for new holds."""
    principal = await authenticate(request, *VENUE_ROLES)
    details = await tenant_event(request, principal, event_id)
    code_uuid = path_id(code_id)
    body = decode_body(await read_body(request), PATCH_DECODER)
    location = details.location
    client = gateway_state(request).clients.inventory(location.event_id)
    result = await client.execute(ChangeCode(code_id=str(code_uuid), active=body.active))
    if isinstance(result, Rejected):
        raise rejection_error(result)
    assert isinstance(result, CodesView), result
    stored = StoredCode(definition=result.codes[0], uses=result.uses[0], held=result.held[0])
    return json_response(code_view(details, stored))
