"""The contribution ledger at scale (run by hand, not by pytest).

    python bench/ledger.py [--members 5000 --kudos 200000 | --quick] [--postgres-url URL]

Seeds a workspace two years deep (members, communities with roles, kudos, lessons, review
decisions, "I used this", peer assists with helpers), plus a second workspace as noise, into
SQLite (a temporary file) and, when PostgreSQL answers, a scratch PostgreSQL database (created
and dropped). Then times, through `bot.core.contributions.ledger` (what `/doughnut report`,
`doughnut export contributions` and `/doughnut me` call): a community's quarter, the whole
workspace's quarter, one member's profile (90 days and all time), and the CSV of the quarter;
and the slowest single figure query. p50/p95 per database.

Goal: `/doughnut report` reads and formats before its ack, so a community's quarter stays
within 1 s at p95 (the ack's budget is 2.5 s), and every single query within the request
transaction's 1.2 s statement bound.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bench.ack import percentile  # noqa: E402
from bot.core.contributions import ALL_TIME, days_period, last_days, ledger  # noqa: E402
from handlers.profile.export import csv_text  # noqa: E402
from storage import contributions as queries  # noqa: E402
from storage import workspaces  # noqa: E402
from storage.contributions import LedgerScope  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    AssistFormat,
    AssistHelper,
    AssistStatus,
    Community,
    DecisionKind,
    HelperState,
    Kudos,
    KudosSource,
    KudosStatus,
    Lesson,
    LessonDecision,
    LessonStatus,
    LessonUse,
    Member,
    PeerAssist,
    Role,
    RoleName,
    Visibility,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
START = NOW - timedelta(days=730)
COMMUNITIES = 20
CHUNK = 5000


def moment(rng: random.Random) -> datetime:
    return START + timedelta(seconds=rng.randrange(int((NOW - START).total_seconds())))


async def insert_all(db: Database, model: type, rows: list[dict]) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(rows), CHUNK):
        async with db.transaction() as session:
            chunk = rows[start : start + CHUNK]
            if hasattr(model, "id"):
                ids += list(await session.scalars(insert(model).returning(model.id), chunk))
            else:
                await session.execute(insert(model), chunk)
    return ids


async def seed(db: Database, team: str, members: int, kudos: int, rng: random.Random) -> int:
    async with db.transaction() as session:
        workspace = await workspaces.get_or_create_workspace(
            session, key=team, team_id=team, enterprise_id=None, is_enterprise_install=False,
            now=START,
        )  # fmt: skip
        ws = workspace.id
    people = [f"U{n:09d}" for n in range(members)]
    await insert_all(db, Member, [
        {"workspace_id": ws, "user_id": u, "name": f"Member {u}", "updated_at": START}
        for u in people
    ])  # fmt: skip
    communities = await insert_all(db, Community, [
        {"workspace_id": ws, "channel_id": f"C{n:09d}", "name": f"Community {n}",
         "description": "", "timezone": "UTC", "settings": {}, "created_by": people[0],
         "created_at": START, "updated_at": START}
        for n in range(COMMUNITIES)
    ])  # fmt: skip
    await insert_all(db, Role, [
        {"workspace_id": ws, "community_id": c, "user_id": rng.choice(people), "role": role,
         "since": moment(rng)}
        for c in communities for role in RoleName
    ])  # fmt: skip
    await insert_all(db, Kudos, [
        {"workspace_id": ws, "community_id": rng.choice([*communities, None]),
         "giver_id": rng.choice(people), "receiver_id": rng.choice(people), "reason": "thanks",
         "tags": "", "source": KudosSource.COMMAND,
         "status": rng.choice([KudosStatus.GIVEN] * 9 + [KudosStatus.UNDONE]),
         "channel_id": f"C{rng.randrange(200):09d}", "message_ts": None,
         "visibility": Visibility.PUBLIC, "given_at": (at := moment(rng)),
         "local_day": at.date().isoformat()}
        for _ in range(kudos)
    ])  # fmt: skip
    lesson_rows = [
        {"workspace_id": ws, "community_id": rng.choice(communities), "title": "A lesson",
         "next_time": "Do it better", "author_id": rng.choice(people),
         "visibility": Visibility.PUBLIC,
         "status": rng.choice(list(LessonStatus)), "created_at": (at := moment(rng)),
         "updated_at": at}
        for _ in range(kudos // 10)
    ]  # fmt: skip
    lesson_ids = await insert_all(db, Lesson, lesson_rows)
    await insert_all(db, LessonDecision, [
        {"workspace_id": ws, "lesson_id": rng.choice(lesson_ids),
         "kind": rng.choice(list(DecisionKind)), "by_user": rng.choice(people), "note": "",
         "decided_at": moment(rng)}
        for _ in range(kudos // 7)
    ])  # fmt: skip
    uses = {(rng.choice(lesson_ids), rng.choice(people)) for _ in range(kudos // 4)}
    await insert_all(db, LessonUse, [
        {"workspace_id": ws, "lesson_id": lesson, "user_id": user, "note": "",
         "used_at": moment(rng)}
        for lesson, user in uses
    ])  # fmt: skip
    assists = await insert_all(db, PeerAssist, [
        {"workspace_id": ws, "community_id": rng.choice(communities), "title": "Help",
         "format": AssistFormat.CALL, "requester_id": rng.choice(people),
         "visibility": Visibility.PUBLIC, "status": rng.choice(list(AssistStatus)),
         "status_by": people[0], "status_at": (at := moment(rng)), "created_at": at,
         "closed_at": at + timedelta(days=3)}
        for _ in range(kudos // 60)
    ])  # fmt: skip
    await insert_all(db, AssistHelper, [
        {"workspace_id": ws, "assist_id": a, "user_id": u, "state": rng.choice(list(HelperState)),
         "created_at": START, "updated_at": START}
        for a in assists for u in {rng.choice(people), rng.choice(people)}
    ])  # fmt: skip
    return ws


async def timed(rounds: int, work) -> list[float]:
    """Milliseconds per round; a statement past PostgreSQL's 1.2 s client bound counts as inf."""
    timings = []
    for round_ in range(rounds + 1):
        started = time.perf_counter()
        try:
            await work()
        except TimeoutError:
            timings.append(float("inf"))
            continue
        if round_:  # the first one warms the caches
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def line(label: str, timings: list[float], extra: str = "") -> None:
    print(f"  {label:<34} p50 {percentile(timings, 50):8.1f} ms   "
          f"p95 {percentile(timings, 95):8.1f} ms{extra}")  # fmt: skip


