"""The `price_phases` column of a ticket type: the engine's phases as JSON text, written when an
event is created or a type's sale changes, and read back as the same phases.

The format is the engine's `PricePhase` as msgspec encodes it; a new field of a phase is a new key.
"""

import msgspec

from engine.price_phases import PricePhase

PRICE_PHASES_ENCODER = msgspec.json.Encoder()
PRICE_PHASES_DECODER = msgspec.json.Decoder(tuple[PricePhase, ...])


def price_phases_json(phases: tuple[PricePhase, ...]) -> str:
    """The `price_phases` column's text: the engine's phases, as persistence reads them back."""
    return PRICE_PHASES_ENCODER.encode(phases).decode()


def price_phases_from_json(text: str) -> tuple[PricePhase, ...]:
    return PRICE_PHASES_DECODER.decode(text)
