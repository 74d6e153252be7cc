"""Alembic migrations, run in-process; on PostgreSQL under an advisory lock (replicas race)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from storage.db import CONNECT_TIMEOUT, Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any constant will do; it only has to be the same for every replica.
MIGRATION_LOCK_KEY = 0x646F7567  # "doug"


def target_metadata() -> list[MetaData]:
    """Every table the migrations own: ours, and those of any store kept in our database."""
    from storage.installations import STORE_METADATA
    from storage.models import Base

    return [Base.metadata, STORE_METADATA]


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to `revision`."""
    if not db.is_postgres:
        async with db.writer():
            await _upgrade_on(db.engine, revision, lock=False)
        return
    # Its own engine, without the request engine's command timeout: waiting for another
    # replica's migration, or a long one, is fine here. Only connecting is bounded.
    engine = create_async_engine(
        db.url, poolclass=NullPool, connect_args={"timeout": CONNECT_TIMEOUT}
    )
    try:
        await _upgrade_on(engine, revision, lock=True)
    finally:
        await engine.dispose()


async def _upgrade_on(engine: AsyncEngine, revision: str, *, lock: bool) -> None:
    async with engine.connect() as conn:
        if lock:
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            await conn.commit()
        try:
            await conn.run_sync(_upgrade, revision)
            await conn.commit()
        finally:
            if lock:
                await conn.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
                await conn.commit()


def _upgrade(sync_connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = sync_connection
    command.upgrade(config, revision)
