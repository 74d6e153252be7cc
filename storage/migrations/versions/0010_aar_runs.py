"""after action review runs: scheduled in a channel, replies collected in its thread

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.Integer().with_variant(sa.BigInteger(), "postgresql")
AAR_STATE = sa.Enum(
    "scheduled", "open", "summarised", "cancelled", name="aarstate", native_enum=False, length=16
)


def upgrade() -> None:
    op.create_table(
        "aar_runs",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("community_id", ID, nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("is_private", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("started_by", sa.String(length=32), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", AAR_STATE, nullable=False),
        sa.Column("questions_delivery_id", ID, nullable=True),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("failure", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summarised_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_aar_runs_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_aar_runs_community_id_communities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["questions_delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_aar_runs_questions_delivery_id_deliveries"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aar_runs")),
    )
    op.create_index("ix_aar_runs_state_starts_at", "aar_runs", ["state", "starts_at"])
    op.create_index("ix_aar_runs_state_ends_at", "aar_runs", ["state", "ends_at"])
    op.create_index(
        "ix_aar_runs_workspace_id_channel_id", "aar_runs", ["workspace_id", "channel_id"]
    )
    op.create_table(
        "aar_replies",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_aar_replies_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["aar_runs.id"],
            name=op.f("fk_aar_replies_run_id_aar_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aar_replies")),
        sa.UniqueConstraint("run_id", "ts", name=op.f("uq_aar_replies_run_id_ts")),
    )


def downgrade() -> None:
    op.drop_table("aar_replies")
    op.drop_index("ix_aar_runs_workspace_id_channel_id", table_name="aar_runs")
    op.drop_index("ix_aar_runs_state_ends_at", table_name="aar_runs")
    op.drop_index("ix_aar_runs_state_starts_at", table_name="aar_runs")
    op.drop_table("aar_runs")
