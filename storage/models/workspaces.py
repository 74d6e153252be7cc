"""Workspaces (installations), their cached members, and the events already handled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, bool_false, int_pk, slack_id, timestamp


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
    # Per-workspace choices (bot/core/settings.py); a missing key means the default.
    # JSONB on PostgreSQL: plain json has no `=` (Alembic compares the server default with it).
    settings: Mapped[dict[str, Any]] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"), server_default=text("'{}'"), default=dict
    )


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
    # Workspace admins and owners hold the support-team role (bot/core/communities.py).
    is_admin: Mapped[bool_false]
    is_owner: Mapped[bool_false]
    is_restricted: Mapped[bool_false]  # a guest
    updated_at: Mapped[timestamp]


class UserGroupMember(Base):
    """A cached user group's members (`usergroups.users.list`, `subteam_members_changed`)."""

    __tablename__ = "user_group_members"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)


class ProcessedEvent(Base):
    """An Events API delivery already handled: `(workspace, event_id)` is unique."""

    __tablename__ = "processed_events"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[timestamp] = mapped_column(index=True)
