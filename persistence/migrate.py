"""The schema's history: numbered, forward-only SQL files in migrations/, applied once each.

Each file runs in its own transaction under one advisory lock, so concurrent starters apply it
exactly once; its checksum is recorded, and a start refuses to go on if an applied file changed.
Never edit an applied file: add the next number.
"""

import hashlib
import pathlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

MIGRATIONS_DIRECTORY = pathlib.Path(__file__).resolve().parent / "migrations"
MIGRATION_FILE_PATTERN = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# The advisory lock key every starter takes: the bytes of "onsale:m" read as a signed 64-bit int.
MIGRATION_LOCK_KEY = int.from_bytes(b"onsale:m", "big", signed=True)


class MigrationError(RuntimeError):
    """The recorded history and the files disagree; starting would corrupt the schema."""


@dataclass(frozen=True, kw_only=True)
class Migration:
    name: str
    sql: str
    checksum: str


def read_migrations(directory: pathlib.Path = MIGRATIONS_DIRECTORY) -> list[Migration]:
    """The migration files in order, each with the sha256 of its bytes."""
    migrations: list[Migration] = []
    numbers: set[str] = set()
    for path in sorted(directory.glob("*.sql")):
        match = MIGRATION_FILE_PATTERN.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name} is not named NNNN_lowercase_words.sql")
        if match.group(1) in numbers:
            raise MigrationError(f"two migrations are numbered {match.group(1)}")
        numbers.add(match.group(1))
        content = path.read_bytes()
        migrations.append(
            Migration(
                name=path.name,
                sql=content.decode("utf-8"),
                checksum=hashlib.sha256(content).hexdigest(),
            )
        )
    return migrations


CREATE_SCHEMA_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""

SELECT_APPLIED = "SELECT name, checksum FROM schema_migrations ORDER BY name"

INSERT_APPLIED = "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)"


def pending_migrations(
    migrations: Sequence[Migration], applied_checksums: dict[str, str]
) -> list[Migration]:
    """The files not yet applied, after checking every applied one is present and unchanged."""
    files_by_name = {migration.name: migration for migration in migrations}
    for name, checksum in applied_checksums.items():
        migration = files_by_name.get(name)
        if migration is None:
            raise MigrationError(f"{name} was applied but its file is missing")
        if migration.checksum != checksum:
            raise MigrationError(
                f"{name} changed after it was applied (recorded sha256 {checksum}, "
                f"file sha256 {migration.checksum}); add a new migration instead"
            )
    pending = [migration for migration in migrations if migration.name not in applied_checksums]
    if applied_checksums and pending and pending[0].name < max(applied_checksums):
        raise MigrationError(
            f"{pending[0].name} sorts before the applied {max(applied_checksums)}; renumber it"
        )
    return pending


async def migrate(owner_url: str, *, directory: pathlib.Path = MIGRATIONS_DIRECTORY) -> list[str]:
    """Apply every pending migration as the owner and return the names applied, in order."""
    migrations = read_migrations(directory)
    connection = await asyncpg.connect(owner_url)
    try:
        # A session lock: it is held across the per-file transactions and released when the
        # connection closes, whatever happened.
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        await connection.execute(CREATE_SCHEMA_MIGRATIONS)
        rows = await connection.fetch(SELECT_APPLIED)
        applied_checksums = {row["name"]: row["checksum"] for row in rows}
        applied_now: list[str] = []
        for migration in pending_migrations(migrations, applied_checksums):
            async with connection.transaction():
                await connection.execute(migration.sql)
                await connection.execute(INSERT_APPLIED, migration.name, migration.checksum)
            applied_now.append(migration.name)
        return applied_now
    finally:
        await connection.close()
