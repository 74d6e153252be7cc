"""The jobs every installation runs, and `build_scheduler` (for `doughnut run` and the shell)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.loop import Scheduler
from scheduler.registry import Job, Jobs, Period, Schedule, Target
from storage.db import Database
from storage.installations import delete_workspace, uninstalled_before
from storage.schedule import forget_runs
from storage.workspaces import prune_processed_events

log = logging.getLogger(__name__)

# Slack retries an event for about an hour; a day of ids is plenty to catch every duplicate.
EVENT_ID_RETENTION = timedelta(days=1)
# Run records only matter within a grace window (a month at most); keep a season for the record.
RUN_RETENTION = timedelta(days=90)
# What is kept of a workspace after it uninstalls the app, in case it comes back (README).
UNINSTALL_GRACE = timedelta(days=30)


async def housekeeping(
    session: AsyncSession, target: Target, period: Period, now: datetime
) -> None:
    """Forget one workspace's handled event ids after a day, and its old run records."""
    forgotten = await prune_processed_events(session, target.workspace_id, now - EVENT_ID_RETENTION)
    await forget_runs(session, target.workspace_id, now - RUN_RETENTION)
    if forgotten:
        log.info("workspace %s: forgot %d handled event ids", target.workspace_id, forgotten)


async def forget_uninstalled(session: AsyncSession, now: datetime) -> list[int]:
    """Delete every row of the workspaces that uninstalled the app over the grace period ago."""
    expired = await uninstalled_before(session, now - UNINSTALL_GRACE)
    for workspace_id in expired:
        await delete_workspace(session, workspace_id)
        log.info("workspace %s: uninstalled over 30 days ago, its data is deleted", workspace_id)
    return expired


HOUSEKEEPING = Job(
    "housekeeping",
    "Housekeeping",
    Schedule(hour=4, minute=0),  # a quiet hour (UTC); late by up to a day is fine
    housekeeping,
    per_community=False,
    grace=timedelta(days=1),
)


def core_jobs() -> Jobs:
    """The jobs every installation has; capabilities add theirs to the same registry."""
    jobs = Jobs()
    jobs.add(HOUSEKEEPING)
    return jobs


def build_scheduler(db: Database, jobs: Jobs | None = None) -> Scheduler:
    """The product's scheduler; `doughnut run` and the shell pass the app's `registry.jobs`
    (the core jobs plus what each capability's `register` added)."""
    jobs = jobs if jobs is not None else core_jobs()
    return Scheduler(db, jobs, sweeps=[forget_uninstalled], every_tick=jobs.tick_work)
