"""The scheduler: due times from CronTrigger in local time, one claimed run per period."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler import (
    Every,
    Job,
    Jobs,
    Period,
    Schedule,
    Scheduler,
    Target,
    build_scheduler,
    core_jobs,
    run_scheduler,
)
from storage.db import Database
from storage.deliveries import enqueue
from storage.models import Community, Delivery, ProcessedEvent, ScheduledRun
from storage.schedule import switch_job
from storage.workspaces import claim_event, get_or_create_workspace, mark_uninstalled
from tests.conftest import Bot

BERLIN = ZoneInfo("Europe/Berlin")
DAY0 = datetime(2027, 1, 4, tzinfo=BERLIN)  # a Monday


async def add_workspace(db: Database, key: str = "T1") -> int:
    async with db.transaction() as session:
        workspace = await get_or_create_workspace(
            session, key=key, team_id=key, enterprise_id=None,
            is_enterprise_install=False, now=DAY0,
        )  # fmt: skip
        return workspace.id


async def add_community(
    db: Database,
    workspace_id: int,
    channel: str,
    timezone: str = "Europe/Berlin",
    created: datetime = DAY0,
) -> int:
    async with db.transaction() as session:
        community = Community(
            workspace_id=workspace_id, channel_id=channel, name=channel, timezone=timezone,
            settings={}, created_by="U1", created_at=created, updated_at=created,
        )  # fmt: skip
        session.add(community)
        await session.flush()
        return community.id


def posting_job(name: str, schedule: Schedule, every: Every = Every.DAY, **options: object) -> Job:
    """A job that posts `<name> <period>` in the community's channel, like a digest."""

    async def post(session: AsyncSession, target: Target, period: Period, now: datetime) -> None:
        await enqueue(
            session, workspace_id=target.workspace_id, method="chat.postMessage",
            channel=target.channel_id, now=now,
            payload={"channel": target.channel_id, "text": f"{name} {period.key}"},
        )  # fmt: skip

    return Job(name, name.replace("-", " ").capitalize(), schedule, post, every, **options)  # type: ignore[arg-type]


async def posts(db: Database, channel: str | None = None) -> list[str]:
    """The texts queued for Slack, oldest first (optionally in one channel)."""
    async with db.reading() as session:
        query = select(Delivery.payload).order_by(Delivery.id)
        if channel is not None:
            query = query.where(Delivery.channel == channel)
        return [payload["text"] for payload in await session.scalars(query)]


async def runs(db: Database, job: str) -> list[ScheduledRun]:
    async with db.reading() as session:
        query = select(ScheduledRun).where(ScheduledRun.job == job).order_by(ScheduledRun.id)
        return list(await session.scalars(query))


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    """A Berlin wall-clock time on `day`, as the UTC instant the clock would give."""
    return day.replace(hour=hour, minute=minute).astimezone(UTC)


DIGEST = posting_job("daily-digest", Schedule(hour=15, minute=0))


async def test_two_schedulers_ticking_at_once_post_once(db: Database) -> None:
    workspace = await add_workspace(db)
    await add_community(db, workspace, "C1")

    async def slow_post(session: AsyncSession, target: Target, period: Period, now: datetime):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.05)  # hold the claim open while the other process tries
        await DIGEST.run(session, target, period, now)

    job = Job("daily-digest", "Daily digest", DIGEST.schedule, slow_post)
    other = Database(db.url.render_as_string(hide_password=False))  # a second process's engine
    try:
        first, second = Scheduler(db, [job]), Scheduler(other, [job])
        now = at(DAY0, 15, 1)
        results = await asyncio.gather(first.tick(now), second.tick(now))
        again = await asyncio.gather(first.tick(now + timedelta(minutes=1)), second.tick(now))
    finally:
        await other.dispose()

    assert sorted(results) == [[], ["Daily digest"]]
    assert again == [[], []]
    assert await posts(db) == ["daily-digest 2027-01-04"]


