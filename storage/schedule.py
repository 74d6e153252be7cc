"""The scheduler's SQL: claim a run for its period, see which are claimed, and job switches."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.communities import not_paused
from storage.models import Community, ScheduledRun, Workspace

JOB_SWITCHES = "jobs"  # communities.settings["jobs"][job name] = on/off

JOB_SCHEDULES = "schedules"  # communities.settings["schedules"][job name] = {day_of_week, hour…}

# (workspace, community or WORKSPACE_WIDE, job, period, subject: whom, when not a community; "")
RunKey = tuple[int, int, str, str, str]


async def claim_run(session: AsyncSession, key: RunKey, *, due_at: datetime, now: datetime) -> bool:
    """Claim one run; False when it ran (or is running) already, in any process."""
    workspace_id, community_id, job, period, subject = key
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(ScheduledRun)
        .values(
            workspace_id=workspace_id,
            community_id=community_id,
            job=job,
            period=period,
            subject=subject,
            due_at=due_at,
            ran_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=["job", "period", "workspace_id", "community_id", "subject"]
        )
    )
    return result.rowcount == 1


async def claimed_runs(
    session: AsyncSession, jobs: Collection[str], periods: Collection[str]
) -> set[RunKey]:
    """The runs already claimed among these jobs and periods, in every workspace."""
    if not jobs or not periods:
        return set()
    rows = await session.execute(
        select(
            ScheduledRun.workspace_id,
            ScheduledRun.community_id,
            ScheduledRun.job,
            ScheduledRun.period,
            ScheduledRun.subject,
        ).where(ScheduledRun.job.in_(jobs), ScheduledRun.period.in_(periods))
    )
    return {(w, c, j, p, s) for w, c, j, p, s in rows}


async def forget_runs(session: AsyncSession, workspace_id: int, before: datetime) -> int:
    """Drop one workspace's run records older than `before` (long past any grace window)."""
    result = await session.execute(
        delete(ScheduledRun).where(
            ScheduledRun.workspace_id == workspace_id, ScheduledRun.ran_at < before
        )
    )
    return result.rowcount or 0


async def installed_workspace_ids(session: AsyncSession) -> list[int]:
    rows = await session.scalars(
        select(Workspace.id).where(Workspace.uninstalled_at.is_(None)).order_by(Workspace.id)
    )
    return list(rows)


@dataclass(frozen=True)
class ScheduledCommunity:
    """What the scheduler needs of a community: where it posts, its timezone, its switches."""

    workspace_id: int
    community_id: int
    channel_id: str
    timezone: str
    settings: dict[str, Any]
    created_at: datetime


async def installed_communities(session: AsyncSession) -> list[ScheduledCommunity]:
    """Every active community of every installed workspace (each run stays in its workspace);
    a paused one (its channel archived, the bot removed) gets no runs until it is resumed."""
    rows = await session.execute(
        select(
            Community.workspace_id,
            Community.id,
            Community.channel_id,
            Community.timezone,
            Community.settings,
            Community.created_at,
        )
        .join(Workspace, Workspace.id == Community.workspace_id)
        # A paused community (channel archived, bot removed) gets no scheduled posts.
        .where(Workspace.uninstalled_at.is_(None), not_paused())
        .order_by(Community.id)
    )
    return [ScheduledCommunity(*row) for row in rows]


def job_is_on(settings: dict[str, Any], job: str, default: bool = True) -> bool:
    """A community's switch for one job; a job nobody switched keeps its default."""
    switches = settings.get(JOB_SWITCHES)
    if not isinstance(switches, dict):
        return default
    return bool(switches.get(job, default))


async def switch_job(
    session: AsyncSession, workspace_id: int, community_id: int, job: str, on: bool
) -> bool:
    """Turn one job on or off for one community; False when there is no such community."""
    community = await session.scalar(
        select(Community).where(
            Community.workspace_id == workspace_id, Community.id == community_id
        )
    )
    if community is None:
        return False
    switches = dict(community.settings.get(JOB_SWITCHES) or {})
    switches[job] = on
    # A new dict, so the change is seen: the JSON column does not track nested edits.
    community.settings = {**community.settings, JOB_SWITCHES: switches}
    return True
