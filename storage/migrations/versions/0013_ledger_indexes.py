"""ledger: period indexes on lessons, decisions and uses; one person's reviews and kudos given

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 13:00:00

The contribution ledger (and the digests after it) counts lessons, validations, reviews and
reuse over a period: without these, each count reads every lesson, decision or use the
workspace ever made (lessons by time, per workspace (per community: 0012): the status-first index
cannot serve a period across statuses). A profile counts one person's reviews and kudos given:
by reviewer, and by giver and time (the giver's index by local day, for the allowance, cannot
serve a period in UTC). Figures from bench/ledger.py in the ledger's report.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_lessons_workspace_id_created_at", "lessons", ["workspace_id", "created_at"])
    op.create_index(
        "ix_lesson_decisions_workspace_id_decided_at",
        "lesson_decisions",
        ["workspace_id", "decided_at"],
    )
    op.create_index(
        "ix_lesson_decisions_workspace_id_by_user_decided_at",
        "lesson_decisions",
        ["workspace_id", "by_user", "decided_at"],
    )
    op.create_index(
        "ix_lesson_uses_workspace_id_used_at", "lesson_uses", ["workspace_id", "used_at"]
    )
    op.create_index(
        "ix_kudos_workspace_id_giver_id_given_at", "kudos", ["workspace_id", "giver_id", "given_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_lessons_workspace_id_created_at", table_name="lessons")
    op.drop_index("ix_kudos_workspace_id_giver_id_given_at", table_name="kudos")
    op.drop_index(
        "ix_lesson_decisions_workspace_id_by_user_decided_at", table_name="lesson_decisions"
    )
    op.drop_index("ix_lesson_uses_workspace_id_used_at", table_name="lesson_uses")
    op.drop_index("ix_lesson_decisions_workspace_id_decided_at", table_name="lesson_decisions")
