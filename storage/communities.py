"""Queries for communities and their roles; every one takes the workspace."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Community, Role, RoleName


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


def set_roles(
    community: Community,
    role: RoleName,
    user_ids: Iterable[str],
    *,
    since: datetime | None = None,
    by_user: str | None = None,
) -> None:
    """Replace the holders of one role, keeping the rows (and since-when) of those who stay."""
    wanted = set(user_ids)
    for existing in [r for r in community.roles if r.role == role]:
        if existing.user_id in wanted:
            wanted.discard(existing.user_id)
        else:
            community.roles.remove(existing)
    for user_id in sorted(wanted):
        community.roles.append(
            Role(
                workspace_id=community.workspace_id,
                user_id=user_id,
                role=role,
                since=since,
                granted_by=by_user,
            )
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
        set_roles(community, role, holders, since=now, by_user=by_user)
    return community