async def test_a_restarted_scheduler_does_not_run_again(db: Database) -> None:
    workspace = await add_workspace(db)
    await add_community(db, workspace, "C1")

    assert await Scheduler(db, [DIGEST]).tick(at(DAY0, 15, 0)) == ["Daily digest"]
    restarted = Scheduler(db, [DIGEST])
    assert await restarted.tick(at(DAY0, 15, 1)) == []
    assert await restarted.tick(at(DAY0, 20, 0)) == []
    assert await restarted.tick(at(DAY0 + timedelta(days=1), 15, 0)) == ["Daily digest"]

    assert await posts(db) == ["daily-digest 2027-01-04", "daily-digest 2027-01-05"]


async def test_after_a_three_day_outage_only_the_latest_period_runs(db: Database) -> None:
    workspace = await add_workspace(db)
    await add_community(db, workspace, "C1")
    scheduler = build_scheduler(db, jobs_of(DIGEST))

    assert await scheduler.tick(at(DAY0, 15, 5)) == ["Housekeeping", "Daily digest"]
    # Down from Monday evening to Thursday 16:00: Tue, Wed and Thu were missed.
    back = at(DAY0 + timedelta(days=3), 16, 0)
    assert await scheduler.tick(back) == ["Housekeeping", "Daily digest"]
    assert await scheduler.tick(back + timedelta(minutes=30)) == []

    assert await posts(db) == ["daily-digest 2027-01-04", "daily-digest 2027-01-07"]
    assert [r.period for r in await runs(db, "housekeeping")] == ["2027-01-04", "2027-01-07"]


async def test_a_run_later_than_its_grace_window_is_skipped(db: Database) -> None:
    workspace = await add_workspace(db)
    await add_community(db, workspace, "C1")
    scheduler = Scheduler(db, [DIGEST])

    assert await scheduler.tick(at(DAY0, 15, 5)) == ["Daily digest"]
    # Back on Thursday at 14:00: Wednesday's 15:00 is 23 hours old, past the 6-hour grace.
    assert await scheduler.tick(at(DAY0 + timedelta(days=3), 14, 0)) == []
    assert await scheduler.tick(at(DAY0 + timedelta(days=3), 15, 0)) == ["Daily digest"]

    assert await posts(db) == ["daily-digest 2027-01-04", "daily-digest 2027-01-07"]


@pytest.mark.parametrize("sunday", [datetime(2027, 3, 28), datetime(2027, 10, 31)])
async def test_a_dst_change_neither_skips_nor_doubles_a_run(db: Database, sunday: datetime) -> None:
    workspace = await add_workspace(db)
    await add_community(db, workspace, "C1", "Europe/Berlin")
    afternoon = posting_job("afternoon", Schedule(hour=15, minute=0))
    night = posting_job("night", Schedule(hour=2, minute=30))
    scheduler = Scheduler(db, [afternoon, night])

    saturday = (sunday - timedelta(days=1)).replace(tzinfo=BERLIN)
    now, end = at(saturday, 0, 3), at(saturday + timedelta(days=2), 18, 0)
    while now < end:  # a tick every 10 minutes, from Saturday to Monday evening
        await scheduler.tick(now)
        now += timedelta(minutes=10)

    days = [f"{d:%Y-%m-%d}" for d in (saturday, sunday, sunday + timedelta(days=1))]
    texts = await posts(db)
    assert [t for t in texts if t.startswith("afternoon")] == [f"afternoon {d}" for d in days]
    assert [t for t in texts if t.startswith("night")] == [f"night {d}" for d in days]
    sunday_night = next(r for r in await runs(db, "night") if r.period == days[1])
    local = sunday_night.ran_at.astimezone(BERLIN)
    # In March 02:30 does not exist: the run comes at 03:30 CEST, the first tick after it.
    assert (local.date(), local.hour) == (sunday.date(), 3 if sunday.month == 3 else 2)


