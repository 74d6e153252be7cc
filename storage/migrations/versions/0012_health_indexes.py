"""community health: indexes for the period queries of /doughnut stats

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 13:00:00

Each health figure set reads one community's rows over a period. Lessons by community lead
the rest: their reviews and reuses are found through the lesson (`lesson_id` indexes), which
measured 5 to 20 times faster than an index on the workspace and the instant (that one reads
every community's rows of the period); gaps closed and proposals answered, by community and
time. See bench/health.py.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("lessons", "ix_lessons_community_id_created_at", ["community_id", "created_at"]),
    ("gaps", "ix_gaps_community_id_closed_at", ["community_id", "closed_at"]),
    ("proposals", "ix_proposals_community_id_decided_at", ["community_id", "decided_at"]),
)


def upgrade() -> None:
    # Plain CREATE INDEX (no batch): nothing here may rebuild a table on SQLite.
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, name, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
