"""The `onsale` command as an operator uses it: `onsale migrate` against a configured database."""

import asyncio
import subprocess
import sys

import asyncpg
import pytest

from onsale.cli import main
from persistence.migrate import MIGRATIONS_DIRECTORY


async def applied_names(database_url: str) -> list[str]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch("select name from schema_migrations order by name")
        return [row["name"] for row in rows]
    finally:
        await connection.close()


def test_migrate_applies_every_migration_then_nothing_when_run_twice(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    all_names = sorted(path.name for path in MIGRATIONS_DIRECTORY.glob("*.sql"))

    assert main(["migrate"]) == 0
    assert capsys.readouterr().out.split() == [word for n in all_names for word in ("applied", n)]
    assert asyncio.run(applied_names(empty_database_url)) == all_names

    assert main(["migrate"]) == 0
    assert "schema is up to date" in capsys.readouterr().out


async def corrupt_recorded_checksum(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "update schema_migrations set checksum = 'edited' "
            "where name = (select min(name) from schema_migrations)"
        )
    finally:
        await connection.close()


def test_migrate_exits_with_1_when_an_applied_migration_changed(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    assert main(["migrate"]) == 0
    asyncio.run(corrupt_recorded_checksum(empty_database_url))

    assert main(["migrate"]) == 1
    assert "changed after it was applied" in capsys.readouterr().err


def test_command_line_loads_without_ray_so_up_can_keep_ray_on_the_loopback() -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import sys, onsale.cli; print('ray' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert finished.stdout.strip() == "False"