async def bench(label: str, url: str, members: int, kudos: int, rounds: int) -> None:
    db = Database(url)
    try:
        await upgrade(db)
        rng = random.Random(7)
        started = time.perf_counter()
        ws = await seed(db, "T0BENCH01", members, kudos, rng)
        await seed(db, "T0NOISE01", members // 10, kudos // 10, rng)  # another workspace
        if db.is_postgres:  # statistics, as autovacuum would have them (no statement bound)
            conn = await asyncpg.connect(url.replace("postgresql+asyncpg:", "postgresql:"))
            try:
                await conn.execute("ANALYZE")
            finally:
                await conn.close()
        print(f"{label}: {members:,} members, {kudos:,} kudos, {kudos // 10:,} lessons, "
              f"{kudos // 7:,} decisions, ~{kudos // 4:,} uses, {kudos // 60:,} assists "
              f"(seeded in {time.perf_counter() - started:.0f} s)")  # fmt: skip
        quarter = days_period(datetime(2026, 7, 1).date(), datetime(2026, 9, 30).date())
        async with db.reading() as session:
            community = 1 if ws == 1 else ws  # the first community of the workspace
            rows: list = []

            async def community_quarter() -> None:
                rows[:] = await ledger(session, ws, quarter, community_id=community)

            async def workspace_quarter() -> None:
                rows[:] = await ledger(session, ws, quarter)

            async def profile() -> None:
                for period in (last_days(NOW), ALL_TIME):
                    await ledger(session, ws, period, user_ids=("U000000042",))

            line("a community's quarter", await timed(rounds, community_quarter),
                 f"   ({len(rows):,} rows)")  # fmt: skip
            csv_timings = await timed(rounds, lambda: asyncio.sleep(0, csv_text(rows)))
            line("its CSV", csv_timings)
            line("the workspace's quarter", await timed(rounds, workspace_quarter),
                 f"   ({len(rows):,} rows)")  # fmt: skip
            line("one member's profile (2 periods)", await timed(rounds, profile))
            slowest = (0.0, "")
            scope = LedgerScope(ws, quarter.since, quarter.until)
            figures = ("kudos_received", "kudos_given", "lessons_written", "lessons_validated",
                       "lesson_reuse", "reviews_done", "assists_given", "roles_held")  # fmt: skip
            for name in figures:
                query = getattr(queries, name)
                timings = await timed(rounds, lambda q=query: q(session, scope))
                slowest = max(slowest, (percentile(timings, 95), name))
            print(f"  slowest figure query (workspace quarter): {slowest[1]}, "
                  f"p95 {slowest[0]:.1f} ms")  # fmt: skip
    finally:
        await db.dispose()


async def postgres(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_url, timeout=3)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--kudos", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="1,000 members, 20,000 kudos")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    members, kudos = (1000, 20_000) if args.quick else (args.members, args.kudos)
    print("Goal: a community's quarter p95 <= 1000 ms; every figure query < 1200 ms.")
    with tempfile.TemporaryDirectory() as tmp:
        await bench("SQLite", f"sqlite+aiosqlite:///{tmp}/bench.db", members, kudos, args.rounds)
    name = f"doughnut_bench_ledger_{secrets.token_hex(3)}"
    try:
        await postgres(args.postgres_url, f'CREATE DATABASE "{name}"')
    except Exception as error:  # no PostgreSQL here: the SQLite figures stand alone
        print(f"PostgreSQL skipped ({type(error).__name__}: {error})")
        return
    try:
        base = args.postgres_url.rsplit("/", 1)[0].replace("postgresql:", "postgresql+asyncpg:")
        await bench("PostgreSQL", f"{base}/{name}", members, kudos, args.rounds)
    finally:
        await postgres(args.postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
