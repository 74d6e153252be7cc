"""peer assists: a requester is told once per (request, lesson) that a matching lesson was validated

Revision ID: 0010_assists
Revises: 0009
Create Date: 2026-11-30 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_assists"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.Integer().with_variant(sa.BigInteger(), "postgresql")

# 0008 and 0009 altered `lessons` in batch mode, which on SQLite rebuilds the table and drops its
# triggers: the full-text index stopped following the lessons (search found nothing new). Put the
# triggers of 0005 back (IF NOT EXISTS: harmless where they are) and rebuild the index.
FTS_COLUMNS = ("title", "tags", "next_time", "expected", "happened", "why", "project")
_COLUMNS = ", ".join(FTS_COLUMNS)
SQLITE_FTS_TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS lessons_fts_insert AFTER INSERT ON lessons BEGIN
        INSERT INTO lessons_fts(rowid, {_COLUMNS})
        VALUES (new.id, {", ".join("new." + c for c in FTS_COLUMNS)});
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS lessons_fts_delete AFTER DELETE ON lessons BEGIN
        INSERT INTO lessons_fts(lessons_fts, rowid, {_COLUMNS})
        VALUES ('delete', old.id, {", ".join("old." + c for c in FTS_COLUMNS)});
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS lessons_fts_update AFTER UPDATE OF {_COLUMNS} ON lessons
    BEGIN
        INSERT INTO lessons_fts(lessons_fts, rowid, {_COLUMNS})
        VALUES ('delete', old.id, {", ".join("old." + c for c in FTS_COLUMNS)});
        INSERT INTO lessons_fts(rowid, {_COLUMNS})
        VALUES (new.id, {", ".join("new." + c for c in FTS_COLUMNS)});
    END""",
    "INSERT INTO lessons_fts(lessons_fts) VALUES ('rebuild')",
]


def upgrade() -> None:
    op.create_table(
        "assist_lesson_notices",
        sa.Column("assist_id", ID, nullable=False),
        sa.Column("lesson_id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assist_id"],
            ["peer_assists.id"],
            name=op.f("fk_assist_lesson_notices_assist_id_peer_assists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lessons.id"],
            name=op.f("fk_assist_lesson_notices_lesson_id_lessons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_assist_lesson_notices_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assist_id", "lesson_id", name=op.f("pk_assist_lesson_notices")),
    )
    with op.batch_alter_table("assist_lesson_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assist_lesson_notices_workspace_id"), ["workspace_id"], unique=False
        )
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table("assist_lesson_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assist_lesson_notices_workspace_id"))
    op.drop_table("assist_lesson_notices")
