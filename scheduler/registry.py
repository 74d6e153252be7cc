"""What a scheduled job is, and the registry each capability adds its jobs to.

A job names a default schedule (cron fields, named weekdays), a scope (each community, or the
whole workspace), and the period it runs once in (a local day, week or month). Due times come
from APScheduler's `CronTrigger` in the community's timezone; the period, not the fire time,
decides whether a run is owed, so a DST change neither skips nor doubles a run.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WORKSPACE_WIDE

if TYPE_CHECKING:
    from storage.db import Database

# Late runs still go out this long after their due time (a restart, a failover, a short outage);
# older ones are skipped: a digest a day late is noise.
DEFAULT_GRACE = timedelta(hours=6)


class Every(enum.StrEnum):
    """The period a job runs once in, in the community's timezone."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    def key(self, due: datetime, zone: tzinfo) -> str:
        """The period `due` falls in: `2027-03-28`, `2027-W13` or `2027-03`."""
        local = due.astimezone(zone).date()
        if self is Every.DAY:
            return local.isoformat()
        if self is Every.WEEK:
            year, week, _ = local.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{local:%Y-%m}"


@dataclass(frozen=True)
class Schedule:
    """Cron fields for a job's default schedule, e.g. `Schedule(hour=9, day_of_week="mon")`."""

    hour: int | str = 0
    minute: int | str = 0
    day_of_week: str | None = None  # named only: mon, tue… (APScheduler 3 reads "1" as Tuesday)
    day: int | str | None = None

    def __post_init__(self) -> None:
        if self.day_of_week is not None and re.search(r"\d", self.day_of_week):
            raise ValueError(
                f"day_of_week={self.day_of_week!r}: name the weekdays (mon, tue … sun), "
                "numbers mean different days to cron and to APScheduler"
            )
        self.trigger(ZoneInfo("UTC"))  # a bad field fails here, at registration

    @classmethod
    def read(cls, stored: object, default: Schedule) -> Schedule:
        """A schedule stored in a community's settings (`{"day_of_week": "fri", "hour": 15,
        "minute": 0}`), each missing field from `default`; `default` when it is not valid."""
        if not isinstance(stored, Mapping):
            return default
        fields = {k: stored[k] for k in ("hour", "minute", "day_of_week", "day") if k in stored}
        try:
            return cls(**{**default.__dict__, **fields})
        except (TypeError, ValueError):
            return default

    def trigger(self, zone: tzinfo) -> CronTrigger:
        return CronTrigger(
            day=self.day, day_of_week=self.day_of_week, hour=self.hour, minute=self.minute,
            second=0, timezone=zone,
        )  # fmt: skip


def latest_due(trigger: CronTrigger, now: datetime, grace: timedelta) -> datetime | None:
    """The trigger's last fire time in (now - grace, now], or None."""
    latest = None
    fire = trigger.get_next_fire_time(None, now - grace)
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire)
    return latest


@cache
def zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@dataclass(frozen=True)
class Target:
    """Where one run happens: a community, or a whole workspace (community_id WORKSPACE_WIDE)."""

    workspace_id: int
    community_id: int
    channel_id: str | None
    timezone: str
    since: datetime | None = None  # runs due before this (the community's creation) are not owed
    # Whom the run is for when not a whole community (a reviewer's user id): keys the run too.
    subject: str = ""
    # The community's settings (its switches, schedules, snapshot anchor…), read by the job.
    settings: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_workspace_wide(self) -> bool:
        return self.community_id == WORKSPACE_WIDE


@dataclass(frozen=True)
class Period:
    """The period a run is for (its key), and the fire time that made it due."""

    key: str
    due: datetime


# (session, target, period, now): queue the run's deliveries in `session`, the claim's transaction.
# It may return False when it had nothing to say (claimed all the same, but not reported as run).
JobRun = Callable[[AsyncSession, Target, Period, datetime], Awaitable[bool | None]]
# (session, now): the targets of a job that runs per person, not per community (review nudges).
JobTargets = Callable[[AsyncSession, datetime], Awaitable[list[Target]]]
# (target, period): whether a due period is owed at all (a fortnightly job on its weekly trigger).
JobOwed = Callable[[Target, Period], bool]
# (database, now): work keyed by its own rows rather than by a period (an After Action Review's
# start and summary), run on every tick; it claims each step itself, in the transaction that
# queues the step's posts, and returns how many steps it took.
TickWork = Callable[["Database", datetime], Awaitable[int]]


@dataclass(frozen=True)
class EveryTick:
    """Work run on every tick (`TickWork`), and what people read when it did something."""

    title: str
    work: TickWork


@dataclass(frozen=True)
class Job:
    """A scheduled job: `name` keys its runs and switches, `title` is what people read."""

    name: str
    title: str
    schedule: Schedule
    run: JobRun
    every: Every = Every.DAY
    per_community: bool = True
    grace: timedelta = DEFAULT_GRACE
    on_by_default: bool = True
    timezone: str = "UTC"  # for workspace-wide jobs; community jobs use the community's
    # Per person instead of per community: the targets, each with its own timezone and subject.
    targets: JobTargets | None = None
    owed: JobOwed | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", self.name):
            raise ValueError(f"job name {self.name!r}: lowercase words joined by '-'")

    def schedule_for(self, settings: Mapping[str, Any]) -> Schedule:
        """The community's own time for this job (`settings["schedules"][name]`), or the default."""
        stored = settings.get("schedules")
        if not isinstance(stored, Mapping) or self.name not in stored:
            return self.schedule
        return Schedule.read(stored[self.name], self.schedule)


@dataclass
class Jobs:
    """The registry: each capability adds its jobs (`jobs.add(Job(...))` or `@jobs.job(...)`)."""

    _jobs: dict[str, Job] = field(default_factory=dict)
    tick_work: list[EveryTick] = field(default_factory=list)

    def add(self, job: Job) -> Job:
        if job.name in self._jobs:
            raise ValueError(f"a job named {job.name!r} is already registered")
        self._jobs[job.name] = job
        return job

    def job(
        self,
        name: str,
        title: str,
        schedule: Schedule,
        *,
        every: Every = Every.DAY,
        per_community: bool = True,
        grace: timedelta = DEFAULT_GRACE,
        on_by_default: bool = True,
        timezone: str = "UTC",
        targets: JobTargets | None = None,
        owed: JobOwed | None = None,
    ) -> Callable[[JobRun], JobRun]:
        """Register the decorated function as a job."""

        def register(run: JobRun) -> JobRun:
            self.add(
                Job(
                    name,
                    title,
                    schedule,
                    run,
                    every=every,
                    per_community=per_community,
                    grace=grace,
                    on_by_default=on_by_default,
                    timezone=timezone,
                    targets=targets,
                    owed=owed,
                )
            )
            return run

        return register

    def every_tick(self, title: str, work: TickWork) -> TickWork:
        """Register work that runs on every tick and claims its own steps."""
        self.tick_work.append(EveryTick(title, work))
        return work

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs.values())

    def __len__(self) -> int:
        return len(self._jobs)
