"""digests: runs keyed by whom they are for (a reviewer's week), and period indexes

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 13:00:00

A review nudge runs once per (reviewer, local week), not per community: `scheduled_runs` gains
`subject` (the reviewer's user id; "" for community and workspace runs) in its unique key. The
digests read a week's or a month's rows by community and time: the indexes 0012 and 0013 do
not already give (stale lessons, assists closed in a period).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KEY = "uq_scheduled_runs_job_period_workspace_id_community_id"
NEW_KEY = "uq_scheduled_runs_job_period_workspace_id_community_id_subject"


def upgrade() -> None:
    with op.batch_alter_table("scheduled_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("subject", sa.String(length=32), server_default=sa.text("''"), nullable=False)
        )
        batch_op.drop_constraint(OLD_KEY, type_="unique")
        batch_op.create_unique_constraint(
            NEW_KEY, ["job", "period", "workspace_id", "community_id", "subject"]
        )
    op.create_index(
        "ix_lessons_community_id_status_reviewed_at",
        "lessons",
        ["community_id", "status", "reviewed_at"],
    )
    op.create_index(
        "ix_peer_assists_community_id_closed_at", "peer_assists", ["community_id", "closed_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_peer_assists_community_id_closed_at", table_name="peer_assists")
    op.drop_index("ix_lessons_community_id_status_reviewed_at", table_name="lessons")
    with op.batch_alter_table("scheduled_runs", schema=None) as batch_op:
        batch_op.drop_constraint(NEW_KEY, type_="unique")
        batch_op.create_unique_constraint(
            OLD_KEY, ["job", "period", "workspace_id", "community_id"]
        )
        batch_op.drop_column("subject")
