"""The HTTP tests take the session's stack from tests/conftest.py, and the persistence tests'
database fixtures from theirs."""

from tests.persistence.conftest import migrated_database_url, owner_connection, service_pool

__all__ = ["migrated_database_url", "owner_connection", "service_pool"]
