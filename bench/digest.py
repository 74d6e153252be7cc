"""Composing digests at scale (run by hand, not by pytest).

    python bench/digest.py [--kudos 1000000] [--quick] [--postgres-url postgresql://postgres@127.0.0.1/postgres]

One community with 10,000 members, 100,000 lessons (a third validated, 200,000 reuses, 5,000
peer assists) and kudos over two years, into SQLite (a temporary file) and, when PostgreSQL
answers, into a scratch PostgreSQL database (created and dropped). The last week holds what a
community of that size gives in a week (1,000,000 / 104 ≈ 9,600 kudos); the history before it
grows from 100k to 1M kudos in all. At each size it times composing the weekly digest (the
queries and the Block Kit) and the monthly sponsor digest: the median of 5 runs, wall time
and (what SQLite costs, in this process) CPU time.

Goal: the weekly digest ≤ 0.5 s at 1M kudos, and flat as history grows (it reads the week's
rows through the (community_id, given_at) index, never the whole history).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg  # noqa: E402
from sqlalchemy import Table, insert, select, text  # noqa: E402

from bot.core import digests as core  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from handlers.digests import views  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.digests import Scope  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    Community,
    Kudos,
    Lesson,
    LessonDecision,
    LessonUse,
    Member,
    PeerAssist,
    Role,
    RoleName,
    Workspace,
)

NOW = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)  # Friday 15:00 in Berlin
TWO_YEARS = timedelta(days=730)
WEEK = timedelta(days=7)
MEMBERS = 10_000
LESSONS = 100_000
USES = 200_000
ASSISTS = 5_000
WEEKLY_KUDOS = 1_000_000 // 104
CHUNK = 20_000
WORDS = ("rollback", "canary", "pager", "schema", "backup", "latency", "runbook", "review",
         "postmortem", "capacity", "demo", "pricing", "objection", "onboarding")  # fmt: skip


def user(i: int) -> str:
    return f"U{i:08d}"


async def bulk(db: Database, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """Insert many rows fast: COPY on PostgreSQL, executemany on SQLite, in chunks."""
    batch: list[dict[str, Any]] = []

    async def flush() -> None:
        if not batch:
            return
        async with db.engine.begin() as conn:
            if db.url.get_backend_name() == "postgresql":
                raw = (await conn.get_raw_connection()).driver_connection
                columns = list(batch[0])
                await raw.copy_records_to_table(  # type: ignore[union-attr]
                    table.name, records=[tuple(r[c] for c in columns) for r in batch],
                    columns=columns, timeout=600,
                )  # fmt: skip
            else:
                await conn.execute(insert(table), batch)
        batch.clear()

    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            await flush()
    await flush()


def kudos_rows(ws: int, cid: int, n: int, start: datetime, end: datetime, rng: random.Random):  # type: ignore[no-untyped-def]
    span = (end - start).total_seconds()
    for i in range(n):
        given = start + timedelta(seconds=rng.random() * span)
        giver, receiver = rng.randrange(MEMBERS), rng.randrange(MEMBERS)
        yield {
            "workspace_id": ws, "community_id": cid, "giver_id": user(giver),
            "receiver_id": user(receiver if receiver != giver else (giver + 1) % MEMBERS),
            "reason": f"thanks for the {rng.choice(WORDS)} help #{i}", "tags": "",
            "source": "command", "status": "given" if rng.random() > 0.02 else "undone",
            "channel_id": f"C{rng.randrange(40):07d}", "message_ts": None, "permalink": None,
            "visibility": "public" if rng.random() > 0.1 else "private", "given_at": given,
            "local_day": given.date().isoformat(), "refusal": None, "undone_at": None,
        }  # fmt: skip


async def seed_base(db: Database, rng: random.Random) -> tuple[int, int]:
    async with db.transaction() as session:
        workspace = Workspace(install_key="TBENCH", team_id="TBENCH", created_at=NOW - TWO_YEARS)
        session.add(workspace)
        await session.flush()
        community = Community(
            workspace_id=workspace.id, channel_id="C0BENCH", name="Site Reliability",
            timezone="Europe/Berlin", settings={}, created_by=user(0),
            created_at=NOW - TWO_YEARS, updated_at=NOW - TWO_YEARS,
        )  # fmt: skip
        session.add(community)
        await session.flush()
        for i in range(3):
            session.add(Role(workspace_id=workspace.id, community_id=community.id,
                             user_id=user(i), role=RoleName.SPONSOR))  # fmt: skip
        ws, cid = workspace.id, community.id
    tables = {
        m.__tablename__: m.__table__
        for m in (Member, Lesson, LessonDecision, LessonUse, PeerAssist)
    }  # type: ignore[attr-defined]
    await bulk(db, tables["members"], (
        {"workspace_id": ws, "user_id": user(i), "name": f"member{i}", "timezone": "Europe/Berlin",
         "is_bot": False, "deleted": False, "is_admin": False, "is_owner": False,
         "is_restricted": False, "updated_at": NOW}
        for i in range(MEMBERS)
    ))  # fmt: skip
    span = TWO_YEARS.total_seconds()
    created = [NOW - timedelta(seconds=rng.random() * span) for _ in range(LESSONS)]
    await bulk(db, tables["lessons"], (
        {"workspace_id": ws, "community_id": cid,
         "title": f"{rng.choice(WORDS)} {rng.choice(WORDS)} lesson {i}", "expected": "",
         "happened": "", "why": "", "next_time": "Do the careful thing.", "project": "",
         "tags": rng.choice(WORDS), "author_id": user(rng.randrange(MEMBERS)),
         "source_channel_id": "C0BENCH", "source_ts": None, "source_thread_ts": None,
         "permalink": None, "visibility": "public" if i % 10 else "private", "published": False,
         "status": "validated" if i % 3 == 0 else "captured", "use_count": 0, "channel_count": 0,
         "review_kind": "validate" if i % 3 == 0 else None,
         "reviewed_by": user(1) if i % 3 == 0 else None,
         "reviewed_at": created[i] + timedelta(days=2) if i % 3 == 0 else None,
         "review_note": None, "assist_id": None, "priority_id": None,
         "created_at": created[i], "updated_at": created[i]}
        for i in range(LESSONS)
    ))  # fmt: skip
    async with db.reading() as session:
        first = await session.scalar(select(Lesson.id).order_by(Lesson.id).limit(1))
    assert first is not None
    await bulk(db, tables["lesson_decisions"], (
        {"workspace_id": ws, "lesson_id": first + i, "kind": "validate", "by_user": user(1),
         "note": "", "decided_at": created[i] + timedelta(days=2)}
        for i in range(0, LESSONS, 3)
    ))  # fmt: skip
    used: set[tuple[int, int]] = set()
    while len(used) < USES:
        used.add((rng.randrange(LESSONS), rng.randrange(MEMBERS)))
    await bulk(db, tables["lesson_uses"], (
        {"workspace_id": ws, "lesson_id": first + lesson, "user_id": user(member),
         "channel_id": "C0BENCH", "note": "",
         "used_at": created[lesson] + (NOW - created[lesson]) * rng.random()}
        for lesson, member in used
    ))  # fmt: skip
    await bulk(db, tables["peer_assists"], (
        {"workspace_id": ws, "community_id": cid, "title": f"assist {i}", "plan": "", "learn": "",
         "tags": "", "needed_by": None, "format": "call", "team": "",
         "requester_id": user(rng.randrange(MEMBERS)), "co_requester_id": None,
         "source_channel_id": None, "source_ts": None, "permalink": None,
         "visibility": "public", "status": "done", "status_by": user(0), "status_at": at,
         "post_channel_id": None, "post_ts": None, "group_dm_id": None, "created_at": at,
         "matched_at": None, "closed_at": at, "no_helper_nudged_at": None,
         "overdue_nudged_at": None}
        for i, at in enumerate(NOW - timedelta(seconds=rng.random() * span) for _ in range(ASSISTS))
    ))  # fmt: skip
    return ws, cid


async def analyze(db: Database) -> None:
    """Fresh planner statistics and visibility map after a bulk load (what autovacuum does in
    time; without it PostgreSQL's index-only scans still read the table)."""
    if db.url.get_backend_name() == "postgresql":
        async with db.engine.connect() as conn:  # VACUUM runs outside a transaction
            raw = (await conn.get_raw_connection()).driver_connection
            # Past the app's 1.2 s statement bound.
            await raw.execute("VACUUM ANALYZE", timeout=600)  # type: ignore[union-attr]
        return
    async with db.engine.begin() as conn:
        await conn.execute(text("ANALYZE"))


async def timed(make: Any, runs: int = 5) -> tuple[float, float]:
    """Median wall time, and median CPU time of this process (SQLite runs in it: on a busy
    machine the CPU time says what the work costs, the wall time what it waited too)."""
    times, cpu = [], []
    for _ in range(runs):
        began, began_cpu = time.perf_counter(), time.process_time()
        await make()
        times.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    return statistics.median(times), statistics.median(cpu)


async def measure(
    db: Database, ws: int, cid: int
) -> tuple[tuple[float, float], tuple[float, float], int]:
    zone = ZoneInfo("Europe/Berlin")
    week = Scope(ws, cid, NOW - WEEK, NOW)
    start, end = core.month_before(NOW, zone)
    month = Scope(ws, cid, start, end)
    blocks = 0

    async def weekly() -> None:
        nonlocal blocks
        async with db.reading() as session:
            digest = await core.weekly_digest(session, week, "Site Reliability")
        blocks = len(views.weekly_digest(digest)["blocks"])

    async def sponsor() -> None:
        async with db.reading() as session:
            digest = await core.sponsor_digest(session, month, "Site Reliability", zone)
        views.sponsor_digest(digest)

    return await timed(weekly), await timed(sponsor), blocks


async def run(url: str, label: str, total: int, quick: bool) -> None:
    db = Database(load_settings(database_url=url).database_url)
    try:
        await upgrade(db)
        rng = random.Random(13)
        began = time.perf_counter()
        ws, cid = await seed_base(db, rng)
        print(f"{label}: {MEMBERS:,} members, {LESSONS:,} lessons, {USES:,} reuses, "
              f"{ASSISTS:,} assists seeded in {time.perf_counter() - began:.0f} s")  # fmt: skip
        # The week's kudos first (what a 1M-over-two-years community gives in a week).
        await bulk(db, Kudos.__table__, kudos_rows(ws, cid, WEEKLY_KUDOS, NOW - WEEK, NOW, rng))  # type: ignore[arg-type]
        have = WEEKLY_KUDOS
        sizes = [100_000, 250_000, 500_000, 1_000_000] if not quick else [100_000, 200_000]
        sizes = [s for s in sizes if s <= total] or [total]
        print(f"  {'kudos in all':>12}  {'weekly digest (wall / cpu)':>30}  "
              f"{'sponsor digest (wall / cpu)':>30}  blocks")  # fmt: skip
        for size in sizes:
            history = size - have
            await bulk(
                db, Kudos.__table__, kudos_rows(ws, cid, history, NOW - TWO_YEARS, NOW - WEEK, rng)
            )  # type: ignore[arg-type]
            have = size
            await analyze(db)
            (w50, wmax), (s50, smax), blocks = await measure(db, ws, cid)
            print(f"  {size:>12,}  {w50 * 1000:>17.0f} ms / {wmax * 1000:>5.0f} ms  "
                  f"{s50 * 1000:>17.0f} ms / {smax * 1000:>5.0f} ms  {blocks:>6}")  # fmt: skip
        print(
            f"  the last week holds {WEEKLY_KUDOS:,} kudos at every size. "
            "Goal: weekly digest ≤ 500 ms at 1M kudos, flat as history grows."
        )
    finally:
        await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kudos", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="200k kudos at most")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            await run(f"sqlite+aiosqlite:///{tmp}/bench.db", "SQLite", args.kudos, args.quick)
    if args.no_postgres:
        return
    try:
        admin = await asyncpg.connect(args.postgres_url, timeout=3)
    except Exception as error:  # no PostgreSQL here: say so and stop
        print(f"PostgreSQL: skipped ({type(error).__name__}: {error})")
        return
    name = f"doughnut_bench_digest_{secrets.token_hex(3)}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = args.postgres_url.rsplit("/", 1)[0] + f"/{name}"
        await run(url, "PostgreSQL", args.kudos, args.quick)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