def test_crontrigger_alone_fires_twice_on_the_october_change() -> None:
    """Why the period decides, not the fire time: the trigger fires at both 02:30s."""
    trigger = Schedule(hour=2, minute=30).trigger(BERLIN)
    first = trigger.get_next_fire_time(None, datetime(2027, 10, 31, tzinfo=BERLIN))
    second = trigger.get_next_fire_time(first, first)
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)
    assert Every.DAY.key(first, BERLIN) == Every.DAY.key(second, BERLIN) == "2027-10-31"


async def test_a_weekly_job_runs_on_its_named_weekday_in_local_time(db: Database) -> None:
    workspace = await add_workspace(db)
    await add_community(db, workspace, "C1", "Pacific/Auckland")
    weekly = posting_job("weekly", Schedule(hour=9, minute=0, day_of_week="mon"), Every.WEEK)
    scheduler = Scheduler(db, [weekly])

    now = datetime(2027, 1, 8, tzinfo=UTC)  # a Friday
    while now < datetime(2027, 1, 16, tzinfo=UTC):
        await scheduler.tick(now)
        now += timedelta(minutes=30)

    [run] = await runs(db, "weekly")
    assert run.period == "2027-W02"
    assert f"{run.due_at.astimezone(ZoneInfo('Pacific/Auckland')):%a %H:%M}" == "Mon 09:00"
    assert f"{run.due_at:%a %H:%M}" == "Sun 20:00"  # in UTC it is still Sunday
    assert await posts(db) == ["weekly 2027-W02"]


def test_weekdays_are_named_not_numbered() -> None:
    with pytest.raises(ValueError, match="name the weekdays"):
        Schedule(hour=9, day_of_week="1")  # cron's Monday, APScheduler 3's Tuesday
    with pytest.raises(ValueError):
        Schedule(hour=25)


async def test_a_job_switched_off_in_one_community_runs_only_in_the_others(db: Database) -> None:
    workspace = await add_workspace(db)
    quiet = await add_community(db, workspace, "C-QUIET")
    await add_community(db, workspace, "C-LOUD")
    async with db.transaction() as session:
        assert await switch_job(session, workspace, quiet, "daily-digest", on=False)
        assert not await switch_job(session, workspace + 1, quiet, "daily-digest", on=True)
    scheduler = Scheduler(db, [DIGEST])

    assert await scheduler.tick(at(DAY0, 15, 0)) == ["Daily digest"]
    async with db.transaction() as session:
        await switch_job(session, workspace, quiet, "daily-digest", on=True)
    assert await scheduler.tick(at(DAY0 + timedelta(days=1), 15, 0)) == ["Daily digest"]

    assert await posts(db, "C-QUIET") == ["daily-digest 2027-01-05"]
    assert await posts(db, "C-LOUD") == ["daily-digest 2027-01-04", "daily-digest 2027-01-05"]


async def test_a_new_community_is_not_owed_the_runs_due_before_it_existed(db: Database) -> None:
    workspace = await add_workspace(db)
    await add_community(db, workspace, "C-NEW", created=at(DAY0, 15, 30))
    scheduler = Scheduler(db, [DIGEST])

    assert await scheduler.tick(at(DAY0, 16, 0)) == []
    assert await scheduler.tick(at(DAY0 + timedelta(days=1), 15, 0)) == ["Daily digest"]
    assert await posts(db) == ["daily-digest 2027-01-05"]


async def test_a_failing_run_claims_nothing_and_is_tried_again_later(db: Database) -> None:
    workspace = await add_workspace(db)
    await add_community(db, workspace, "C1")
    broken = True

    async def flaky(session: AsyncSession, target: Target, period: Period, now: datetime):  # type: ignore[no-untyped-def]
        await DIGEST.run(session, target, period, now)
        if broken:
            raise RuntimeError("boom")

    scheduler = Scheduler(db, [Job("daily-digest", "Daily digest", DIGEST.schedule, flaky)])

    assert await scheduler.tick(at(DAY0, 15, 0)) == []
    assert await runs(db, "daily-digest") == [] and await posts(db) == []
    broken = False
    assert await scheduler.tick(at(DAY0, 15, 1)) == []  # not on every tick
    assert await scheduler.tick(at(DAY0, 15, 6)) == ["Daily digest"]
    assert await posts(db) == ["daily-digest 2027-01-04"]


