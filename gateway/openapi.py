"""The OpenAPI document at `/openapi.json`, generated from the operations' rows and their Structs.

The rows are in gateway/operations.py, gateway/code_operations.py,
gateway/ticket_operations.py, gateway/desk_operations.py and
gateway/venue_tool_operations.py; a test compares them with
the app's routes.
"""

import re
from typing import Any

import msgspec

from engine import limits
from gateway.code_operations import CODE_OPERATIONS
from gateway.code_schemas import GeneratedCodesView
from gateway.desk_operations import DESK_OPERATIONS
from gateway.errors import ERROR_TABLE, ErrorCode, ErrorEnvelope
from gateway.operations import SALE_OPERATIONS, Operation
from gateway.stock_operations import STOCK_OPERATIONS
from gateway.ticket_operations import TICKET_OPERATIONS
from gateway.venue_tool_operations import VENUE_TOOL_OPERATIONS
from notifications.venue_webhooks import SIGNATURE_HEADER, WebhookBody

API_VERSION = "1"
BEARER = "bearer"
SSE = "text/event-stream"
JSON_MEDIA = "application/json"
COMMON_ERRORS = (
    ErrorCode.UNAUTHENTICATED,
    ErrorCode.RATE_LIMITED,
    ErrorCode.UNAVAILABLE,
)
PATH_PARAMETER = re.compile(r"{([a-z_]+)}")
# A request of these methods may carry a body, which is refused once over its route's limit.
BODY_METHODS = frozenset({"post", "put", "patch"})
VENUE_WEBHOOK = "venue_webhook"
OPERATIONS = (
    *SALE_OPERATIONS,
    *CODE_OPERATIONS,
    *STOCK_OPERATIONS,
    *TICKET_OPERATIONS,
    *DESK_OPERATIONS,
    *VENUE_TOOL_OPERATIONS,
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
    parameters.extend(
        {
            "name": query.name,
            "in": "query",
            "required": False,
            "schema": query.schema,
            "description": query.description,
        }
        for query in operation.query
    )
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
    if operation.media_type != JSON_MEDIA:
        responses[str(operation.answer_status)] = {
            "description": operation.summary,
            "content": {operation.media_type: {"schema": {"type": "string"}}},
        }
    elif operation.answer is None:
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
    for status, answer in operation.also_answers:
        responses[str(status)] = {
            "description": answer.__doc__ or answer.__name__,
            "content": _json_content(answer),
        }
    errors = (*COMMON_ERRORS, *operation.errors) if operation.authenticated else operation.errors
    if operation.body is not None or operation.path.count("{"):
        errors = (*errors, ErrorCode.VALIDATION_ERROR)
    if operation.method in BODY_METHODS:
        errors = (*errors, ErrorCode.PAYLOAD_TOO_LARGE)
    by_status: dict[int, list[str]] = {}
    for code in dict.fromkeys(errors):
        by_status.setdefault(ERROR_TABLE[code][0], []).append(code.value)
    for status, codes in sorted(by_status.items()):
        responses[str(status)] = {
            "description": " or ".join(codes),
            "content": _json_content(ErrorEnvelope),
        }
    return responses


SIGNATURE_TOLERANCE_S = limits.WEBHOOK_SIGNATURE_TOLERANCE_MS // limits.MILLISECONDS_PER_SECOND


def _webhooks() -> dict[str, Any]:
    """What the platform sends to a venue's `webhook_url`: OpenAPI 3.1's outgoing requests."""
    return {
        VENUE_WEBHOOK: {
            "post": {
                "summary": "An order of the event was confirmed, failed, expired or was refunded, "
                "or one of its tickets was transferred",
                "operationId": VENUE_WEBHOOK,
                "parameters": [
                    {
                        "name": SIGNATURE_HEADER,
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^t=[0-9]+,v1=[0-9a-f]{64}$"},
                        "description": 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" '
                        "keyed with the event's webhook_secret>; refuse a t more than "
                        f"{SIGNATURE_TOLERANCE_S} s from now. The body's id is "
                        "the same on every delivery of one notification.",
                    }
                ],
                "requestBody": {"required": True, "content": _json_content(WebhookBody)},
                "responses": {
                    "200": {
                        "description": "Any 2xx acknowledges it. Network errors, 429 and 5xx "
                        "are retried with backoff; any other answer is final."
                    }
                },
            }
        }
    }


def openapi_document() -> dict[str, Any]:
    structs = {
        struct
        for operation in OPERATIONS
        for struct in (
            operation.body,
            None if operation.media_type != JSON_MEDIA else operation.answer,
            *(answer for _, answer in operation.also_answers),
        )
        if struct is not None
    }
    _, components = msgspec.json.schema_components(
        sorted(
            [*structs, GeneratedCodesView, ErrorEnvelope, WebhookBody],
            key=lambda struct: struct.__name__,
        ),
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
            entry["requestBody"] = {
                "required": operation.body_required,
                "content": _json_content(operation.body),
            }
        if operation.authenticated:
            entry["security"] = [{BEARER: []}]
        paths.setdefault(operation.path, {})[operation.method] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "On-sale API", "version": API_VERSION},
        "paths": paths,
        "webhooks": _webhooks(),
        "components": {
            "schemas": components,
            "securitySchemes": {
                BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
