"""outbox lanes, priority, and posts in doubt

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lane", sa.String(length=160), nullable=True))
        batch_op.add_column(
            sa.Column("priority", sa.SmallInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("failures", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("in_doubt_since", sa.DateTime(timezone=True), nullable=True))
    # Rows already queued keep the lanes they had: their channel, their coalesce key, or alone.
    op.execute(
        """
        UPDATE deliveries SET lane = CASE
            WHEN channel IS NOT NULL THEN 'channel:' || channel
            WHEN coalesce_key IS NOT NULL THEN 'key:' || coalesce_key
            ELSE 'delivery:' || key
        END
        """
    )
    op.execute(
        """
        UPDATE deliveries SET priority = 1
        WHERE method IN ('chat.postEphemeral', 'views.publish', 'views.update')
        """
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column("lane", existing_type=sa.String(length=160), nullable=False)
        batch_op.create_index(
            "ix_deliveries_lane", ["status", "workspace_id", "lane", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_lane")
        batch_op.drop_column("in_doubt_since")
        batch_op.drop_column("failures")
        batch_op.drop_column("priority")
        batch_op.drop_column("lane")
