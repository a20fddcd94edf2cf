"""Postgres, the source of truth: the pool, migrations, repositories, group commit and the outbox.

Nothing here imports Ray, FastAPI or the gateway; `asyncpg.Record` never leaves this package.
"""
