"""The scheduler's tick: cost of an idle tick and of one that claims and queues a run everywhere.

Run by hand: `python bench/scheduler_tick.py [--communities 1000] [--database-url URL]`. Builds a
migrated database (a temporary SQLite file by default) with that many communities spread over
twenty timezones, then prints the time of a tick with every period claimed (the leader's usual
30-second tick), and of the tick that claims and queues one post per community.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scheduler import Job, Period, Schedule, Scheduler, Target, core_jobs  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.deliveries import enqueue  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Community  # noqa: E402
from storage.workspaces import get_or_create_workspace  # noqa: E402

ZONES = [
    "Europe/Berlin", "Europe/London", "Europe/Lisbon", "America/New_York", "America/Chicago",
    "America/Denver", "America/Los_Angeles", "America/Sao_Paulo", "Asia/Tokyo", "Asia/Kolkata",
    "Asia/Singapore", "Asia/Dubai", "Australia/Sydney", "Pacific/Auckland", "Africa/Lagos",
    "Africa/Nairobi", "Europe/Istanbul", "America/Mexico_City", "Asia/Shanghai", "UTC",
]  # fmt: skip


async def post(session, target: Target, period: Period, now: datetime) -> None:  # type: ignore[no-untyped-def]
    await enqueue(
        session, workspace_id=target.workspace_id, method="chat.postMessage",
        channel=target.channel_id, now=now, payload={"channel": target.channel_id, "text": "hi"},
    )  # fmt: skip


async def main(url: str, communities: int) -> None:
    db = Database(url)
    await upgrade(db)
    start = datetime(2027, 1, 4, 0, 0, tzinfo=UTC)
    async with db.transaction() as session:
        workspace = await get_or_create_workspace(
            session, key="T1", team_id="T1", enterprise_id=None,
            is_enterprise_install=False, now=start,
        )  # fmt: skip
        for i in range(communities):
            session.add(
                Community(
                    workspace_id=workspace.id, channel_id=f"C{i:06d}", name=f"c{i}",
                    timezone=ZONES[i % len(ZONES)], settings={}, created_by="U1",
                    created_at=start, updated_at=start,
                )
            )  # fmt: skip
    jobs = core_jobs()
    # Every hour, once a day: each tick finds a fire time within the grace window everywhere.
    jobs.add(Job("bench", "Bench", Schedule(hour="*", minute=0), post))
    jobs.add(Job("weekly", "Weekly", Schedule(hour=9, day_of_week="mon"), post))
    scheduler = Scheduler(db, jobs)

    now = start + timedelta(days=1, minutes=1)
    began = time.perf_counter()
    await scheduler.tick(now)
    claiming = time.perf_counter() - began
    idle = []
    for i in range(10):
        began = time.perf_counter()
        await scheduler.tick(now + timedelta(seconds=30 * (i + 1)))
        idle.append(time.perf_counter() - began)
    await db.dispose()
    print(f"{db.url.get_backend_name()}, {communities} communities, {len(jobs)} jobs")
    print(f"  tick that claims and queues: {claiming * 1000:.0f} ms")
    print(f"  idle tick (all claimed):     p50 {statistics.median(idle) * 1000:.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--communities", type=int, default=1000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    asyncio.run(main(url, args.communities))
