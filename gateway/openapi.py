"""The OpenAPI document at `/openapi.json`, generated from the routes' table and their Structs.

FastAPI cannot see msgspec Structs, so each operation is declared once here: its body, its answers
and the errors it can give. A route added without a row here is missing from the contract, and a
test compares this table with the app's routes.
"""

import re
from typing import Any

import msgspec

from gateway.errors import ERROR_TABLE, ErrorCode, ErrorEnvelope
from gateway.schemas import (
    CreatedEventView,
    CreateEventBody,
    EventView,
    HoldBody,
    HoldView,
    PatchEventBody,
    QueueView,
    SeatmapView,
    StatsView,
    VenueEventList,
    VenueEventView,
)

API_VERSION = "1"
BEARER = "bearer"
SSE = "text/event-stream"
COMMON_ERRORS = (
    ErrorCode.UNAUTHENTICATED,
    ErrorCode.RATE_LIMITED,
    ErrorCode.UNAVAILABLE,
)
PATH_PARAMETER = re.compile(r"{([a-z_]+)}")


class Operation(msgspec.Struct, frozen=True, kw_only=True):
    method: str
    path: str
    summary: str
    answer_status: int
    answer: type | None
    body: type | None = None
    errors: tuple[ErrorCode, ...] = ()
    idempotent: bool = False
    access_token: bool = False
    stream: bool = False
    authenticated: bool = True


VENUE = (ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND)
OPERATIONS: tuple[Operation, ...] = (
    Operation(
        method="post",
        path="/v1/venue/events",
        summary="Create an event with its ticket types, seat map and on-sale settings",
        answer_status=201,
        answer=CreatedEventView,
        body=CreateEventBody,
        errors=(ErrorCode.FORBIDDEN, ErrorCode.VALIDATION_ERROR, ErrorCode.IDEMPOTENCY_CONFLICT),
        idempotent=True,
    ),
    Operation(
        method="get",
        path="/v1/venue/events",
        summary="List the tenant's events",
        answer_status=200,
        answer=VenueEventList,
        errors=(ErrorCode.FORBIDDEN,),
    ),
    Operation(
        method="get",
        path="/v1/venue/events/{event_id}",
        summary="Read one of the tenant's events",
        answer_status=200,
        answer=VenueEventView,
        errors=VENUE,
    ),
    Operation(
        method="patch",
        path="/v1/venue/events/{event_id}",
        summary="Pause or resume the sale, or change the admission rate",
        answer_status=200,
        answer=VenueEventView,
        body=PatchEventBody,
        errors=(*VENUE, ErrorCode.VALIDATION_ERROR),
    ),
    Operation(
        method="get",
        path="/v1/venue/events/{event_id}/stats",
        summary="The sale's live figures",
        answer_status=200,
        answer=StatsView,
        errors=VENUE,
    ),
    Operation(
        method="get",
        path="/v1/venue/events/{event_id}/stats/stream",
        summary="The sale's live figures as server-sent events, one each second",
        answer_status=200,
        answer=StatsView,
        errors=VENUE,
        stream=True,
    ),
    Operation(
        method="get",
        path="/v1/events/{event_id}",
        summary="An event with its ticket types and what is available",
        answer_status=200,
        answer=EventView,
        errors=(ErrorCode.NOT_FOUND,),
    ),
    Operation(
        method="get",
        path="/v1/events/{event_id}/seatmap",
        summary="Every seat of the event, available or not",
        answer_status=200,
        answer=SeatmapView,
        errors=(ErrorCode.NOT_FOUND,),
    ),
    Operation(
        method="post",
        path="/v1/events/{event_id}/queue",
        summary="Join the waiting room (joining again returns the same place)",
        answer_status=200,
        answer=QueueView,
        errors=(ErrorCode.NOT_FOUND, ErrorCode.VALIDATION_ERROR),
    ),
    Operation(
        method="get",
        path="/v1/events/{event_id}/queue/{queue_id}",
        summary="Your place in the waiting room, and your access token once admitted",
        answer_status=200,
        answer=QueueView,
        errors=(ErrorCode.NOT_FOUND,),
    ),
    Operation(
        method="post",
        path="/v1/events/{event_id}/holds",
        summary="Hold general admission, named seats or the best available seats",
        answer_status=201,
        answer=HoldView,
        body=HoldBody,
        errors=(
            ErrorCode.VALIDATION_ERROR,
            ErrorCode.NOT_FOUND,
            ErrorCode.SALE_NOT_OPEN,
            ErrorCode.NOT_ADMITTED,
            ErrorCode.SOLD_OUT,
            ErrorCode.SEAT_UNAVAILABLE,
            ErrorCode.LIMIT_EXCEEDED,
            ErrorCode.IDEMPOTENCY_CONFLICT,
        ),
        idempotent=True,
        access_token=True,
    ),
    Operation(
        method="get",
        path="/v1/holds/{hold_id}",
        summary="Your hold, in whatever state it is",
        answer_status=200,
        answer=HoldView,
        errors=(ErrorCode.NOT_FOUND,),
    ),
    Operation(
        method="delete",
        path="/v1/holds/{hold_id}",
        summary="Release your hold; its inventory is available again at once",
        answer_status=204,
        answer=None,
        errors=(ErrorCode.NOT_FOUND, ErrorCode.HOLD_EXPIRED),
    ),
    Operation(
        method="get",
        path="/health",
        summary="200 while the process runs",
        answer_status=200,
        answer=None,
        authenticated=False,
    ),
    Operation(
        method="get",
        path="/health/ready",
        summary="200 when Postgres, Redis and Ray answer, else 503 naming what failed",
        answer_status=200,
        answer=None,
        errors=(ErrorCode.UNAVAILABLE,),
        authenticated=False,
    ),
    Operation(
        method="get",
        path="/metrics",
        summary="Prometheus metrics",
        answer_status=200,
        answer=None,
        authenticated=False,
    ),
)


