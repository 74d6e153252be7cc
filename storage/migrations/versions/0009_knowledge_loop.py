"""the rest of the knowledge loop: kudos, peer assists, gaps, proposals, priorities, member cache

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 12:40:00

One migration for the tables the kudos, peer-assist, domain and digest capabilities share, so
each can query the others' data from the start; roles gain since-when, members the admin flags.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Adding the foreign keys to `lessons` makes Alembic's batch mode copy the table on SQLite, and
# the copy loses the triggers that keep the full-text index in step (0005): put them back and
# rebuild the index. PostgreSQL's generated column is untouched.
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
    op.create_table(
        "support_grants",
        sa.Column("id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False),
        sa.Column(
            "workspace_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_support_grants_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_grants")),
        sa.UniqueConstraint(
            "workspace_id", "user_id", name=op.f("uq_support_grants_workspace_id_user_id")
        ),
    )
    op.create_table(
        "user_group_members",
        sa.Column(
            "workspace_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_user_group_members_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "group_id", "user_id", name=op.f("pk_user_group_members")
        ),
    )
    op.create_table(
        "kudos",
        sa.Column("id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False),
        sa.Column(
            "workspace_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.Column(
            "community_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=True
        ),
        sa.Column("giver_id", sa.String(length=32), nullable=False),
        sa.Column("receiver_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "command",
                "shortcut",
                "reaction",
                "message",
                "assist",
                name="kudossource",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "given",
                "refused",
                "undone",
                name="kudosstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("permalink", sa.String(length=500), nullable=True),
        sa.Column(
            "visibility",
            sa.Enum(
                "public",
                "private",
                "dm",
                "unknown",
                name="visibility",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("local_day", sa.String(length=10), nullable=False),
        sa.Column("refusal", sa.String(length=200), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_kudos_community_id_communities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_kudos_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kudos")),
        sa.UniqueConstraint(
            "workspace_id",
            "giver_id",
            "receiver_id",
            "channel_id",
            "message_ts",
            name=op.f("uq_kudos_workspace_id_giver_id_receiver_id_channel_id_message_ts"),
        ),
    )
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.create_index(
            "ix_kudos_community_id_given_at", ["community_id", "given_at"], unique=False
        )
        batch_op.create_index(
            "ix_kudos_workspace_id_given_at", ["workspace_id", "given_at"], unique=False
        )
        batch_op.create_index(
            "ix_kudos_workspace_id_giver_id_local_day",
            ["workspace_id", "giver_id", "local_day"],
            unique=False,
        )
        batch_op.create_index(
            "ix_kudos_workspace_id_receiver_id_given_at",
            ["workspace_id", "receiver_id", "given_at"],
            unique=False,
        )

    op.create_table(
        "peer_assists",
        sa.Column("id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False),
        sa.Column(
            "workspace_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.Column(
            "community_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=True
        ),
        sa.Column("title", sa.String(length=150), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("learn", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("needed_by", sa.Date(), nullable=True),
        sa.Column(
            "format",
            sa.Enum(
                "call", "thread", "async_review", name="assistformat", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("team", sa.Text(), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("co_requester_id", sa.String(length=32), nullable=True),
        sa.Column("source_channel_id", sa.String(length=32), nullable=True),
        sa.Column("source_ts", sa.String(length=32), nullable=True),
        sa.Column("permalink", sa.String(length=500), nullable=True),
        sa.Column(
            "visibility",
            sa.Enum(
                "public",
                "private",
                "dm",
                "unknown",
                name="visibility",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "matched",
                "done",
                "cancelled",
                name="assiststatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("status_by", sa.String(length=32), nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("post_channel_id", sa.String(length=32), nullable=True),
        sa.Column("post_ts", sa.String(length=32), nullable=True),
        sa.Column("group_dm_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("no_helper_nudged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_nudged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_peer_assists_community_id_communities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_peer_assists_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peer_assists")),
    )
    with op.batch_alter_table("peer_assists", schema=None) as batch_op:
        batch_op.create_index(
            "ix_peer_assists_community_id_created_at", ["community_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_peer_assists_workspace_id_requester_id",
            ["workspace_id", "requester_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_peer_assists_workspace_id_status_created_at",
            ["workspace_id", "status", "created_at"],
            unique=False,
        )

    op.create_table(
        "strategic_priorities",
        sa.Column("id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False),
        sa.Column(
            "workspace_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.Column(
            "community_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.Column("statement", sa.String(length=200), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_strategic_priorities_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_strategic_priorities_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategic_priorities")),
    )
    with op.batch_alter_table("strategic_priorities", schema=None) as batch_op:
        batch_op.create_index(
            "ix_strategic_priorities_community_id", ["community_id"], unique=False
        )

    op.create_table(
        "assist_helpers",
        sa.Column("id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False),
        sa.Column(
            "workspace_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.Column(
            "assist_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "suggested",
                "invited",
                "volunteered",
                "accepted",
                "declined",
                "withdrawn",
                name="helperstate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assist_id"],
            ["peer_assists.id"],
            name=op.f("fk_assist_helpers_assist_id_peer_assists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_assist_helpers_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assist_helpers")),
        sa.UniqueConstraint(
            "assist_id", "user_id", name=op.f("uq_assist_helpers_assist_id_user_id")
        ),
    )
    with op.batch_alter_table("assist_helpers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assist_helpers_workspace_id_user_id", ["workspace_id", "user_id"], unique=False
        )

    op.create_table(
        "gaps",
        sa.Column("id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False),
        sa.Column(
            "workspace_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.Column(
            "community_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=True
        ),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("raised_by", sa.String(length=32), nullable=False),
        sa.Column("source_channel_id", sa.String(length=32), nullable=True),
        sa.Column("source_ts", sa.String(length=32), nullable=True),
        sa.Column("permalink", sa.String(length=500), nullable=True),
        sa.Column(
            "visibility",
            sa.Enum(
                "public",
                "private",
                "dm",
                "unknown",
                name="visibility",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open", "answered", "out_of_scope", name="gapstatus", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("vote_count", sa.Integer(), nullable=False),
        sa.Column(
            "answer_lesson_id",
            sa.Integer().with_variant(sa.BigInteger(), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "priority_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=True
        ),
        sa.Column("closed_by", sa.String(length=32), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_lesson_id"],
            ["lessons.id"],
            name=op.f("fk_gaps_answer_lesson_id_lessons"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_gaps_community_id_communities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["priority_id"],
            ["strategic_priorities.id"],
            name=op.f("fk_gaps_priority_id_strategic_priorities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_gaps_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gaps")),
    )
    with op.batch_alter_table("gaps", schema=None) as batch_op:
        batch_op.create_index(
            "ix_gaps_community_id_status_created_at",
            ["community_id", "status", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_gaps_workspace_id_created_at", ["workspace_id", "created_at"], unique=False
        )

    op.create_table(
        "kudos_tags",
        sa.Column(
            "kudos_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column(
            "workspace_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["kudos_id"],
            ["kudos.id"],
            name=op.f("fk_kudos_tags_kudos_id_kudos"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_kudos_tags_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kudos_id", "tag", name=op.f("pk_kudos_tags")),
    )
    with op.batch_alter_table("kudos_tags", schema=None) as batch_op:
        batch_op.create_index(
            "ix_kudos_tags_workspace_id_tag", ["workspace_id", "tag"], unique=False
        )

    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False),
        sa.Column(
            "workspace_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.Column(
            "community_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.Column("insight", sa.Text(), nullable=False),
        sa.Column("proposal", sa.Text(), nullable=False),
        sa.Column("proposed_by", sa.String(length=32), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "acknowledged",
                "answered",
                name="proposalstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "priority_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=True
        ),
        sa.Column("acknowledged_by", sa.String(length=32), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "decision",
            sa.Enum(
                "adopt", "explore", "decline", name="proposaldecision", native_enum=False, length=16
            ),
            nullable=True,
        ),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_proposals_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["priority_id"],
            ["strategic_priorities.id"],
            name=op.f("fk_proposals_priority_id_strategic_priorities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_proposals_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
    )
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_proposals_community_id_status_created_at",
            ["community_id", "status", "created_at"],
            unique=False,
        )

    op.create_table(
        "gap_lessons",
        sa.Column("id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False),
        sa.Column(
            "workspace_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.Column(
            "gap_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.Column(
            "lesson_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("linked_by", sa.String(length=32), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["gap_id"], ["gaps.id"], name=op.f("fk_gap_lessons_gap_id_gaps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lessons.id"],
            name=op.f("fk_gap_lessons_lesson_id_lessons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_gap_lessons_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gap_lessons")),
        sa.UniqueConstraint("gap_id", "lesson_id", name=op.f("uq_gap_lessons_gap_id_lesson_id")),
    )
    op.create_table(
        "gap_votes",
        sa.Column(
            "gap_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column(
            "workspace_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["gap_id"], ["gaps.id"], name=op.f("fk_gap_votes_gap_id_gaps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_gap_votes_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("gap_id", "user_id", name=op.f("pk_gap_votes")),
    )
    op.create_table(
        "proposal_evidence",
        sa.Column(
            "proposal_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column(
            "workspace_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_evidence_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_proposal_evidence_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "proposal_id", "kind", "item_id", name=op.f("pk_proposal_evidence")
        ),
    )
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_reason", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "assist_id", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "priority_id",
                sa.Integer().with_variant(sa.BigInteger(), "postgresql"),
                nullable=True,
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_lessons_priority_id_strategic_priorities"),
            "strategic_priorities",
            ["priority_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_lessons_assist_id_peer_assists"),
            "peer_assists",
            ["assist_id"],
            ["id"],
            ondelete="SET NULL",
        )
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS_TRIGGERS:
            op.execute(statement)

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("is_owner", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("is_restricted", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("granted_by", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.drop_column("granted_by")
        batch_op.drop_column("since")

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("is_restricted")
        batch_op.drop_column("is_owner")
        batch_op.drop_column("is_admin")

    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_lessons_assist_id_peer_assists"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_lessons_priority_id_strategic_priorities"), type_="foreignkey"
        )
        batch_op.drop_column("priority_id")
        batch_op.drop_column("assist_id")
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS_TRIGGERS:
            op.execute(statement)

    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("paused_at")
        batch_op.drop_column("paused_reason")

    op.drop_table("proposal_evidence")
    op.drop_table("gap_votes")
    op.drop_table("gap_lessons")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_index("ix_proposals_community_id_status_created_at")

    op.drop_table("proposals")
    with op.batch_alter_table("kudos_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_kudos_tags_workspace_id_tag")

    op.drop_table("kudos_tags")
    with op.batch_alter_table("gaps", schema=None) as batch_op:
        batch_op.drop_index("ix_gaps_workspace_id_created_at")
        batch_op.drop_index("ix_gaps_community_id_status_created_at")

    op.drop_table("gaps")
    with op.batch_alter_table("assist_helpers", schema=None) as batch_op:
        batch_op.drop_index("ix_assist_helpers_workspace_id_user_id")

    op.drop_table("assist_helpers")
    with op.batch_alter_table("strategic_priorities", schema=None) as batch_op:
        batch_op.drop_index("ix_strategic_priorities_community_id")

    op.drop_table("strategic_priorities")
    with op.batch_alter_table("peer_assists", schema=None) as batch_op:
        batch_op.drop_index("ix_peer_assists_workspace_id_status_created_at")
        batch_op.drop_index("ix_peer_assists_workspace_id_requester_id")
        batch_op.drop_index("ix_peer_assists_community_id_created_at")

    op.drop_table("peer_assists")
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.drop_index("ix_kudos_workspace_id_receiver_id_given_at")
        batch_op.drop_index("ix_kudos_workspace_id_giver_id_local_day")
        batch_op.drop_index("ix_kudos_workspace_id_given_at")
        batch_op.drop_index("ix_kudos_community_id_given_at")

    op.drop_table("kudos")
    op.drop_table("user_group_members")
    op.drop_table("support_grants")
