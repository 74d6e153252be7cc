"""Queries for communities and their roles; every one takes the workspace."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Community, Delivery, DeliveryStatus, Role, RoleName


async def community_in_channel(
    session: AsyncSession, workspace_id: int, channel_id: str
) -> Community | None:
    return await session.scalar(
        select(Community).where(
            Community.workspace_id == workspace_id, Community.channel_id == channel_id
        )
    )


async def communities_of_workspace(session: AsyncSession, workspace_id: int) -> list[Community]:
    result = await session.scalars(
        select(Community).where(Community.workspace_id == workspace_id).order_by(Community.name)
    )
    return list(result)


def set_roles(community: Community, role: RoleName, user_ids: Iterable[str]) -> None:
    """Replace the holders of one role, keeping the rows of those who stay."""
    wanted = set(user_ids)
    for existing in [r for r in community.roles if r.role == role]:
        if existing.user_id in wanted:
            wanted.discard(existing.user_id)
        else:
            community.roles.remove(existing)
    for user_id in sorted(wanted):
        community.roles.append(
            Role(workspace_id=community.workspace_id, user_id=user_id, role=role)
        )


def save_community(
    session: AsyncSession,
    community: Community | None,
    *,
    workspace_id: int,
    channel_id: str,
    is_private: bool,
    name: str,
    description: str,
    timezone: str,
    roles: dict[RoleName, Iterable[str]],
    by_user: str,
    now: datetime,
) -> Community:
    """Create the channel's community or update it; each role in `roles` gets those holders."""
    if community is None:
        community = Community(
            workspace_id=workspace_id,
            channel_id=channel_id,
            created_by=by_user,
            created_at=now,
            settings={},
            roles=[],
        )
        session.add(community)
    community.is_private = is_private
    community.name = name
    community.description = description
    community.timezone = timezone
    community.updated_at = now
    for role, holders in roles.items():
        set_roles(community, role, holders)
    return community


def not_paused() -> ColumnElement[bool]:
    """The filter every scheduled job's query of communities uses: paused ones get nothing."""
    return Community.paused_at.is_(None)


async def paused_communities(session: AsyncSession, workspace_id: int) -> list[Community]:
    result = await session.scalars(
        select(Community)
        .where(Community.workspace_id == workspace_id, Community.paused_at.is_not(None))
        .order_by(Community.name)
    )
    return list(result)


async def stop_deliveries(
    session: AsyncSession, workspace_id: int, channel_id: str, reason: str
) -> int:
    """Mark the channel's queued posts failed with `reason` (one being sent finishes)."""
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.workspace_id == workspace_id,
            Delivery.channel == channel_id,
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.leased_until.is_(None),
        )
        .values(status=DeliveryStatus.FAILED, last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


async def archived_post_failures(
    session: AsyncSession, after_id: int, since: datetime, limit: int = 500
) -> list[tuple[int, int, str]]:
    """(delivery id, workspace, channel) of posts to active communities' channels that Slack
    refused as `is_archived`, newer than `after_id`, created since `since` and since the
    community last changed (an old bounce does not pause a community unarchived since)."""
    rows = await session.execute(
        select(Delivery.id, Delivery.workspace_id, Community.channel_id)
        .join(
            Community,
            (Community.workspace_id == Delivery.workspace_id)
            & (Community.channel_id == Delivery.channel),
        )
        .where(
            Delivery.status == DeliveryStatus.FAILED,
            Delivery.id > after_id,
            Delivery.created_at >= since,
            Delivery.created_at >= Community.updated_at,
            Delivery.last_error == "is_archived",
            not_paused(),
        )
        .order_by(Delivery.id)
        .limit(limit)
    )
    return [(d, w, c) for d, w, c in rows]
