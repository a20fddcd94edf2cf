"""A database migrated up to, not including, one migration: the rows a migration test writes
before running that migration on them."""

import pathlib
import shutil

from persistence.migrate import MIGRATIONS_DIRECTORY


def migrations_before(tmp_path: pathlib.Path, migration: str) -> pathlib.Path:
    """A directory holding copies of every migration that sorts before `migration`."""
    directory = tmp_path / "migrations"
    directory.mkdir()
    for path in sorted(MIGRATIONS_DIRECTORY.glob("*.sql")):
        if path.name < migration:
            shutil.copy(path, directory / path.name)
    return directory
