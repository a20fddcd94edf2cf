"""Migrations apply once, in order, each in its own transaction, and refuse a changed history."""

import asyncio
import os
import pathlib
import shutil
import sys

import asyncpg
import pytest

from persistence.migrate import MIGRATIONS_DIRECTORY, MigrationError, migrate, read_migrations

ALL_MIGRATION_NAMES = [migration.name for migration in read_migrations()]

SELECT_CATALOG = """
SELECT 'column' AS kind,
       table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' '
           || coalesce(column_default, '') AS description
FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL
SELECT 'constraint', conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'index', indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'policy', tablename || ' ' || policyname || ' ' || coalesce(qual, '') || ' '
           || coalesce(with_check, '')
FROM pg_policies WHERE schemaname = 'public'
UNION ALL
SELECT 'row security', relname || ' ' || relrowsecurity::text || ' ' || relforcerowsecurity::text
FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
UNION ALL
SELECT 'grant', table_name || ' ' || grantee || ' ' || privilege_type
FROM information_schema.role_table_grants WHERE table_schema = 'public'
UNION ALL
SELECT 'trigger', tgrelid::regclass::text || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal
ORDER BY 1, 2
"""


async def catalog_of(url: str) -> list[tuple[str, str]]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(SELECT_CATALOG)
        return [(row["kind"], row["description"]) for row in rows]
    finally:
        await connection.close()


async def applied_names_of(url: str) -> list[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT name FROM schema_migrations ORDER BY name")
        return [row["name"] for row in rows]
    finally:
        await connection.close()


def copy_of_migrations(tmp_path: pathlib.Path) -> pathlib.Path:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIRECTORY, directory)
    return directory


async def test_second_run_applies_nothing_and_changes_no_catalog_when_migrations_run_twice(
    empty_database_url: str,
) -> None:
    first = await migrate(empty_database_url)
    catalog_after_first = await catalog_of(empty_database_url)
    second = await migrate(empty_database_url)

    assert first == ALL_MIGRATION_NAMES
    assert second == []
    assert len(catalog_after_first) > 100
    assert await catalog_of(empty_database_url) == catalog_after_first
    assert await applied_names_of(empty_database_url) == ALL_MIGRATION_NAMES


async def test_every_migration_applies_exactly_once_when_two_starters_race(
    empty_database_url: str,
) -> None:
    first, second = await asyncio.gather(migrate(empty_database_url), migrate(empty_database_url))

    assert sorted([first, second]) == [[], ALL_MIGRATION_NAMES]
    assert await applied_names_of(empty_database_url) == ALL_MIGRATION_NAMES


async def test_every_migration_applies_exactly_once_when_two_processes_start_together(
    empty_database_url: str,
) -> None:
    starters = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "onsale.cli",
            "migrate",
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "DATABASE_URL": empty_database_url},
        )
        for _ in range(2)
    ]
    outputs = [await starter.communicate() for starter in starters]

    assert [starter.returncode for starter in starters] == [0, 0]
    lines = sorted(line for stdout, _ in outputs for line in stdout.decode().splitlines())
    assert lines == sorted(
        [f"applied {name}" for name in ALL_MIGRATION_NAMES] + ["schema is up to date"]
    )
    assert await applied_names_of(empty_database_url) == ALL_MIGRATION_NAMES


async def test_start_is_refused_when_an_applied_migration_file_changed(
    empty_database_url: str, tmp_path: pathlib.Path
) -> None:
    directory = copy_of_migrations(tmp_path)
    await migrate(empty_database_url, directory=directory)
    changed = directory / ALL_MIGRATION_NAMES[1]
    changed.write_text(changed.read_text() + "\nCREATE TABLE sneaked_in (id integer);\n")

    with pytest.raises(MigrationError, match=f"{ALL_MIGRATION_NAMES[1]} changed"):
        await migrate(empty_database_url, directory=directory)

    connection = await asyncpg.connect(empty_database_url)
    try:
        assert await connection.fetchval("SELECT to_regclass('sneaked_in')") is None
    finally:
        await connection.close()


async def test_start_is_refused_when_an_applied_migration_file_is_missing(
    empty_database_url: str, tmp_path: pathlib.Path
) -> None:
    directory = copy_of_migrations(tmp_path)
    await migrate(empty_database_url, directory=directory)
    (directory / ALL_MIGRATION_NAMES[-1]).unlink()

    with pytest.raises(MigrationError, match="its file is missing"):
        await migrate(empty_database_url, directory=directory)


async def test_start_is_refused_when_a_new_file_sorts_before_an_applied_one(
    empty_database_url: str, tmp_path: pathlib.Path
) -> None:
    directory = copy_of_migrations(tmp_path)
    await migrate(empty_database_url, directory=directory)
    (directory / "0000_late_arrival.sql").write_text("CREATE TABLE late_arrival (id integer);\n")

    with pytest.raises(MigrationError, match="renumber"):
        await migrate(empty_database_url, directory=directory)


async def test_failed_migration_leaves_no_trace_when_its_sql_raises(
    empty_database_url: str, tmp_path: pathlib.Path
) -> None:
    directory = copy_of_migrations(tmp_path)
    broken = directory / "0999_broken.sql"
    broken.write_text("CREATE TABLE half_done (id integer);\nSELECT 1 / 0;\n")

    with pytest.raises(asyncpg.DivisionByZeroError):
        await migrate(empty_database_url, directory=directory)

    assert await applied_names_of(empty_database_url) == ALL_MIGRATION_NAMES
    connection = await asyncpg.connect(empty_database_url)
    try:
        assert await connection.fetchval("SELECT to_regclass('half_done')") is None
    finally:
        await connection.close()

    broken.write_text("CREATE TABLE half_done (id integer);\n")
    assert await migrate(empty_database_url, directory=directory) == ["0999_broken.sql"]
