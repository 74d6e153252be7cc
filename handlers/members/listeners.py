"""The member cache's listeners and job: events keep it, users.list fills it after the ack."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import members
from bot.deps import Deps
from bot.tenancy import Installation
from bot.unit_of_work import UnitOfWork
from scheduler.registry import JobRun, Period, Target
from storage.models import Workspace
from storage.workspaces import install_key

log = logging.getLogger(__name__)


async def user_changed(event: dict[str, Any], context: AsyncBoltContext) -> None:
    """`user_change` and `team_join`: the member as Slack now says (externals are skipped)."""
    user = event.get("user")
    if isinstance(user, dict):
        await members.remember_user(context["uow"], user)


def _fetch_after_commit(context: AsyncBoltContext, group_id: str) -> None:
    uow: UnitOfWork = context["uow"]
    deps: Deps = context["deps"]
    token = context.client.token if context.client else None
    work = members.fetch_group(deps, uow.installation, token, group_id)

    def hand_off() -> None:
        deps.after_ack.hand_off(_discard(work), what="user group members")

    uow.after_commit(hand_off)


async def _discard(work: Any) -> None:
    await work


async def group_members_changed(event: dict[str, Any], context: AsyncBoltContext) -> None:
    """Members joined or left a group: applied to a cached one, else the group is read."""
    group_id = event.get("subteam_id")
    if not isinstance(group_id, str) or not group_id:
        return
    added = [u for u in event.get("added_users") or [] if isinstance(u, str)]
    removed = [u for u in event.get("removed_users") or [] if isinstance(u, str)]
    if not await members.group_changed(context["uow"], group_id, added, removed):
        _fetch_after_commit(context, group_id)


async def group_updated(event: dict[str, Any], context: AsyncBoltContext) -> None:
    """A group changed: its members when Slack sent them, else read after the ack."""
    subteam = event.get("subteam") or {}
    group_id = subteam.get("id")
    if not isinstance(group_id, str) or not group_id:
        return
    users = subteam.get("users")
    if isinstance(users, list):
        await members.group_replaced(
            context["uow"], group_id, [u for u in users if isinstance(u, str)]
        )
    else:
        await context["uow"].workspace()  # claim the event: a retry changes nothing
        _fetch_after_commit(context, group_id)


async def _installation(
    deps: Deps, workspace_id: int, key: str
) -> tuple[Installation, str | None] | None:
    """The installation and token serving a workspace, or None when it is not served."""
    if deps.installations is not None:
        found = await deps.installations.for_workspace(workspace_id)
        return (found, found.bot_token) if found is not None else None
    installation = deps.installation
    if installation is None:
        return None
    mine = install_key(
        installation.team_id, installation.enterprise_id, installation.is_enterprise_install
    )
    return (installation, None) if mine == key else None


def sync_job(deps: Deps) -> JobRun:
    """The daily job: hand the workspace's users.list read to work outside the transaction."""

    async def run(session: AsyncSession, target: Target, period: Period, now: datetime) -> None:
        workspace = await session.get(Workspace, target.workspace_id)
        if workspace is None:
            return
        served = await _installation(deps, workspace.id, workspace.install_key)
        if served is None:
            log.info("workspace %s is not served here: no member sync", workspace.id)
            return
        installation, token = served
        # Slack is read outside the scheduler's transaction; the sync writes in its own.
        work = members.sync_members(deps, installation, token)
        deps.after_ack.hand_off(_discard(work), what="member cache sync")

    return run
