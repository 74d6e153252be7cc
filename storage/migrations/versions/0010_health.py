"""community health: indexes for the period queries of /doughnut stats

Revision ID: 0010_health
Revises: 0009
Create Date: 2026-11-30 13:00:00

Each health figure set filters one community's (or workspace's) rows on one instant; these
indexes serve those that had none leading with it: lessons captured by community, review
decisions and reuses by workspace and time, helpers by time (active members), gaps closed and
proposals answered by community and time.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_health"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("lessons", "ix_lessons_community_id_created_at", ["community_id", "created_at"]),
    (
        "lesson_decisions",
        "ix_lesson_decisions_workspace_id_decided_at",
        ["workspace_id", "decided_at"],
    ),
    ("lesson_uses", "ix_lesson_uses_workspace_id_used_at", ["workspace_id", "used_at"]),
    (
        "assist_helpers",
        "ix_assist_helpers_workspace_id_updated_at",
        ["workspace_id", "updated_at"],
    ),
    ("gaps", "ix_gaps_community_id_closed_at", ["community_id", "closed_at"]),
    ("proposals", "ix_proposals_community_id_decided_at", ["community_id", "decided_at"]),
)


def upgrade() -> None:
    for table, name, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, name, _ in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
