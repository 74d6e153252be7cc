"""`Scheduler.tick(now)`: run every job whose period is due at `now`, each run claimed once.

The leader's APScheduler loop and the shell both call `tick` with the injected clock's time,
so tests and the shell can move time. What ran is in the database, not in memory: a restart,
a second leader or a failover finds the claim and does not run it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.registry import EveryTick, Job, Period, Schedule, Target, latest_due, zone
from storage.db import Database
from storage.models import WORKSPACE_WIDE
from storage.schedule import (
    RunKey,
    claim_run,
    claimed_runs,
    installed_communities,
    installed_workspace_ids,
    job_is_on,
)

log = logging.getLogger(__name__)

# A run that failed (and so was not claimed) is tried again after this, not on every tick.
RETRY_FAILED_AFTER = timedelta(minutes=5)

Due = tuple[Job, Target, Period]
# Work over every workspace, installed or not (an uninstalled one's data after its grace period):
# no claims, so it must be harmless to run twice; run at most once per SWEEP_EVERY.
Sweep = Callable[[AsyncSession, datetime], Awaitable[Any]]
SWEEP_EVERY = timedelta(hours=1)


def run_key(job: Job, target: Target, period: Period) -> RunKey:
    return (target.workspace_id, target.community_id, job.name, period.key, target.subject)


class Scheduler:
    def __init__(
        self,
        db: Database,
        jobs: Iterable[Job],
        *,
        sweeps: Iterable[Sweep] = (),
        every_tick: Iterable[EveryTick] = (),
    ) -> None:
        self.db = db
        self.jobs = list(jobs)
        self.sweeps = list(sweeps)
        self.every_tick = list(every_tick)
        self._swept_at: datetime | None = None
        self._retry_at: dict[RunKey, datetime] = {}
        self._triggers: dict[tuple[Schedule, str], CronTrigger] = {}
        self._bad_zones: set[str] = set()

    async def tick(self, now: datetime) -> list[str]:
        """Run what is due at `now`; returns the titles of the jobs that ran."""
        ran: set[str] = set()
        for job, target, period in await self._due(now):
            if await self._run(job, target, period, now):
                ran.add(job.name)
        worked: list[str] = []
        for each in self.every_tick:
            try:
                if await each.work(self.db, now):
                    worked.append(each.title)
            except Exception:  # one failing piece of work must not stop the others
                log.exception("the scheduler's %s failed; tried again next tick", each.title)
        await self._sweep(now)
        self._retry_at = {k: at for k, at in self._retry_at.items() if at > now - timedelta(days=1)}
        return [job.title for job in self.jobs if job.name in ran] + worked

    async def _sweep(self, now: datetime) -> None:
        if not self.sweeps or (self._swept_at is not None and now - self._swept_at < SWEEP_EVERY):
            return
        for sweep in self.sweeps:
            try:
                async with self.db.transaction() as session:
                    await sweep(session, now)
            except Exception:
                log.exception("the scheduler's sweep %s failed", getattr(sweep, "__name__", sweep))
                return  # tried again on the next tick
        self._swept_at = now

    async def _due(self, now: datetime) -> list[Due]:
        """Each job's latest period due within its grace window, not claimed yet."""
        async with self.db.reading() as session:
            workspaces = await installed_workspace_ids(session)
            communities = await installed_communities(session)
            due: list[Due] = []
            for job in self.jobs:
                if job.targets is not None:
                    targets = await job.targets(session, now)
                elif job.per_community:
                    targets = [
                        Target(
                            c.workspace_id,
                            c.community_id,
                            c.channel_id,
                            c.timezone,
                            c.created_at,
                            settings=c.settings,
                        )  # fmt: skip
                        for c in communities
                        if job_is_on(c.settings, job.name, job.on_by_default)
                    ]
                else:
                    targets = [Target(w, WORKSPACE_WIDE, None, job.timezone) for w in workspaces]
                due += self._periods_due(job, targets, now)
            claimed = await claimed_runs(
                session, {job.name for job, _, _ in due}, {period.key for _, _, period in due}
            )
        return [d for d in due if run_key(*d) not in claimed]

    def _periods_due(self, job: Job, targets: list[Target], now: datetime) -> list[Due]:
        due: list[Due] = []
        # Communities share timezones and schedules: one lookup each.
        periods: dict[tuple[Schedule, str], Period | None] = {}
        for target in targets:
            schedule = job.schedule_for(target.settings)
            if (schedule, target.timezone) not in periods:
                periods[schedule, target.timezone] = self._period_due(
                    job, schedule, target.timezone, now
                )
            period = periods[schedule, target.timezone]
            if period is None or (target.since is not None and period.due < target.since):
                continue
            if job.owed is not None and not job.owed(target, period):
                continue
            due.append((job, target, period))
        return due

    def _period_due(
        self, job: Job, schedule: Schedule, timezone: str, now: datetime
    ) -> Period | None:
        """The period of the schedule's latest fire time within its grace window, in `timezone`."""
        tz = zone(timezone)
        if tz is None:
            if timezone not in self._bad_zones:
                self._bad_zones.add(timezone)
                log.warning("no scheduled runs in unknown timezone %r", timezone)
            return None
        trigger = self._triggers.get((schedule, timezone))
        if trigger is None:
            trigger = self._triggers[(schedule, timezone)] = schedule.trigger(tz)
        fired = latest_due(trigger, now, job.grace)
        return None if fired is None else Period(job.every.key(fired, tz), fired)

    async def _run(self, job: Job, target: Target, period: Period, now: datetime) -> bool:
        """Claim the run and queue its deliveries in one transaction; a failure claims nothing.
        True when it ran and said something (a run with nothing to say is claimed all the same)."""
        key = run_key(job, target, period)
        if self._retry_at.get(key, now) > now:
            return False
        try:
            async with self.db.transaction() as session:
                if not await claim_run(session, key, due_at=period.due, now=now):
                    return False  # another tick, process or leader has it
                said = await job.run(session, target, period, now)
        except Exception:
            log.exception(
                "scheduled job %s failed for workspace %s, community %s, period %s %s",
                job.name, target.workspace_id, target.community_id, period.key, target.subject,
            )  # fmt: skip
            self._retry_at[key] = now + RETRY_FAILED_AFTER
            return False
        self._retry_at.pop(key, None)
        return said is not False


