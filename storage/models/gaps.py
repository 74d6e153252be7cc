"""Domain revisited: knowledge gaps, proposals to sponsors, and the community's priorities."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, int_pk, slack_id, timestamp
from storage.models.lessons import Visibility

STATEMENT_MAX = 200


def _enum(kind: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(
        kind, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class StrategicPriority(Base):
    """A short statement a community's sponsors set, with tags, in the organisation's terms."""

    __tablename__ = "strategic_priorities"
    __table_args__ = (Index("ix_strategic_priorities_community_id", "community_id"),)

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    statement: Mapped[str] = mapped_column(String(STATEMENT_MAX))
    tags: Mapped[str] = mapped_column(Text, default="")
    set_by: Mapped[slack_id]
    created_at: Mapped[timestamp]
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class GapStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    OUT_OF_SCOPE = "out_of_scope"


class Gap(Base):
    """A question the community cannot answer yet."""

    __tablename__ = "gaps"
    __table_args__ = (
        Index("ix_gaps_community_id_status_created_at", "community_id", "status", "created_at"),
        Index("ix_gaps_workspace_id_created_at", "workspace_id", "created_at"),
        # Community health: gaps answered in a period (migration 0010_health).
        Index("ix_gaps_community_id_closed_at", "community_id", "closed_at"),
    )

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="SET NULL")
    )
    question: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(Text, default="")
    raised_by: Mapped[slack_id]
    source_channel_id: Mapped[str | None] = mapped_column(String(32))
    source_ts: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(String(500))
    visibility: Mapped[Visibility] = mapped_column(_enum(Visibility))
    status: Mapped[GapStatus] = mapped_column(_enum(GapStatus))
    vote_count: Mapped[int] = mapped_column(Integer, default=0)
    answer_lesson_id: Mapped[int | None] = mapped_column(
        ForeignKey("lessons.id", ondelete="SET NULL")
    )
    priority_id: Mapped[int | None] = mapped_column(
        ForeignKey("strategic_priorities.id", ondelete="SET NULL")
    )
    closed_by: Mapped[str | None] = mapped_column(String(32))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[timestamp]


class GapVote(Base):
    """+1 on a gap: one per person."""

    __tablename__ = "gap_votes"

    gap_id: Mapped[int] = mapped_column(ForeignKey("gaps.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    voted_at: Mapped[timestamp]


class GapLesson(Base):
    """A lesson that may answer a gap: offered to its author once, linked (and told) once."""

    __tablename__ = "gap_lessons"
    __table_args__ = (UniqueConstraint("gap_id", "lesson_id"),)

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    gap_id: Mapped[int] = mapped_column(ForeignKey("gaps.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    offered_at: Mapped[timestamp]
    linked_by: Mapped[str | None] = mapped_column(String(32))
    linked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ProposalStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ANSWERED = "answered"


class ProposalDecision(enum.StrEnum):
    ADOPT = "adopt"
    EXPLORE = "explore"
    DECLINE = "decline"


class Proposal(Base):
    """An insight turned into a proposal to the community's sponsors, and their answer."""

    __tablename__ = "proposals"
    __table_args__ = (
        Index(
            "ix_proposals_community_id_status_created_at", "community_id", "status", "created_at"
        ),
        # Community health: proposals answered in a period (migration 0010_health).
        Index("ix_proposals_community_id_decided_at", "community_id", "decided_at"),
    )

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    insight: Mapped[str] = mapped_column(Text)  # what the community learned
    proposal: Mapped[str] = mapped_column(Text)  # what the organisation should do
    proposed_by: Mapped[slack_id]
    status: Mapped[ProposalStatus] = mapped_column(_enum(ProposalStatus))
    priority_id: Mapped[int | None] = mapped_column(
        ForeignKey("strategic_priorities.id", ondelete="SET NULL")
    )
    acknowledged_by: Mapped[str | None] = mapped_column(String(32))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Accountability: who decided what, when, and what they said.
    decision: Mapped[ProposalDecision | None] = mapped_column(_enum(ProposalDecision))
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[timestamp]


class ProposalEvidence(Base):
    """A lesson or a gap a proposal rests on."""

    __tablename__ = "proposal_evidence"

    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # "lesson" or "gap"
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
