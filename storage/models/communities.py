"""Communities of practice and the roles members hold in them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, UTCDateTime, bool_false, int_pk, slack_id, timestamp


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
    # Why the scheduler stopped posting here (channel archived, bot removed); None when active.
    paused_reason: Mapped[str | None] = mapped_column(String(200))
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

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
    # Since when (the contribution profile shows leadership); None for roles from before 0009.
    since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    granted_by: Mapped[str | None] = mapped_column(String(32))

    community: Mapped[Community] = relationship(back_populates="roles")


class SupportGrant(Base):
    """The workspace-level support team, beyond its admins and owners (who hold it anyway)."""

    __tablename__ = "support_grants"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: Mapped[int_pk]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[slack_id]
    granted_by: Mapped[str] = mapped_column(String(64))  # a user id, or "cli"
    granted_at: Mapped[timestamp]
