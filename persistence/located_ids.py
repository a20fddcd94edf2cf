"""Ids of holds (and later orders) that carry their event's directory number.

A fan reaches a hold by its id alone, but the hold's rows are fenced by the event's tenant. The
gateway mints each such id as a UUID of version 8 whose first 48 bits are the event's number in
`event_directory` and whose other 74 bits are random, so the id leads to its event without a
lookup table written per hold. An id that does not decode names nothing (NOT_FOUND).
"""

import secrets
import uuid

EVENT_NUMBER_BITS = 48
EVENT_NUMBER_MAX = (1 << EVENT_NUMBER_BITS) - 1
VERSION = 8
VARIANT = 0b10


def mint_located_id(event_number: int) -> str:
    assert 0 < event_number <= EVENT_NUMBER_MAX, event_number
    random_bits = secrets.randbits(74)
    value = (
        event_number << 80
        | VERSION << 76
        | (random_bits >> 62) << 64
        | VARIANT << 62
        | (random_bits & ((1 << 62) - 1))
    )
    return str(uuid.UUID(int=value))


def event_number_of(located_id: uuid.UUID) -> int | None:
    """The event number a located id carries; None for any other UUID."""
    if located_id.version != VERSION or located_id.variant != uuid.RFC_4122:
        return None
    number = located_id.int >> 80
    return number or None
