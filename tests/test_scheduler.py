"""The scheduler's entry point: tick(now) runs what is due, once per due time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from scheduler import Job, Scheduler, build_scheduler
from storage.db import Database
from storage.models import ProcessedEvent
from storage.workspaces import claim_event, get_or_create_workspace

MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def weekly_on_monday_9(now: datetime, last: datetime | None) -> bool:
    this_week = now - timedelta(days=now.weekday())
    slot = this_week.replace(hour=9, minute=0, second=0, microsecond=0)
    return now >= slot and (last is None or last < slot)


async def test_tick_runs_due_jobs_once_per_slot() -> None:
    runs: list[datetime] = []

    async def digest(now: datetime) -> None:
        runs.append(now)

    scheduler = Scheduler([Job("digest", weekly_on_monday_9, digest)])

    assert await scheduler.tick(MONDAY_9 - timedelta(minutes=1)) == []
    assert await scheduler.tick(MONDAY_9) == ["digest"]
    assert await scheduler.tick(MONDAY_9 + timedelta(hours=3)) == []
    assert await scheduler.tick(MONDAY_9 + timedelta(days=7)) == ["digest"]
    assert runs == [MONDAY_9, MONDAY_9 + timedelta(days=7)]


async def test_a_failing_job_does_not_stop_the_others() -> None:
    ran: list[str] = []

    async def broken(now: datetime) -> None:
        raise RuntimeError("boom")

    async def fine(now: datetime) -> None:
        ran.append("fine")

    always = lambda now, last: True  # noqa: E731
    scheduler = Scheduler([Job("broken", always, broken), Job("fine", always, fine)])

    assert await scheduler.tick(MONDAY_9) == ["fine"]
    assert ran == ["fine"]


async def test_handled_event_ids_are_forgotten_after_a_day(db: Database) -> None:
    async with db.transaction() as session:
        workspace = await get_or_create_workspace(
            session, key="T1", team_id="T1", enterprise_id=None,
            is_enterprise_install=False, now=MONDAY_9,
        )  # fmt: skip
        assert await claim_event(session, workspace.id, "Ev0OLD", MONDAY_9 - timedelta(hours=25))
        assert await claim_event(session, workspace.id, "Ev0NEW", MONDAY_9 - timedelta(hours=23))

    assert await build_scheduler(db).tick(MONDAY_9) == ["Housekeeping"]

    async with db.reading() as session:
        kept = list(await session.scalars(select(ProcessedEvent.event_id)))
    assert kept == ["Ev0NEW"]
