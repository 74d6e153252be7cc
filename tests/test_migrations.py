"""Migrations: one head, and the models and the migrations agree on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from storage.db import Database
from storage.migrate import alembic_config, target_metadata
from storage.models.lessons import include_name, include_object


def test_the_migrations_have_a_single_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several Alembic heads: {heads}; merge them"


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_server_default": True,
            "compare_type": True,
            # The full-text index is the migration's own (FTS5 table, tsvector column).
            "include_name": include_name,
            "include_object": include_object,
        },
    )
    return list(compare_metadata(context, target_metadata()))


async def test_the_migrated_schema_matches_the_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        differences = await conn.run_sync(_differences)
    assert differences == [], "models and migrations differ; write a migration"
