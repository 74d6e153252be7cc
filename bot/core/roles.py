"""Roles: who holds which role in each community (since when, granted by whom), and the
workspace's support team (its admins and owners, and those granted it)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import permissions
from bot.core.permissions import Support
from storage import communities as community_queries
from storage import health as queries
from storage.models import SupportGrant

if TYPE_CHECKING:
    from bot.unit_of_work import UnitOfWork

# Who granted the support team from the command line (`doughnut roles grant-support`).
BY_CLI = "cli"


async def support_of(session: AsyncSession, workspace_id: int, user_id: str) -> Support:
    """Is this person on the support team, and why (the member cache's flags, a grant)."""
    member = await queries.member_flags(session, workspace_id, user_id)
    admin = member is not None and (member.is_admin or member.is_owner) and not member.deleted
    granted = await queries.support_grant(session, workspace_id, user_id) is not None
    return Support(user_id, admin=bool(admin), granted=granted)


@dataclass(frozen=True)
class RoleHolder:
    user_id: str
    role: str
    since: datetime | None  # None for a role from before since-when was kept
    granted_by: str | None


@dataclass(frozen=True)
class CommunityRoles:
    name: str
    channel_id: str
    holders: tuple[RoleHolder, ...]  # coordinators, reviewers, sponsors; oldest first in each

    def of(self, role: str) -> tuple[RoleHolder, ...]:
        return tuple(h for h in self.holders if h.role == role)


@dataclass(frozen=True)
class SupportTeam:
    admins: tuple[str, ...]  # admins and owners, from the member cache
    granted: tuple[RoleHolder, ...]


class RolesVerdict(enum.Enum):
    SHOWN = "shown"
    NO_COMMUNITY = "no_community"  # the channel is not a community


@dataclass(frozen=True)
class RolesList:
    verdict: RolesVerdict
    communities: tuple[CommunityRoles, ...] = ()
    support: SupportTeam | None = None  # with `all`


ORDER = {"coordinator": 0, "reviewer": 1, "sponsor": 2}


async def roles(uow: UnitOfWork, user_id: str, channel_id: str, *, everything: bool) -> RolesList:
    """The channel's community's roles, or (`everything`) every community's this person may
    see (public ones, private ones they hold a role in; all of them for the support team)."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return RolesList(RolesVerdict.NO_COMMUNITY)
        found = await community_queries.communities_of_workspace(session, workspace.id)
        if not everything:
            found = [c for c in found if c.channel_id == channel_id]
            if not found:
                return RolesList(RolesVerdict.NO_COMMUNITY)
        else:
            support = await support_of(session, workspace.id, user_id)
            found = [
                c
                for c in found
                if not c.is_private
                or permissions.is_support(support)
                or any(r.user_id == user_id for r in c.roles)
            ]
        listed = tuple(
            CommunityRoles(
                c.name,
                c.channel_id,
                tuple(
                    RoleHolder(r.user_id, r.role.value, r.since, r.granted_by)
                    for r in sorted(
                        c.roles,
                        key=lambda r: (ORDER[r.role.value], r.since is not None, r.since, r.id),
                    )
                ),
            )
            for c in found
        )
        team = None
        if everything:
            grants = await queries.support_grants(session, workspace.id)
            team = SupportTeam(
                tuple(await queries.workspace_admins(session, workspace.id)),
                tuple(RoleHolder(g.user_id, "support", g.granted_at, g.granted_by) for g in grants),
            )
        return RolesList(RolesVerdict.SHOWN, listed, team)


class GrantVerdict(enum.Enum):
    GRANTED = "granted"
    REVOKED = "revoked"
    ALREADY = "already"  # granted before: nothing changed
    NOT_GRANTED = "not_granted"  # revoking someone who was not granted it
    STILL_ADMIN = "still_admin"  # revoked, but an admin or owner keeps it anyway
    NOT_ALLOWED = "not_allowed"  # only the support team grants it


@dataclass(frozen=True)
class GrantResult:
    verdict: GrantVerdict
    user_id: str


async def change_support(uow: UnitOfWork, by_user: str, target: str, *, grant: bool) -> GrantResult:
    """`/doughnut roles grant-support|revoke-support @user`, by a member of the support team."""
    workspace = await uow.workspace()
    session = await uow.session()
    if not permissions.may_grant_support(await support_of(session, workspace.id, by_user)):
        return GrantResult(GrantVerdict.NOT_ALLOWED, target)
    return await apply_support(
        session, workspace.id, target, grant=grant, by=by_user, now=uow.deps.clock.now()
    )


async def apply_support(
    session: AsyncSession, workspace_id: int, target: str, *, grant: bool, by: str, now: datetime
) -> GrantResult:
    """Grant or revoke the support team (the command line calls this directly, as `cli`)."""
    existing = await queries.support_grant(session, workspace_id, target)
    if grant:
        if existing is not None:
            return GrantResult(GrantVerdict.ALREADY, target)
        session.add(
            SupportGrant(workspace_id=workspace_id, user_id=target, granted_by=by, granted_at=now)
        )
        await session.flush()
        return GrantResult(GrantVerdict.GRANTED, target)
    if existing is None:
        still = (await support_of(session, workspace_id, target)).admin
        return GrantResult(GrantVerdict.STILL_ADMIN if still else GrantVerdict.NOT_GRANTED, target)
    await session.delete(existing)
    await session.flush()
    still = (await support_of(session, workspace_id, target)).admin
    return GrantResult(GrantVerdict.STILL_ADMIN if still else GrantVerdict.REVOKED, target)
