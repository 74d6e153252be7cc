"""The digests' scheduled jobs: each run composes from its period and queues its posts in the
scheduler's transaction (the one that claims the run), so a run is posted once or not at all."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import digests as core
from handlers.digests import views
from scheduler.registry import Every, Job, Period, Target, zone
from storage import digests as queries
from storage.deliveries import enqueue
from storage.digests import Scope
from storage.models import WORKSPACE_WIDE, Priority, RoleName

# A weekend's outage still gets the week's recognition out; later, the next week's comes.
WEEKLY_GRACE_DAYS = 3


async def _post(
    session: AsyncSession, target: Target, channel: str, body: dict[str, Any], now: datetime
) -> None:
    await enqueue(
        session, workspace_id=target.workspace_id, method="chat.postMessage", channel=channel,
        payload={"channel": channel, **body}, now=now, priority=Priority.BULK,
    )  # fmt: skip


async def _name(session: AsyncSession, target: Target) -> str:
    return await queries.community_name(session, target.workspace_id, target.community_id)


async def weekly_digest(
    session: AsyncSession, target: Target, period: Period, now: datetime
) -> None:
    """The week before the due time (not before now: a late run tells the same week)."""
    assert target.channel_id is not None
    start, end = core.week_before(period.due)
    scope = Scope(target.workspace_id, target.community_id, start, end)
    digest = await core.weekly_digest(session, scope, await _name(session, target))
    await _post(session, target, target.channel_id, views.weekly_digest(digest), now)


def snapshot_owed(target: Target, period: Period) -> bool:
    anchor = core.snapshot_anchor(target.settings, target.since)
    return core.fortnight_owed(anchor, period.due.astimezone(ZoneInfo(target.timezone)).date())


async def project_snapshot(
    session: AsyncSession, target: Target, period: Period, now: datetime
) -> None:
    body = views.snapshot_prompt(await _name(session, target))
    for channel in core.snapshot_channels(target.settings, target.channel_id):
        await _post(session, target, channel, body, now)


async def reviewer_targets(session: AsyncSession, now: datetime) -> list[Target]:
    """Each reviewer once per workspace, in their own timezone; the run is keyed by them."""
    return [
        Target(
            workspace_id,
            WORKSPACE_WIDE,
            None,
            own if own and zone(own) else other,
            subject=user_id,
        )
        for workspace_id, user_id, own, other in await queries.reviewers(session)
    ]


async def review_nudge(
    session: AsyncSession, target: Target, period: Period, now: datetime
) -> bool:
    """A DM listing what waits for them; nothing (and False) when nothing waits."""
    nudge = await core.review_nudge(session, target.workspace_id, target.subject, period.due)
    if nudge.total:
        await _post(session, target, target.subject, views.review_nudge(nudge), now)
    return bool(nudge.total)


def _month(target: Target, period: Period) -> tuple[Scope, ZoneInfo]:
    zone = ZoneInfo(target.timezone)
    start, end = core.month_before(period.due, zone)
    return Scope(target.workspace_id, target.community_id, start, end), zone


async def where_next(session: AsyncSession, target: Target, period: Period, now: datetime) -> None:
    assert target.channel_id is not None
    scope, zone = _month(target, period)
    found = await core.where_next(session, scope, await _name(session, target), zone)
    await _post(session, target, target.channel_id, views.where_next(found), now)


async def _to_each(
    session: AsyncSession, target: Target, role: RoleName, body: dict[str, Any], now: datetime
) -> None:
    for user_id in await queries.community_roles(
        session, target.workspace_id, target.community_id, role
    ):
        await _post(session, target, user_id, body, now)


async def sponsor_digest(
    session: AsyncSession, target: Target, period: Period, now: datetime
) -> None:
    scope, zone = _month(target, period)
    found = await core.sponsor_digest(session, scope, await _name(session, target), zone)
    await _to_each(session, target, RoleName.SPONSOR, views.sponsor_digest(found), now)


async def coordinator_digest(
    session: AsyncSession, target: Target, period: Period, now: datetime
) -> None:
    scope, zone = _month(target, period)
    found = await core.coordinator_digest(session, scope, await _name(session, target), zone)
    await _to_each(session, target, RoleName.COORDINATOR, views.coordinator_digest(found), now)


def _job(name: str, run: Any, every: Every, **options: Any) -> Job:
    return Job(
        name, core.JOB_TITLES[name], core.DEFAULT_SCHEDULES[name], run, every,
        on_by_default=name not in core.OFF_BY_DEFAULT, **options,
    )  # fmt: skip


def digest_jobs() -> list[Job]:
    """The digests' jobs with their default schedules (each community may set its own)."""
    return [
        _job(core.WEEKLY, weekly_digest, Every.WEEK, grace=timedelta(days=WEEKLY_GRACE_DAYS)),
        _job(core.SNAPSHOT, project_snapshot, Every.WEEK, owed=snapshot_owed),
        _job(core.REVIEW_NUDGE, review_nudge, Every.WEEK, targets=reviewer_targets),
        _job(core.WHERE_NEXT, where_next, Every.MONTH, grace=timedelta(days=2)),
        _job(core.SPONSOR, sponsor_digest, Every.MONTH, grace=timedelta(days=2)),
        _job(core.COORDINATOR, coordinator_digest, Every.MONTH, grace=timedelta(days=2)),
    ]
