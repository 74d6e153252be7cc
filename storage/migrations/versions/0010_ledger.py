"""ledger: period indexes on lesson decisions and lesson uses

Revision ID: 0010_ledger
Revises: 0009
Create Date: 2026-11-30 13:00:00

The contribution ledger (and the digests after it) counts reviews, validations and reuse over a
period: without these, each count reads every decision or use the workspace ever made.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_ledger"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_lesson_decisions_workspace_id_decided_at",
        "lesson_decisions",
        ["workspace_id", "decided_at"],
    )
    op.create_index(
        "ix_lesson_uses_workspace_id_used_at", "lesson_uses", ["workspace_id", "used_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_lesson_uses_workspace_id_used_at", table_name="lesson_uses")
    op.drop_index("ix_lesson_decisions_workspace_id_decided_at", table_name="lesson_decisions")
