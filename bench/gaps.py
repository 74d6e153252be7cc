"""Knowledge gaps at scale (run by hand, not by pytest).

    python bench/gaps.py [--lessons 20000] [--gaps 500] [--runs 200] [--postgres-url URL]

Fills SQLite (a temporary file) and, when PostgreSQL answers, a scratch PostgreSQL database
(created and dropped) with one workspace, one community, validated lessons and open gaps, then
times the three services a request waits on, each in its own unit of work rolled back (so the
data stays the same): raising a gap (it searches the book for a validated lesson that already
answers it), offering a just-validated lesson to the open gaps it answers (it compares the
lesson with the community's newest open gaps, at most `storage.gaps.MATCH_CANDIDATES`), and
listing the open gaps (`/doughnut gaps`), and the book's search alone (what raising a gap
spends most on). Prints p50/p95 per database.

Goal: each p95 ≤ 100 ms on both, so the request (and its ack) stays far inside 2.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg  # noqa: E402
from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from bench.ack import percentile  # noqa: E402
from bench.search import SUBJECTS, sentence  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.core import gaps  # noqa: E402
from bot.core.communities import SetupForm, save_setup  # noqa: E402
from bot.core.gaps import GapSource  # noqa: E402
from bot.deps import Deps  # noqa: E402
from bot.metrics import Metrics  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.tenancy import Installation  # noqa: E402
from bot.unit_of_work import UnitOfWork  # noqa: E402
from storage import lessons as lesson_queries  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.lessons import Filters, Viewer, search_terms  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Lesson, LessonStatus, Visibility  # noqa: E402
from storage.models.gaps import Gap, GapStatus  # noqa: E402

NOW = datetime(2026, 12, 1, tzinfo=UTC)
TEAM = Installation(team_id="T0BENCH", enterprise_id=None, bot_user_id="U0BOT", bot_id="B0BOT")
CHANNEL = "C0BENCH"


def words(rng: random.Random, n: int) -> str:
    """Practice words with Zipf weights, as `bench/search.py` writes its lessons."""
    return sentence(rng, n)


async def fill(db: Database, lessons: int, open_gaps: int, rng: random.Random) -> tuple[Deps, int]:
    client = AsyncWebClient(token="xoxb-unused")
    deps = Deps(settings=load_settings(), db=db, clock=ManualClock(NOW), client=client,
                metrics=Metrics(), outbox_client=client)  # fmt: skip
    uow = UnitOfWork(deps, TEAM)
    form = SetupForm(name="SRE", description="", timezone="UTC", coordinators=["U0COORD"],
                     reviewers=["U0REV"], sponsors=["U0SPON"])  # fmt: skip
    saved = await save_setup(uow, "U0COORD", CHANNEL, form, editing=False, is_private=False)
    workspace = await uow.workspace()
    await uow.finish(ok=True)
    assert saved.community is not None
    community = saved.community.id
    async with db.transaction() as session:
        rows = [
            dict(workspace_id=workspace.id, community_id=community,
                 title=words(rng, 3)[:150], next_time=words(rng, 8), expected="", happened="",
                 why=words(rng, 6), project="", tags=" ".join(rng.sample(SUBJECTS, 2)),
                 author_id=f"U{n % 300:05d}", source_channel_id=CHANNEL,
                 visibility=Visibility.PUBLIC, published=False, status=LessonStatus.VALIDATED,
                 use_count=0, channel_count=0, created_at=NOW, updated_at=NOW)
            for n in range(lessons)
        ]  # fmt: skip
        for start in range(0, len(rows), 500):
            await session.execute(insert(Lesson), rows[start : start + 500])
    async with db.transaction() as session:
        gap_rows = [
            dict(workspace_id=workspace.id, community_id=community,
                 question=words(rng, 5), tags=" ".join(rng.sample(SUBJECTS, 1)),
                 raised_by=f"U{n % 300:05d}", visibility=Visibility.PUBLIC,
                 status=GapStatus.OPEN, vote_count=rng.randint(0, 9), created_at=NOW)
            for n in range(open_gaps)
        ]  # fmt: skip
        await session.execute(insert(Gap), gap_rows)
    if not db.is_sqlite:  # fresh statistics, as autovacuum would give a live database
        async with db.engine.begin() as conn:
            await conn.execute(text("ANALYZE lessons"))
            await conn.execute(text("ANALYZE gaps"))
    return deps, community


async def timed(
    deps: Deps, runs: int, work: Callable[[UnitOfWork, int], Awaitable[object]]
) -> list[float]:
    times = []
    for n in range(runs):
        uow = UnitOfWork(deps, TEAM)
        started = time.perf_counter()
        await work(uow, n)
        times.append((time.perf_counter() - started) * 1000)
        await uow.finish(ok=False)  # rolled back: the next run sees the same data
    return times


async def bench(url: str, label: str, lessons: int, open_gaps: int, runs: int) -> None:
    db = Database(load_settings(database_url=url).database_url)
    rng = random.Random(12)
    try:
        await upgrade(db)
        started = time.perf_counter()
        deps, _ = await fill(db, lessons, open_gaps, rng)
        print(f"{label}: {lessons} validated lessons, {open_gaps} open gaps "
              f"({time.perf_counter() - started:.1f} s to fill)")  # fmt: skip
        lesson_ids = rng.sample(range(1, lessons + 1), min(runs, lessons))

        async def raise_one(uow: UnitOfWork, n: int) -> object:
            source = GapSource(f"U{n:05d}", CHANNEL)
            return await gaps.raise_gap(uow, words(rng, 5), (rng.choice(SUBJECTS),), source)

        async def search_only(uow: UnitOfWork, n: int) -> object:
            question = f"{words(rng, 5)} {rng.choice(SUBJECTS)}"
            async with uow.reading() as (session, workspace):
                assert workspace is not None
                return await lesson_queries.search(
                    session, workspace.id, search_terms(question), Viewer(f"U{n:05d}", CHANNEL),
                    Filters(statuses=(LessonStatus.VALIDATED,)), limit=5,
                )  # fmt: skip

        async def offer_one(uow: UnitOfWork, n: int) -> object:
            return await gaps.offer_answers(uow, lesson_ids[n % len(lesson_ids)])

        async def list_them(uow: UnitOfWork, n: int) -> object:
            return await gaps.list_gaps(uow, CHANNEL, f"U{n:05d}")

        services = (("raise a gap", raise_one), ("  its search", search_only),
                    ("offer a lesson", offer_one), ("list open gaps", list_them))  # fmt: skip
        for name, work in services:
            times = await timed(deps, runs, work)
            print(f"  {name:16} p50 {percentile(times, 50):6.1f} ms   "
                  f"p95 {percentile(times, 95):6.1f} ms   max {max(times):6.1f} ms")  # fmt: skip
    finally:
        await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lessons", type=int, default=20000)
    parser.add_argument("--gaps", type=int, default=500)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await bench(f"sqlite+aiosqlite:///{tmp}/gaps.db", "SQLite", args.lessons, args.gaps,
                    args.runs)  # fmt: skip
    name = f"doughnut_bench_gaps_{secrets.token_hex(3)}"
    try:
        admin = await asyncpg.connect(args.postgres_url, timeout=3)
    except Exception as error:  # no PostgreSQL here: SQLite only
        print(f"PostgreSQL: skipped ({type(error).__name__}: {error})")
        return
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = args.postgres_url.rsplit("/", 1)[0] + f"/{name}"
        await bench(url, "PostgreSQL", args.lessons, args.gaps, args.runs)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    print("Goal: every p95 ≤ 100 ms.")


if __name__ == "__main__":
    asyncio.run(main())
