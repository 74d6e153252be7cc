"""Storage: SQLite's settings, and migrations that replicas may run at the same time."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from sqlalchemy import text

from storage.db import Database
from storage.migrate import upgrade
from tests.conftest import POSTGRES_ADMIN_URL, _admin


async def test_sqlite_runs_in_wal_with_normal_sync_and_a_busy_timeout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'pragmas.db'}")
    try:
        async with db.engine.connect() as conn:
            journal = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
            synchronous = (await conn.execute(text("PRAGMA synchronous"))).scalar()
            busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar()
            foreign_keys = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
    finally:
        await db.dispose()
    assert (journal, synchronous, foreign_keys) == ("wal", 1, 1)  # 1 is NORMAL
    assert busy >= 1000


async def test_replicas_upgrading_at_once_do_not_race(backend: str) -> None:
    if backend == "sqlite":
        pytest.skip("replicas share PostgreSQL; SQLite is one process")
    name = f"doughnut_race_{secrets.token_hex(3)}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url += f"/{name}"
    replicas = [Database(url) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(db) for db in replicas))
        async with replicas[0].engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    finally:
        for db in replicas:
            await db.dispose()
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert len(versions) == 1
