"""After Action Review runs: the four questions in a channel's thread, the replies, the summary."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, bool_false, int_pk, slack_id, timestamp


class AarState(enum.StrEnum):
    SCHEDULED = "scheduled"  # waiting for its start time
    OPEN = "open"  # the questions are posted; replies are collected
    SUMMARISED = "summarised"  # the window closed and the summary is posted
    CANCELLED = "cancelled"  # never started (its community paused, say): see `failure`


class AarRun(Base):
    """One After Action Review in a channel, keyed by its own id (two in a day are two runs)."""

    __tablename__ = "aar_runs"
    __table_args__ = (
        # The scheduler's sweep: what is due, by state and time.
        Index("ix_aar_runs_state_starts_at", "state", "starts_at"),
        Index("ix_aar_runs_state_ends_at", "state", "ends_at"),
        # The message listener: the open runs of one channel.
        Index("ix_aar_runs_workspace_id_channel_id", "workspace_id", "channel_id"),
    )

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="SET NULL")
    )
    channel_id: Mapped[slack_id]
    is_private: Mapped[bool_false]
    project: Mapped[str] = mapped_column(String(200), default="")
    started_by: Mapped[slack_id]
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[timestamp]
    window_minutes: Mapped[int] = mapped_column(Integer)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[AarState] = mapped_column(
        Enum(
            AarState, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
        ),
        default=AarState.SCHEDULED,
    )
    # The questions' post: its delivery (the outbox learns its ts), then the thread it opened.
    questions_delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL")
    )
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    failure: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[timestamp]
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    summarised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AarReply(Base):
    """A reply in a run's thread, as Slack sent it (stored once per message ts)."""

    __tablename__ = "aar_replies"
    __table_args__ = (UniqueConstraint("run_id", "ts"),)

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("aar_runs.id", ondelete="CASCADE"))
    user_id: Mapped[slack_id]
    ts: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[timestamp]
