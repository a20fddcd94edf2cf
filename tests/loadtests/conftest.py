"""The load tests' runs drive the HTTP tests' stack: one app served for the session."""

from tests.gateway.conftest import outside, retire_created_events, stack

__all__ = ["outside", "retire_created_events", "stack"]
