"""What a request body may hold beyond what its types say, so that nothing Postgres would refuse
gets past the gateway: no text holding NUL (U+0000), and no moment outside limits.MOMENT_MS_MIN
to MOMENT_MS_MAX once converted to UTC. Each check names the field at fault as msgspec's errors
do (`onsale.opens_at`, `scans[0].scanned_at`), and gateway.exchange.decode_body runs them on every
body. Another value Postgres refuses is checked here too, never in a route.
"""

import datetime
import functools

import msgspec

from engine import limits
from persistence.event_repository import milliseconds_of

NUL = "\x00"
# JSON writes a NUL in a text only as this escape; a raw NUL byte is not JSON at all.
NUL_ESCAPE = b"\\u0000"
BACKSLASH = ord("\\")
# The containers of msgspec.inspect whose items are all of one type, their `item_type`.
ITEMS_OF_ONE_TYPE = (
    msgspec.inspect.ListType,
    msgspec.inspect.VarTupleType,
    msgspec.inspect.SetType,
    msgspec.inspect.FrozenSetType,
)


def escapes_nul(body: bytes) -> bool:
    """Whether the JSON text `body` holds `\\u0000` as an escape, not as the text `\\\\u0000`.

    Its first step is a plain search for the six bytes, so a body without them costs one pass
    of `bytes.find`; each one found counts the backslashes before it (an even number, none
    included, leaves its own backslash unescaped), and those runs never overlap."""
    start = body.find(NUL_ESCAPE)
    while start != -1:
        run_start = start
        while run_start > 0 and body[run_start - 1] == BACKSLASH:
            run_start -= 1
        if (start - run_start) % 2 == 0:
            return True
        start = body.find(NUL_ESCAPE, start + 1)
    return False


def nul_path(body: bytes) -> str | None:
    """Where the first text holding NUL is in the JSON `body`, a key or a value; None when the
    body is not JSON, whose error then says so."""
    try:
        document = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return None
    pending: list[tuple[object, str]] = [(document, "")]
    while pending:
        value, path = pending.pop()
        if isinstance(value, str):
            if NUL in value:
                return path or None
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                inner = f"{path}.{key}" if path else key
                if NUL in key:
                    return inner
                pending.append((item, inner))
        elif isinstance(value, list):
            pending.extend(
                (item, f"{path}[{index}]") for index, item in reversed(list(enumerate(value)))
            )
    return None


def _may_hold_moment(info: msgspec.inspect.Type) -> bool:
    match info:
        case msgspec.inspect.DateTimeType():
            return True
        case msgspec.inspect.Metadata():
            return _may_hold_moment(info.type)
        case msgspec.inspect.StructType():
            return bool(moment_fields(info.cls))
        case msgspec.inspect.UnionType():
            return any(_may_hold_moment(member) for member in info.types)
        case msgspec.inspect.TupleType():
            return any(_may_hold_moment(item) for item in info.item_types)
        case msgspec.inspect.DictType():
            return _may_hold_moment(info.value_type)
        case _ if isinstance(info, ITEMS_OF_ONE_TYPE):
            return _may_hold_moment(info.item_type)
        case _:
            return False


@functools.cache
def moment_fields(struct: type[msgspec.Struct]) -> tuple[tuple[str, str], ...]:
    """The fields of `struct` that may hold a moment, as (attribute, name in the body); none for
    most bodies (a hold's), which then pay one cached look-up. No request Struct holds itself."""
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType), struct
    return tuple(
        (field.name, field.encode_name) for field in info.fields if _may_hold_moment(field.type)
    )


def moment_out_of_range(value: object, path: str = "") -> str | None:
    """Where the first moment in the decoded `value` outside the range is, if any."""
    if isinstance(value, msgspec.Struct):
        for attribute, name in moment_fields(type(value)):
            inner = f"{path}.{name}" if path else name
            found = moment_out_of_range(getattr(value, attribute), inner)
            if found is not None:
                return found
    elif isinstance(value, datetime.datetime):
        moment_ms = milliseconds_of(value)
        return None if limits.MOMENT_MS_MIN <= moment_ms <= limits.MOMENT_MS_MAX else path
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            found = moment_out_of_range(item, f"{path}[{index}]")
            if found is not None:
                return found
    elif isinstance(value, dict):
        for key, item in value.items():
            found = moment_out_of_range(item, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    return None
