"""Typed models: one MetaData, a naming convention, every user row scoped by workspace."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, always returns an aware datetime (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


int_pk = Annotated[
    int, mapped_column(Integer().with_variant(BigInteger, "postgresql"), primary_key=True)
]
timestamp = Annotated[datetime, mapped_column(UTCDateTime())]
bool_false = Annotated[bool, mapped_column(Boolean, server_default=false(), default=False)]
slack_id = Annotated[str, mapped_column(String(32))]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON}

    def __repr__(self) -> str:
        columns = ", ".join(
            f"{column.key}={getattr(self, column.key)!r}"
            for column in self.__table__.primary_key.columns  # type: ignore[attr-defined]
        )
        return f"{type(self).__name__}({columns})"


class Workspace(Base):
    """An installation: a team, or an enterprise for org-wide installs (keyed by the enterprise)."""

    __tablename__ = "workspaces"

    id: Mapped[int_pk]
    install_key: Mapped[str] = mapped_column(String(32), unique=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    is_enterprise_install: Mapped[bool_false]
    created_at: Mapped[timestamp]
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Member(Base):
    """A cached Slack user of one workspace."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[slack_id]
    name: Mapped[str] = mapped_column(String(255), default="")
    timezone: Mapped[str | None] = mapped_column(String(64))
    is_bot: Mapped[bool_false]
    deleted: Mapped[bool_false]
    updated_at: Mapped[timestamp]


class RoleName(enum.StrEnum):
    COORDINATOR = "coordinator"
    REVIEWER = "reviewer"
    SPONSOR = "sponsor"


class Community(Base):
    """A channel registered as a community of practice."""

    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id"),)

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[slack_id]
    is_private: Mapped[bool_false]
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[slack_id]
    created_at: Mapped[timestamp]
    updated_at: Mapped[timestamp]

    roles: Mapped[list[Role]] = relationship(
        back_populates="community", cascade="all, delete-orphan", lazy="selectin"
    )

    def holders(self, role: RoleName) -> list[str]:
        return sorted(r.user_id for r in self.roles if r.role == role)


class Role(Base):
    """A member's role in a community (coordinator, reviewer, sponsor)."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("community_id", "user_id", "role"),)

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    user_id: Mapped[slack_id]
    role: Mapped[RoleName] = mapped_column(
        Enum(RoleName, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )

    community: Mapped[Community] = relationship(back_populates="roles")


class ProcessedEvent(Base):
    """An Events API delivery already handled: `(workspace, event_id)` is unique."""

    __tablename__ = "processed_events"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[timestamp] = mapped_column(index=True)


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


# A run over a whole workspace (housekeeping): a placeholder, because a NULL in the unique key
# below would let duplicate runs through.
WORKSPACE_WIDE = 0


class ScheduledRun(Base):
    """A scheduled job's run for one period, claimed in the transaction that queues its posts."""

    __tablename__ = "scheduled_runs"
    # Job and period first: each tick looks the claims up by them.
    __table_args__ = (UniqueConstraint("job", "period", "workspace_id", "community_id"),)

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # No foreign key: WORKSPACE_WIDE is not a community.
    community_id: Mapped[int] = mapped_column(Integer().with_variant(BigInteger, "postgresql"))
    job: Mapped[str] = mapped_column(String(64))
    # The local date, ISO week or month of the community's timezone: one run each.
    period: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[timestamp]
    ran_at: Mapped[timestamp] = mapped_column(index=True)
