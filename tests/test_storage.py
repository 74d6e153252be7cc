"""Storage: SQLite's settings and single writer, one process per SQLite file, PostgreSQL's
timeouts, and migrations that replicas may run at the same time."""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
import sys
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import storage.db
from storage.db import Database, DatabaseInUse, WriterBusy, claim_sqlite_file
from storage.migrate import MIGRATION_LOCK_KEY, upgrade
from tests.conftest import POSTGRES_ADMIN_URL, _admin


async def test_sqlite_runs_in_wal_with_normal_sync(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'pragmas.db'}")
    try:
        async with db.engine.connect() as conn:
            journal = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
            synchronous = (await conn.execute(text("PRAGMA synchronous"))).scalar()
            foreign_keys = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
    finally:
        await db.dispose()
    assert (journal, synchronous, foreign_keys) == ("wal", 1, 1)  # 1 is NORMAL


async def test_a_sqlite_write_waits_out_another_process_without_stopping_the_loop(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)  # e.g. the sqlite3 shell
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        async with db.transaction() as session:
            await session.execute(text("CREATE TABLE t (x INTEGER)"))
        other.execute("BEGIN IMMEDIATE")
        asyncio.get_running_loop().call_later(0.3, other.execute, "ROLLBACK")
        async with db.transaction() as session:  # waits for the other process's lock
            await session.execute(text("INSERT INTO t VALUES (1)"))
        other.execute("BEGIN IMMEDIATE")  # and now holds it for longer than a write waits
        with pytest.raises(OperationalError) as gave_up:
            async with db.transaction() as session:
                await session.execute(text("INSERT INTO t VALUES (2)"))
        other.execute("ROLLBACK")
        async with db.reading() as session:
            stored = (await session.execute(text("SELECT x FROM t"))).scalars().all()
    finally:
        ticker.cancel()
        other.close()
        await db.dispose()
    assert stored == [1]
    assert "database is locked" in str(gave_up.value)
    assert ticks >= 50  # the loop went on while both writes waited (0.3 s + 1 s)


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


# ---- SQLite: one writer at a time, in this process --------------------------------------------


async def test_sqlite_writers_queue_before_taking_a_connection_and_readers_do_not(
    db: Database,
) -> None:
    if not db.is_sqlite:
        pytest.skip("PostgreSQL has no single writer")
    async with db.writer():
        waiting = [asyncio.create_task(db.request_session(wait=5)) for _ in range(20)]
        await asyncio.sleep(0.05)  # let them all queue
        # Queued writers hold no pooled connection, so readers still get one at once.
        checked_out = db.engine.pool.checkedout()  # type: ignore[attr-defined]
        async with db.reading() as session:
            read = (await session.execute(text("SELECT count(*) FROM workspaces"))).scalar()
        # Every writer is bounded: the outbox's and the scheduler's too.
        with pytest.raises(WriterBusy):
            async with db.transaction(wait=0.05):
                pass
        with pytest.raises(WriterBusy):
            await db.request_session(wait=0.05)
    # Released: the queued writers take turns, each in its own write transaction.
    finished = 0
    for task in waiting:
        session = await task
        await session.execute(
            text("INSERT INTO workspaces (install_key, is_enterprise_install, created_at) "
                 "VALUES (:key, false, CURRENT_TIMESTAMP)"),
            {"key": f"T{finished}"},
        )  # fmt: skip
        await session.commit()
        await session.close()
        finished += 1
    assert (checked_out, read, finished) == (0, 0, 20)


async def test_sqlite_request_bursts_never_meet_sqlites_lock(db: Database) -> None:
    """200 concurrent request transactions: none waits on SQLite's busy timeout or fails."""
    if not db.is_sqlite:
        pytest.skip("SQLite's single writer")

    async def write(n: int) -> None:
        session = await db.request_session(wait=30)
        try:
            await session.execute(
                text("INSERT INTO workspaces (install_key, is_enterprise_install, created_at) "
                     "VALUES (:key, false, CURRENT_TIMESTAMP)"),
                {"key": f"T{n}"},
            )  # fmt: skip
            await session.commit()
        finally:
            await session.close()

    outcomes = await asyncio.gather(*(write(n) for n in range(200)), return_exceptions=True)
    async with db.reading() as session:
        stored = (await session.execute(text("SELECT count(*) FROM workspaces"))).scalar()
    assert [o for o in outcomes if o is not None] == []
    assert stored == 200


# ---- the single-process guard -----------------------------------------------------------------


def test_a_sqlite_file_is_served_by_one_process_at_a_time(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'one.db'}"
    first = claim_sqlite_file(url)
    assert first is not None
    with pytest.raises(DatabaseInUse) as refused:
        claim_sqlite_file(url)
    first.release()
    again = claim_sqlite_file(url)
    assert again is not None
    again.release()
    message = str(refused.value)
    assert f"pid {os.getpid()}" in message and "one.db" in message and "\n" not in message
    # Nothing to guard: PostgreSQL replicas, a database in memory.
    assert claim_sqlite_file("postgresql+asyncpg://u@127.0.0.1/d") is None
    assert claim_sqlite_file("sqlite+aiosqlite:///:memory:") is None


async def test_a_second_doughnut_run_on_the_same_sqlite_file_refuses_in_one_line(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'served.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DOUGHNUT_"))}
    env |= {
        "DATABASE_URL": url,
        "SLACK_BOT_TOKEN": "xoxb-local-test",
        "SLACK_SIGNING_SECRET": "local-test-secret",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "DOUGHNUT_PORT": "0",
        "LOG_LEVEL": "WARNING",
    }
    claim = claim_sqlite_file(url)  # the first process (this one) serves the file
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        assert claim is not None
        claim.release()
    lines = err.decode().strip().splitlines()
    assert proc.returncode != 0
    assert len(lines) == 1 and "another Doughnut process" in lines[0]
    assert not (tmp_path / "served.db").exists()  # it stopped before touching the database


# ---- PostgreSQL: server-side timeouts only in request transactions ----------------------------


async def test_request_transactions_alone_carry_statement_and_lock_timeouts(
    db: Database,
) -> None:
    if not db.is_postgres:
        pytest.skip("PostgreSQL's settings")
    show = text("SELECT current_setting('statement_timeout'), current_setting('lock_timeout')")
    session = await db.request_session()
    try:
        in_request = (await session.execute(show)).one()
    finally:
        await session.close()
    async with db.transaction() as session:  # the outbox's and the scheduler's
        in_background = (await session.execute(show)).one()
    async with db.engine.connect() as conn:  # whatever the pool hands out next
        pooled = (await conn.execute(show)).one()
    assert tuple(in_request) == ("1s", "500ms")
    assert tuple(in_background) == tuple(pooled) == ("0", "0")


async def test_a_migration_waits_for_another_replicas_longer_than_any_request_may(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend == "sqlite":
        pytest.skip("replicas share PostgreSQL")
    monkeypatch.setattr(storage.db, "COMMAND_TIMEOUT", 0.2)  # so the test need not wait long
    name = f"doughnut_wait_{secrets.token_hex(3)}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    holder = await asyncpg.connect(url)
    db = Database(url.replace("postgresql://", "postgresql+asyncpg://"))
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        migrating = asyncio.create_task(upgrade(db))
        # A request's statement that waited as long would have been cut off.
        with pytest.raises(TimeoutError):
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT pg_sleep(0.6)"))
        assert not migrating.done()
        await holder.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        await asyncio.wait_for(migrating, timeout=60)
        async with db.engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    finally:
        await holder.close()
        await db.dispose()
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert len(versions) == 1
