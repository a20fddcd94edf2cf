"""Actor tests use the persistence fixtures: a migrated database, its owner and the service pool."""

from tests.persistence.conftest import migrated_database_url, owner_connection, service_pool

__all__ = ["migrated_database_url", "owner_connection", "service_pool"]
