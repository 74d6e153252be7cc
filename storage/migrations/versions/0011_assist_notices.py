"""peer assists: a requester is told once per (request, lesson) that a matching lesson was validated

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.Integer().with_variant(sa.BigInteger(), "postgresql")


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


def downgrade() -> None:
    with op.batch_alter_table("assist_lesson_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assist_lesson_notices_workspace_id"))
    op.drop_table("assist_lesson_notices")
