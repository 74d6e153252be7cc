"""Peer assists: a team asks those who have done it before; who helped, and how it ended."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, int_pk, slack_id, timestamp
from storage.models.lessons import Visibility

TITLE_MAX = 150


def _enum(kind: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(
        kind, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class AssistStatus(enum.StrEnum):
    OPEN = "open"
    MATCHED = "matched"
    DONE = "done"
    CANCELLED = "cancelled"


class AssistFormat(enum.StrEnum):
    CALL = "call"
    THREAD = "thread"
    ASYNC_REVIEW = "async_review"


class HelperState(enum.StrEnum):
    SUGGESTED = "suggested"  # the bot suggested them to the requester
    INVITED = "invited"  # the requester invited them (DM with accept / decline)
    VOLUNTEERED = "volunteered"  # "I can help", or accepted an invitation
    ACCEPTED = "accepted"  # the requester accepted them
    DECLINED = "declined"  # they declined an invitation
    WITHDRAWN = "withdrawn"  # they withdrew


class PeerAssist(Base):
    """A peer-assist request and where it stands (who changed it, when)."""

    __tablename__ = "peer_assists"
    __table_args__ = (
        Index(
            "ix_peer_assists_workspace_id_status_created_at", "workspace_id", "status", "created_at"
        ),
        Index("ix_peer_assists_community_id_created_at", "community_id", "created_at"),
        Index("ix_peer_assists_community_id_closed_at", "community_id", "closed_at"),
        Index("ix_peer_assists_workspace_id_requester_id", "workspace_id", "requester_id"),
    )

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    plan: Mapped[str] = mapped_column(Text, default="")  # what we are about to do
    learn: Mapped[str] = mapped_column(Text, default="")  # what we want to learn from others
    tags: Mapped[str] = mapped_column(Text, default="")  # space-separated, lower case
    needed_by: Mapped[date | None] = mapped_column(Date)
    format: Mapped[AssistFormat] = mapped_column(_enum(AssistFormat))
    team: Mapped[str] = mapped_column(Text, default="")  # the requesting team
    requester_id: Mapped[slack_id]
    co_requester_id: Mapped[str | None] = mapped_column(String(32))
    source_channel_id: Mapped[str | None] = mapped_column(String(32))
    source_ts: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(String(500))
    visibility: Mapped[Visibility] = mapped_column(_enum(Visibility))
    status: Mapped[AssistStatus] = mapped_column(_enum(AssistStatus))
    status_by: Mapped[slack_id]
    status_at: Mapped[timestamp]
    # The post in the community channel, and the group DM opened when matched.
    post_channel_id: Mapped[str | None] = mapped_column(String(32))
    post_ts: Mapped[str | None] = mapped_column(String(32))
    group_dm_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[timestamp]
    matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Follow-ups (digests issue): when the "no helper yet" and "past needed-by" nudges went out.
    no_helper_nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    overdue_nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AssistHelper(Base):
    """One person's part in one request: suggested, invited, volunteered, accepted..."""

    __tablename__ = "assist_helpers"
    __table_args__ = (
        UniqueConstraint("assist_id", "user_id"),
        Index("ix_assist_helpers_workspace_id_user_id", "workspace_id", "user_id"),
    )

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    assist_id: Mapped[int] = mapped_column(ForeignKey("peer_assists.id", ondelete="CASCADE"))
    user_id: Mapped[slack_id]
    state: Mapped[HelperState] = mapped_column(_enum(HelperState))
    # Why the bot suggested them, as shown ("wrote 3 validated lessons on #pricing").
    evidence: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[timestamp]
    updated_at: Mapped[timestamp]


class AssistLessonNotice(Base):
    """A requester was told that a lesson matching their open request was validated (once)."""

    __tablename__ = "assist_lesson_notices"

    assist_id: Mapped[int] = mapped_column(
        ForeignKey("peer_assists.id", ondelete="CASCADE"), primary_key=True
    )
    lesson_id: Mapped[int] = mapped_column(
        ForeignKey("lessons.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    notified_at: Mapped[timestamp]
