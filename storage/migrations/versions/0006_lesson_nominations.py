"""lesson nominations: a message given the idea reaction, its author asked once

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-16 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_INT = sa.Integer().with_variant(sa.BigInteger(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "lesson_nominations",
        sa.Column("id", BIG_INT, nullable=False),
        sa.Column("workspace_id", BIG_INT, nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("nominated_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_lesson_nominations_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_nominations")),
        sa.UniqueConstraint(
            "workspace_id",
            "channel_id",
            "message_ts",
            name=op.f("uq_lesson_nominations_workspace_id_channel_id_message_ts"),
        ),
    )


def downgrade() -> None:
    op.drop_table("lesson_nominations")
