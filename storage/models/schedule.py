"""Scheduled runs, each claimed once per period."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, int_pk, timestamp

# A run over a whole workspace (housekeeping): a placeholder, because a NULL in the unique key
# below would let duplicate runs through.
WORKSPACE_WIDE = 0


class ScheduledRun(Base):
    """A scheduled job's run for one period, claimed in the transaction that queues its posts."""

    __tablename__ = "scheduled_runs"
    # Job and period first: each tick looks the claims up by them.
    __table_args__ = (UniqueConstraint("job", "period", "workspace_id", "community_id", "subject"),)

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # No foreign key: WORKSPACE_WIDE is not a community.
    community_id: Mapped[int] = mapped_column(Integer().with_variant(BigInteger, "postgresql"))
    job: Mapped[str] = mapped_column(String(64))
    # The local date, ISO week or month of the community's timezone: one run each.
    period: Mapped[str] = mapped_column(String(16))
    # Whom a run is for when it is not a community (a reviewer's nudge: their user id); "" else.
    subject: Mapped[str] = mapped_column(String(32), server_default=text("''"), default="")
    due_at: Mapped[timestamp]
    ran_at: Mapped[timestamp] = mapped_column(index=True)
