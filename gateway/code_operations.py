"""The operations of a venue's codes (API.md v1.1), one row each, as gateway/operations.py
declares the sale's."""

from engine import limits
from gateway.code_schemas import CodeList, CodeView, CreateCodeBody, PatchCodeBody
from gateway.errors import ErrorCode
from gateway.operations import VENUE, Operation, QueryParameter

CODES_CURSOR = QueryParameter(
    name="cursor",
    schema={"type": "string", "maxLength": limits.CODE_CURSOR_CHARACTERS_MAX},
    description="The `next_cursor` of the previous page; the first page without it.",
)
CODES_LIMIT = QueryParameter(
    name="limit",
    schema={"type": "integer", "minimum": 1, "maximum": limits.CODES_LISTED_PER_PAGE_MAX},
    description=f"Codes per page, {limits.CODES_LISTED_PER_PAGE_DEFAULT} when left out.",
)
CODE_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        method="post",
        path="/v1/venue/events/{event_id}/codes",
        summary=(
            "Make a presale or discount code, or `generate` up to "
            f"{limits.CODES_GENERATED_PER_REQUEST_MAX} single-use random codes at once (then "
            "the answer is GeneratedCodesView); codes are unique per event in any case"
        ),
        answer_status=201,
        answer=CodeView,
        body=CreateCodeBody,
        errors=(
            *VENUE,
            ErrorCode.VALIDATION_ERROR,
            ErrorCode.CODE_EXISTS,
            ErrorCode.IDEMPOTENCY_CONFLICT,
        ),
        idempotent=True,
    ),
    Operation(
        method="get",
        path="/v1/venue/events/{event_id}/codes",
        summary="The event's codes, each with `uses` (paid) and `held` (in live holds), in pages",
        answer_status=200,
        answer=CodeList,
        errors=(*VENUE, ErrorCode.VALIDATION_ERROR),
        query=(CODES_LIMIT, CODES_CURSOR),
    ),
    Operation(
        method="patch",
        path="/v1/venue/events/{event_id}/codes/{code_id}",
        summary="Turn a code off (or on again): new holds with it stop at once",
        answer_status=200,
        answer=CodeView,
        body=PatchCodeBody,
        errors=(*VENUE, ErrorCode.VALIDATION_ERROR),
    ),
)
