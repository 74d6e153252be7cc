"""The member cache: who is who in a workspace, read without asking Slack before an ack.

Filled by a paginated `users.list` (daily, and once when a workspace's cache is empty), kept
by `user_change` and `team_join`; user groups by `subteam_*` events and, for a group not cached
yet, `usergroups.users.list` after the ack. Slack Connect members of other organisations are
never stored.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.installations import with_token
from bot.tenancy import Installation
from bot.unit_of_work import UnitOfWork
from storage import members as store

log = logging.getLogger(__name__)

# users.list pages of 200 (Slack's advice), up to 250 pages: 50,000 members.
PAGE_SIZE = 200
MAX_PAGES = 250
# A whole sync, reading every page, must end: a stuck Slack leaves the old cache in place.
SYNC_BUDGET = 300.0
# usergroups.users.list for one group, after the ack.
GROUP_BUDGET = 10.0


@dataclass(frozen=True)
class MemberInfo:
    """A cached member, as other capabilities see them."""

    user_id: str
    name: str
    timezone: str | None
    is_bot: bool
    deleted: bool
    is_admin: bool
    is_owner: bool
    is_restricted: bool


def is_external(user: dict[str, Any], installation: Installation) -> bool:
    """A Slack Connect member of another organisation (never stored)."""
    if user.get("is_stranger"):
        return True
    enterprise = (user.get("enterprise_user") or {}).get("enterprise_id")
    if installation.enterprise_id and enterprise == installation.enterprise_id:
        return False  # another workspace of the same Enterprise Grid organisation
    if installation.is_enterprise_install:
        return bool(enterprise) and enterprise != installation.enterprise_id
    team_id = user.get("team_id")
    return bool(team_id and installation.team_id and team_id != installation.team_id)


def member_row(user: dict[str, Any], installation: Installation) -> dict[str, Any] | None:
    """A Slack user object as a cache row; None for someone who is not ours to keep."""
    user_id = user.get("id")
    if not isinstance(user_id, str) or not user_id or is_external(user, installation):
        return None
    profile = user.get("profile") or {}
    name = profile.get("display_name") or user.get("real_name") or user.get("name") or user_id
    is_bot = bool(user.get("is_bot") or user.get("is_app_user") or user_id == "USLACKBOT")
    return {
        "user_id": user_id[:32],
        "name": str(name)[:255],
        "timezone": (user.get("tz") or None) and str(user["tz"])[:64],
        "is_bot": is_bot,
        "deleted": bool(user.get("deleted")),
        "is_admin": bool(user.get("is_admin")),
        "is_owner": bool(user.get("is_owner") or user.get("is_primary_owner")),
        "is_restricted": bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
    }


def _info(member: Any) -> MemberInfo:
    return MemberInfo(
        user_id=member.user_id, name=member.name, timezone=member.timezone,
        is_bot=member.is_bot, deleted=member.deleted, is_admin=member.is_admin,
        is_owner=member.is_owner, is_restricted=member.is_restricted,
    )  # fmt: skip


# ---- Reads, for every capability -------------------------------------------------------------


async def members(uow: UnitOfWork, user_ids: list[str] | tuple[str, ...]) -> dict[str, MemberInfo]:
    """The cached members among `user_ids` (absent ones are not cached)."""
    workspace = await uow.workspace()
    found = await store.members_by_ids(await uow.session(), workspace.id, user_ids)
    return {m.user_id: _info(m) for m in found}


def valid_zone(name: str | None) -> str | None:
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


async def timezone_of(uow: UnitOfWork, user_id: str) -> str:
    """A member's timezone from the cache; else the workspace default (DOUGHNUT_TIMEZONE), UTC."""
    found = (await members(uow, [user_id])).get(user_id)
    zone = valid_zone(found.timezone if found else None)
    return zone or valid_zone(uow.deps.settings.doughnut_timezone) or "UTC"


async def group_members(uow: UnitOfWork, group_id: str) -> list[str]:
    """A user group's cached member ids; empty when it is not cached yet."""
    workspace = await uow.workspace()
    return await store.group_members(await uow.session(), workspace.id, group_id)


