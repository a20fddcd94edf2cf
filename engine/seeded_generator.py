"""A seeded random generator for the engine's simulations and benchmarks.

SplitMix64, written here so the engine needs no `random`: a seed gives the same draws on every
machine, so a failing seed replays exactly. Changing the arithmetic changes every seed's run.
"""

from collections.abc import Sequence
from typing import TypeVar

MASK_64_BITS = (1 << 64) - 1
Option = TypeVar("Option")


class SeededGenerator:
    """SplitMix64: small, fast, and identical on every machine for a given seed."""

    def __init__(self, seed: int) -> None:
        self.state = seed & MASK_64_BITS

    def next_word(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK_64_BITS
        word = self.state
        word = ((word ^ (word >> 30)) * 0xBF58476D1CE4E5B9) & MASK_64_BITS
        word = ((word ^ (word >> 27)) * 0x94D049BB133111EB) & MASK_64_BITS
        return word ^ (word >> 31)

    def below(self, bound: int) -> int:
        assert bound > 0
        return self.next_word() % bound

    def between(self, low: int, high: int) -> int:
        return low + self.below(high - low + 1)

    def choice(self, options: Sequence[Option]) -> Option:
        return options[self.below(len(options))]

    def chance(self, percent: int) -> bool:
        return self.below(100) < percent
