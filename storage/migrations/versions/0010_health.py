"""community health: indexes for the period queries of /doughnut stats

Revision ID: 0010_health
Revises: 0009
Create Date: 2026-11-30 13:00:00

Each health figure set reads one community's rows over a period. Lessons by community lead
the rest: their reviews and reuses are found through the lesson (`lesson_id` indexes), which
measured 5 to 20 times faster than an index on the workspace and the instant (that one reads
every community's rows of the period); gaps closed and proposals answered, by community and
time. See bench/health.py.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_health"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("lessons", "ix_lessons_community_id_created_at", ["community_id", "created_at"]),
    ("gaps", "ix_gaps_community_id_closed_at", ["community_id", "closed_at"]),
    ("proposals", "ix_proposals_community_id_decided_at", ["community_id", "decided_at"]),
)


# 0009 rebuilt the lessons table on SQLite (a foreign key added in batch mode), which drops the
# full-text triggers 0005 made: search then stops seeing new or edited lessons. Made again
# here (the same as 0005's), and the index rebuilt for lessons written without them.
FTS_COLUMNS = ("title", "tags", "next_time", "expected", "happened", "why", "project")
_COLUMNS = ", ".join(FTS_COLUMNS)
_NEW = ", ".join("new." + c for c in FTS_COLUMNS)
_OLD = ", ".join("old." + c for c in FTS_COLUMNS)
SQLITE_FTS_TRIGGERS = [
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
    # Plain CREATE INDEX (no batch): nothing here may rebuild a table on SQLite.
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    for table, name, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