async def run_scheduler(
    scheduler: Scheduler, now: Callable[[], datetime], stop: asyncio.Event, interval: float = 30
) -> None:
    """The leader's loop: APScheduler ticks every `interval` s, first at once, until `stop`."""
    failing = False
    in_flight: set[asyncio.Task[Any]] = set()

    async def tick() -> None:
        nonlocal failing
        task = asyncio.current_task()
        assert task is not None
        in_flight.add(task)
        try:
            await scheduler.tick(now())
        except asyncio.CancelledError:
            # Stopping (the loop's shutdown cancels a tick in flight): its transaction rolls back.
            # Not re-raised: APScheduler would log the cancellation as a job's traceback.
            log.info("a scheduler tick was stopped before it finished")
        except Exception as error:
            # The database may be away for a while: one traceback, then a line per tick.
            if failing:
                log.warning("the scheduler's tick failed again: %s", error)
            else:
                log.exception("the scheduler's tick failed")
            failing = True
        else:
            failing = False
        finally:
            in_flight.discard(task)

    quiet_unless_configured(logging.getLogger("apscheduler"))
    loop = AsyncIOScheduler(timezone=UTC)
    loop.add_job(
        tick,
        IntervalTrigger(seconds=interval, timezone=UTC),
        id="tick",
        name="scheduler tick",
        next_run_time=datetime.now(UTC),  # the wall clock: APScheduler's own timer
        max_instances=1,  # a tick still running makes the next one skip, never overlap
        coalesce=True,
        misfire_grace_time=None,
    )
    loop.start()
    try:
        await stop.wait()
    finally:
        loop.shutdown(wait=False)  # queued on the loop; it cancels a tick in flight
        await asyncio.sleep(0)
        # The cancelled tick's transaction rolls back before the leader hands over.
        await asyncio.gather(*in_flight, return_exceptions=True)


def quiet_unless_configured(logger: logging.Logger) -> None:
    """APScheduler logs two INFO lines per tick; keep its warnings unless told otherwise."""
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)