def _reference(struct: type) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{struct.__name__}"}


def _json_content(struct: type) -> dict[str, Any]:
    return {"application/json": {"schema": _reference(struct)}}


def _parameters(operation: Operation) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in PATH_PARAMETER.findall(operation.path)
    ]
    if operation.idempotent:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
                "description": "Replays the first response for 24 h; another body is a conflict.",
            }
        )
    if operation.access_token:
        parameters.append(
            {
                "name": "X-Access-Token",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "The waiting room's access token; required when the room is on.",
            }
        )
    return parameters


def _responses(operation: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if operation.answer is None:
        responses[str(operation.answer_status)] = {"description": operation.summary}
    elif operation.stream:
        responses[str(operation.answer_status)] = {
            "description": "`data:` lines, each one StatsView as JSON",
            "content": {SSE: {"schema": {"type": "string"}}},
        }
    else:
        responses[str(operation.answer_status)] = {
            "description": operation.summary,
            "content": _json_content(operation.answer),
        }
    errors = (*COMMON_ERRORS, *operation.errors) if operation.authenticated else operation.errors
    if operation.body is not None or operation.path.count("{"):
        errors = (*errors, ErrorCode.VALIDATION_ERROR)
    by_status: dict[int, list[str]] = {}
    for code in dict.fromkeys(errors):
        by_status.setdefault(ERROR_TABLE[code][0], []).append(code.value)
    for status, codes in sorted(by_status.items()):
        responses[str(status)] = {
            "description": " or ".join(codes),
            "content": _json_content(ErrorEnvelope),
        }
    return responses


def openapi_document() -> dict[str, Any]:
    structs = {
        struct
        for operation in OPERATIONS
        for struct in (operation.body, operation.answer)
        if struct is not None
    }
    _, components = msgspec.json.schema_components(
        sorted([*structs, ErrorEnvelope], key=lambda struct: struct.__name__),
        ref_template="#/components/schemas/{name}",
    )
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        entry: dict[str, Any] = {
            "summary": operation.summary,
            "operationId": f"{operation.method}_{operation.path}",
            "parameters": _parameters(operation),
            "responses": _responses(operation),
        }
        if operation.body is not None:
            entry["requestBody"] = {"required": True, "content": _json_content(operation.body)}
        if operation.authenticated:
            entry["security"] = [{BEARER: []}]
        paths.setdefault(operation.path, {})[operation.method] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "On-sale API", "version": API_VERSION},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
