"""The wall clock in integer milliseconds, the time actors and their clients are handed by
default; tests hand in their own."""

import time


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000
