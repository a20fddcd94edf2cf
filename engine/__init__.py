"""The domain of an on-sale, pure and deterministic: no I/O, no Ray, no clock, no unseeded random.

Everything else in the project is a shell around this package. It may import only the standard
library, msgspec and itself (tests/test_architecture.py enforces it); time, ids and random sources
are passed in by the caller.
"""
