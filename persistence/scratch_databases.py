"""Databases made for one run and dropped after it: each test session's, each benchmark's. A name
is a prefix and random hex, so runs on one server never meet; the drop forces out whatever is
still connected."""

import secrets

import asyncpg

from persistence.dsn import database_name, with_database
from persistence.migrate import migrate

NAME_RANDOM_BYTES = 6


async def create_database(server_url: str, prefix: str) -> str:
    """A new empty database on the server of `server_url`; its URL."""
    name = f"{prefix}_{secrets.token_hex(NAME_RANDOM_BYTES)}"
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return with_database(server_url, name)


async def create_migrated_database(server_url: str, prefix: str) -> str:
    """A new database with every migration applied; its owner URL."""
    url = await create_database(server_url, prefix)
    await migrate(url)
    return url


async def drop_database(server_url: str, url: str) -> None:
    """Drop the database `url` names, whoever is still connected to it."""
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')
    finally:
        await connection.close()
