"""gaps: put back the SQLite full-text triggers of lessons that 0009 dropped

Revision ID: 0010_gaps
Revises: 0009
Create Date: 2026-11-30 12:45:00

0009 adds foreign keys to `lessons`; on SQLite Alembic's batch mode does that by copying the
table, and the copy loses the triggers that keep `lessons_fts` in step (0005): new lessons were
no longer found by search, nor could a gap find the lesson that answers it. This puts the
triggers back (if missing) and rebuilds the index from the lessons. PostgreSQL's generated
column is untouched by 0009: nothing to do there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_gaps"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0005 (the order bm25() weights them in storage/lessons.py).
FTS_COLUMNS = ("title", "tags", "next_time", "expected", "happened", "why", "project")
_COLUMNS = ", ".join(FTS_COLUMNS)
_NEW = ", ".join("new." + c for c in FTS_COLUMNS)
_OLD = ", ".join("old." + c for c in FTS_COLUMNS)

TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS lessons_fts_insert AFTER INSERT ON lessons BEGIN
        INSERT INTO lessons_fts(rowid, {_COLUMNS}) VALUES (new.id, {_NEW});
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS lessons_fts_delete AFTER DELETE ON lessons BEGIN
        INSERT INTO lessons_fts(lessons_fts, rowid, {_COLUMNS}) VALUES ('delete', old.id, {_OLD});
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS lessons_fts_update AFTER UPDATE OF {_COLUMNS} ON lessons
    BEGIN
        INSERT INTO lessons_fts(lessons_fts, rowid, {_COLUMNS}) VALUES ('delete', old.id, {_OLD});
        INSERT INTO lessons_fts(rowid, {_COLUMNS}) VALUES (new.id, {_NEW});
    END""",
    "INSERT INTO lessons_fts(lessons_fts) VALUES ('rebuild')",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    pass  # the triggers belong to 0005, which drops them on its own downgrade