async def test_housekeeping_forgets_each_workspaces_old_event_ids_once_a_day(db: Database) -> None:
    now = at(DAY0, 9, 0)
    async with db.transaction() as session:
        for key in ("T1", "T2"):
            workspace = await get_or_create_workspace(
                session, key=key, team_id=key, enterprise_id=None,
                is_enterprise_install=False, now=now,
            )  # fmt: skip
            assert await claim_event(
                session, workspace.id, f"Ev{key}OLD", now - timedelta(hours=25)
            )
            assert await claim_event(
                session, workspace.id, f"Ev{key}NEW", now - timedelta(hours=23)
            )
        session.add(
            ScheduledRun(
                workspace_id=workspace.id, community_id=0, job="housekeeping",
                period="2026-09-01", due_at=now - timedelta(days=120),
                ran_at=now - timedelta(days=120),
            )
        )  # fmt: skip
    scheduler = build_scheduler(db)

    assert await scheduler.tick(now) == ["Housekeeping"]
    assert await scheduler.tick(now + timedelta(hours=3)) == []

    async with db.reading() as session:
        kept = list(await session.scalars(select(ProcessedEvent.event_id).order_by("event_id")))
    assert kept == ["EvT1NEW", "EvT2NEW"]
    assert [r.period for r in await runs(db, "housekeeping")] == ["2027-01-04", "2027-01-04"]


async def test_an_uninstalled_workspace_gets_no_runs(db: Database) -> None:
    workspace = await add_workspace(db)
    await add_community(db, workspace, "C1")
    async with db.transaction() as session:
        assert await mark_uninstalled(session, "T1", DAY0)

    assert await build_scheduler(db, jobs_of(DIGEST)).tick(at(DAY0, 15, 0)) == []
    assert await posts(db) == []


async def test_the_leaders_apscheduler_loop_ticks_until_it_resigns(db: Database) -> None:
    workspace = await add_workspace(db)
    await add_community(db, workspace, "C1")
    posted = asyncio.Event()

    async def post(session: AsyncSession, target: Target, period: Period, now: datetime) -> None:
        await DIGEST.run(session, target, period, now)
        posted.set()

    scheduler = Scheduler(db, [Job("daily-digest", "Daily digest", DIGEST.schedule, post)])
    stop = asyncio.Event()
    loop = asyncio.create_task(run_scheduler(scheduler, lambda: at(DAY0, 15, 0), stop, 3600))

    await asyncio.wait_for(posted.wait(), timeout=10)  # the first tick comes at once
    stop.set()
    await asyncio.wait_for(loop, timeout=10)

    assert await posts(db) == ["daily-digest 2027-01-04"]


async def test_a_scheduled_post_reaches_the_communitys_channel(bot: Bot) -> None:
    team = bot.state.team_id
    workspace = await add_workspace(bot.db, team)
    general = bot.channel("general")
    await add_community(bot.db, workspace, general)
    scheduler = Scheduler(bot.db, [DIGEST])
    bot.clock.set(at(DAY0, 15, 0))

    assert await scheduler.tick(bot.clock.now()) == ["Daily digest"]
    assert await Scheduler(bot.db, [DIGEST]).tick(bot.clock.now()) == []
    await bot.settle()

    assert [m.text for m in bot.state.history(general)] == ["daily-digest 2027-01-04"]


def jobs_of(*extra: Job) -> Jobs:
    """The product's jobs plus test jobs, registered the way a capability adds its own."""
    jobs = core_jobs()
    for job in extra:
        jobs.add(job)
    return jobs


def test_a_job_name_is_registered_once() -> None:
    jobs = jobs_of(DIGEST)
    with pytest.raises(ValueError, match="already registered"):
        jobs.add(DIGEST)
    assert [job.name for job in jobs] == ["housekeeping", "daily-digest"]
