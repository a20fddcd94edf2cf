"""The seeded draw that orders the pre-queue at opening: a splitmix64 generator and a Fisher-Yates
shuffle, both written out so that anyone holding the recorded seed can replay the order exactly.

The engine may not use the `random` module, whose algorithm may change between Python versions and
break replay. Changing this algorithm changes every recorded draw: keep the old one beside it.
"""

from __future__ import annotations

import array

SEED_MAX = (1 << 64) - 1
_MASK_64 = (1 << 64) - 1
_GOLDEN_GAMMA = 0x9E3779B97F4A7C15
_MIX_MULTIPLIER_1 = 0xBF58476D1CE4E5B9
_MIX_MULTIPLIER_2 = 0x94D049BB133111EB


class SplitMix64:
    """Sebastiano Vigna's splitmix64: a 64-bit state stepped by the golden gamma, then mixed."""

    __slots__ = ("_state",)

    def __init__(self, seed: int) -> None:
        assert 0 <= seed <= SEED_MAX, "seed must fit in 64 bits"
        self._state = seed

    def next_u64(self) -> int:
        self._state = (self._state + _GOLDEN_GAMMA) & _MASK_64
        mixed = self._state
        mixed = ((mixed ^ (mixed >> 30)) * _MIX_MULTIPLIER_1) & _MASK_64
        mixed = ((mixed ^ (mixed >> 27)) * _MIX_MULTIPLIER_2) & _MASK_64
        return mixed ^ (mixed >> 31)

    def below(self, bound: int) -> int:
        """A uniform integer in [0, bound): rejection removes the modulo bias of 2**64 % bound."""
        assert 0 < bound <= SEED_MAX
        rejected_below = (1 << 64) % bound
        value = self.next_u64()
        while value < rejected_below:
            value = self.next_u64()
        return value % bound


def draw_pre_queue_order(draw_seed: int, pre_queue_count: int) -> array.array[int]:
    """The pre-queue's join sequences in drawn order: element k is the fan at queue slot k.

    Fisher-Yates from the last element down, so every permutation is equally likely.
    """
    assert pre_queue_count >= 0
    generator = SplitMix64(draw_seed)
    order = array.array("i", range(pre_queue_count))
    below = generator.below
    for last in range(pre_queue_count - 1, 0, -1):
        chosen = below(last + 1)
        order[last], order[chosen] = order[chosen], order[last]
    return order
