"""The outbox: Slack calls owed after the ack, written with the record that caused them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, int_pk, timestamp


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SUPERSEDED = "superseded"
    # A post that may or may not have reached Slack, and whose channel could not tell: never
    # re-sent blind (it would risk a duplicate), surfaced in metrics and logs instead.
    UNKNOWN = "unknown"


class Priority(enum.IntEnum):
    """Which lanes start first: a person waiting for an answer before bulk posts."""

    BULK = 0
    PERSON = 1


class Delivery(Base):
    """A Slack call owed after the ack, written with the record that caused it."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_coalesce", "workspace_id", "coalesce_key", "status"),
        # Lane heads: the oldest pending row of each (workspace, lane).
        Index("ix_deliveries_lane", "status", "workspace_id", "lane", "id"),
    )

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64), unique=True)
    method: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(32))
    coalesce_key: Mapped[str | None] = mapped_column(String(128))
    # Deliveries of one lane go one at a time, in id order (see storage.outbox_queries.Lane).
    lane: Mapped[str] = mapped_column(String(160))
    priority: Mapped[int] = mapped_column(SmallInteger, server_default="0", default=0)
    payload: Mapped[dict[str, Any]]
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(
            DeliveryStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=DeliveryStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(default=0)  # tries
    # Tries that failed for sure, or whose post a later look in the channel did not find;
    # what `max_attempts` caps (a 429 or a post found after all does not count).
    failures: Mapped[int] = mapped_column(server_default="0", default=0)
    # Set while a post may have reached Slack unseen (leased, timed out, 5xx): the next try
    # first pages the channel's history back to this instant.
    in_doubt_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[timestamp]
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None]
    created_at: Mapped[timestamp]
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