async def cache_is_empty(uow: UnitOfWork) -> bool:
    async with uow.reading() as (session, workspace):
        return workspace is None or await store.member_count(session, workspace.id) == 0


# ---- Kept by events --------------------------------------------------------------------------


async def remember_user(uow: UnitOfWork, user: dict[str, Any]) -> bool:
    """`user_change` / `team_join`: store what Slack says; False for an external member."""
    row = member_row(user, uow.installation)
    if row is None:
        return False
    workspace = await uow.workspace()
    await store.upsert_members(await uow.session(), workspace.id, [row], uow.deps.clock.now())
    return True


async def group_changed(
    uow: UnitOfWork, group_id: str, added: list[str], removed: list[str]
) -> bool:
    """`subteam_members_changed` on a cached group; False when the group is not cached."""
    workspace = await uow.workspace()
    session = await uow.session()
    if not await store.group_members(session, workspace.id, group_id):
        return False
    await store.change_group(session, workspace.id, group_id, added, removed)
    return True


async def group_replaced(uow: UnitOfWork, group_id: str, user_ids: list[str]) -> None:
    """`subteam_updated` / `subteam_created` carrying the group's members."""
    workspace = await uow.workspace()
    await store.replace_group(await uow.session(), workspace.id, group_id, user_ids)


# ---- After the ack, or on the leader: reading Slack ------------------------------------------


async def _workspace_id(deps: Deps, installation: Installation) -> int:
    uow = UnitOfWork(deps, installation)
    ok = False
    try:
        workspace_id = (await uow.workspace()).id
        ok = True
    finally:
        await uow.finish(ok=ok)
    return workspace_id


async def read_all_members(client: AsyncWebClient, installation: Installation) -> list[dict]:
    """Every member users.list shows (ours only), page by page."""
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await client.users_list(limit=PAGE_SIZE, cursor=cursor)
        for user in page.get("members") or []:
            row = member_row(user, installation)
            if row is not None:
                rows.append(row)
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            break
    return rows


async def sync_members(deps: Deps, installation: Installation, token: str | None) -> int:
    """Fill the cache from users.list (all pages first, then one write); how many were stored."""
    client = with_token(deps.outbox_client, token)
    try:
        async with asyncio.timeout(SYNC_BUDGET):
            rows = await read_all_members(client, installation)
    except (TimeoutError, SlackApiError) as error:
        log.warning("users.list failed, the member cache is kept as it was: %r", error)
        return 0
    workspace_id = await _workspace_id(deps, installation)
    async with deps.db.transaction() as session:
        await store.upsert_members(session, workspace_id, rows, deps.clock.now())
    log.info("member cache of workspace %s: %d members", workspace_id, len(rows))
    return len(rows)


async def fetch_group(
    deps: Deps, installation: Installation, token: str | None, group_id: str
) -> list[str] | None:
    """A group's members from Slack, cached; None when Slack would not say."""
    client = with_token(deps.outbox_client, token)
    try:
        async with asyncio.timeout(GROUP_BUDGET):
            answer = await client.usergroups_users_list(usergroup=group_id)
    except (TimeoutError, SlackApiError) as error:
        log.info("usergroups.users.list %s failed: %r", group_id, error)
        return None
    user_ids = [u for u in answer.get("users") or [] if isinstance(u, str)]
    workspace_id = await _workspace_id(deps, installation)
    async with deps.db.transaction() as session:
        await store.replace_group(session, workspace_id, group_id, user_ids)
    return user_ids


async def look_up(
    deps: Deps, installation: Installation, token: str | None, user_id: str, budget: float
) -> dict[str, Any] | None:
    """users.info for a cache miss, bounded; the user object, or None when unknown."""
    client = with_token(deps.outbox_client, token)
    async with asyncio.timeout(budget):
        try:
            return (await client.users_info(user=user_id))["user"]
        except SlackApiError as error:
            if error.response.get("error") in ("user_not_found", "users_not_found"):
                return None
            raise


async def remember_looked_up(deps: Deps, installation: Installation, user: dict) -> None:
    row = member_row(user, installation)
    if row is None:
        return
    workspace_id = await _workspace_id(deps, installation)
    async with deps.db.transaction() as session:
        await store.upsert_members(session, workspace_id, [row], deps.clock.now())
