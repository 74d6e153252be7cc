"""Community health at scale (run by hand, not by pytest).

    python bench/health.py [--communities 20] [--per-community 1500] [--quick]
                           [--postgres-url postgresql://postgres@127.0.0.1/postgres]

Seeds a workspace of N communities with 15 months of history (per community: lessons, their
review decisions, reuses, kudos, peer assists and helpers, gaps, proposals), and a second
workspace just as busy (its rows must cost nothing), into SQLite (a temporary file) and, when
PostgreSQL answers, a scratch PostgreSQL database (created and dropped). Then it times, through
the functions the surfaces call:

- `health_of` for one community (both periods: what `/doughnut stats` reads before its ack),
- `health_of` for every community (`/doughnut stats all`),
- `monthly` (the chart's twelve months, read after the ack), and the PNG's drawing,

printing p50/p95 per database. Goals at 20 × 1,500 lessons: one community (read before the
ack) p95 ≤ 300 ms, well inside Slack's 3 s; every community (`all`) and the chart are read and
drawn after the ack, so they need only stay within a few seconds.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from bench.ack import percentile  # noqa: E402
from bot.core import health  # noqa: E402
from bot.core.communities import view_of  # noqa: E402
from storage import workspaces  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    AssistFormat,
    AssistHelper,
    AssistStatus,
    Community,
    DecisionKind,
    Gap,
    GapStatus,
    HelperState,
    Kudos,
    KudosSource,
    KudosStatus,
    Lesson,
    LessonDecision,
    LessonStatus,
    LessonUse,
    PeerAssist,
    Proposal,
    ProposalDecision,
    ProposalStatus,
    Visibility,
)

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
SPAN = timedelta(days=450)
PEOPLE = [f"U0P{n:05d}" for n in range(2000)]


def when(rng: random.Random) -> datetime:
    return NOW - SPAN * rng.random()


async def bulk(session: AsyncSession, model: type, rows: list[dict]) -> None:  # type: ignore[type-arg]
    """Insert in slices: each statement stays under the client's command timeout."""
    for start in range(0, len(rows), 300):
        await session.execute(insert(model), rows[start : start + 300])


async def seed(db: Database, team: str, communities: int, per: int, seed_no: int) -> int:
    rng = random.Random(seed_no)
    async with db.transaction(wait=60) as session:
        ws = await workspaces.get_or_create_workspace(
            session, key=team, team_id=team, enterprise_id=None, is_enterprise_install=False,
            now=NOW,
        )  # fmt: skip
        ws_id = ws.id
        rows = [
            Community(
                workspace_id=ws_id,
                channel_id=f"C{team[-3:]}{n:04d}",
                name=f"CoP {n}",
                timezone="UTC",
                created_by=PEOPLE[0],
                created_at=NOW - SPAN,
                updated_at=NOW - SPAN,
                settings={},
                roles=[],
            )  # fmt: skip
            for n in range(communities)
        ]
        session.add_all(rows)
        await session.flush()
        ids = [(c.id, c.channel_id) for c in rows]
    for community_id, channel in ids:
        async with db.transaction(wait=60) as session:
            lessons = []
            for _ in range(per):
                at = when(rng)
                lessons.append(dict(
                    workspace_id=ws_id, community_id=community_id, title="A lesson",
                    next_time="Next time", author_id=rng.choice(PEOPLE),
                    visibility=Visibility.PUBLIC, status=LessonStatus.CAPTURED,
                    created_at=at, updated_at=at,
                ))  # fmt: skip
            await bulk(session, Lesson, lessons)
            created = dict(
                (await session.execute(
                    select(Lesson.id, Lesson.created_at).where(Lesson.community_id == community_id)
                )).all()
            )  # fmt: skip
            decisions, uses = [], []
            for lesson_id in created:
                if rng.random() < 0.6:
                    at = min(created[lesson_id] + timedelta(days=rng.random() * 20), NOW)
                    decisions.append(dict(
                        workspace_id=ws_id, lesson_id=lesson_id, kind=DecisionKind.VALIDATE,
                        by_user=rng.choice(PEOPLE), note="ok", decided_at=at,
                    ))  # fmt: skip
                for user in rng.sample(PEOPLE, rng.randint(0, 4)):
                    at = min(created[lesson_id] + timedelta(days=rng.random() * 60), NOW)
                    uses.append(dict(workspace_id=ws_id, lesson_id=lesson_id, user_id=user,
                                     used_at=at))  # fmt: skip
            if decisions:
                await bulk(session, LessonDecision, decisions)
            if uses:
                await bulk(session, LessonUse, uses)
            kudos = []
            for _ in range(per * 2):
                at = when(rng)
                kudos.append(dict(
                    workspace_id=ws_id, community_id=community_id, giver_id=rng.choice(PEOPLE),
                    receiver_id=rng.choice(PEOPLE), reason="thanks", source=KudosSource.COMMAND,
                    status=KudosStatus.GIVEN,
                    channel_id=channel if rng.random() < 0.7 else "C0ELSEWHERE",
                    message_ts=secrets.token_hex(6), visibility=Visibility.PUBLIC,
                    given_at=at, local_day=at.date().isoformat(),
                ))  # fmt: skip
            await bulk(session, Kudos, kudos)
            assists = []
            for _ in range(per // 5):
                at = when(rng)
                matched = at + timedelta(hours=rng.random() * 72)
                assists.append(dict(
                    workspace_id=ws_id, community_id=community_id, title="Help",
                    format=AssistFormat.CALL, requester_id=rng.choice(PEOPLE),
                    visibility=Visibility.PUBLIC, status=AssistStatus.DONE,
                    status_by=PEOPLE[0], status_at=at, created_at=at,
                    matched_at=min(matched, NOW),
                    closed_at=min(matched + timedelta(days=3), NOW),
                ))  # fmt: skip
            await bulk(session, PeerAssist, assists)
            assist_ids = list(
                await session.scalars(
                    select(PeerAssist.id).where(PeerAssist.community_id == community_id)
                )
            )
            await bulk(session, AssistHelper, [
                dict(workspace_id=ws_id, assist_id=a, user_id=user, state=HelperState.ACCEPTED,
                     created_at=NOW - SPAN * rng.random(), updated_at=when(rng))
                for a in assist_ids for user in rng.sample(PEOPLE, 2)
            ])  # fmt: skip
            gaps = []
            for _ in range(per // 5):
                at = when(rng)
                answered = rng.random() < 0.5
                gaps.append(dict(
                    workspace_id=ws_id, community_id=community_id, question="How?",
                    raised_by=rng.choice(PEOPLE), visibility=Visibility.PUBLIC,
                    status=GapStatus.ANSWERED if answered else GapStatus.OPEN, vote_count=0,
                    created_at=at,
                    closed_at=min(at + timedelta(days=9), NOW) if answered else None,
                ))  # fmt: skip
            await bulk(session, Gap, gaps)
            proposals = []
            for _ in range(per // 25):
                at = when(rng)
                proposals.append(dict(
                    workspace_id=ws_id, community_id=community_id, insight="i", proposal="p",
                    proposed_by=rng.choice(PEOPLE), status=ProposalStatus.ANSWERED,
                    decision=ProposalDecision.ADOPT, decided_by=PEOPLE[1],
                    decided_at=min(at + timedelta(days=6), NOW), created_at=at,
                ))  # fmt: skip
            await bulk(session, Proposal, proposals)
    return ws_id


async def timed(runs: int, work) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def line(label: str, samples: list[float]) -> str:
    return (
        f"  {label:<34} p50 {statistics.median(samples):7.1f} ms   "
        f"p95 {percentile(samples, 95):7.1f} ms   max {max(samples):7.1f} ms"
    )


async def measure(db: Database, name: str, args: argparse.Namespace) -> None:
    await upgrade(db)
    started = time.perf_counter()
    ws = await seed(db, "T0BENCHONE", args.communities, args.per_community, 1)
    await seed(db, "T0BENCHTWO", args.communities, args.per_community, 2)
    print(f"{name}: seeded 2 workspaces × {args.communities} communities × "
          f"{args.per_community} lessons in {time.perf_counter() - started:.1f} s")  # fmt: skip
    if db.is_postgres:
        # As autovacuum would on a live database: fresh bulk rows have no statistics yet, and
        # the planner's guesses without them make every figure several times slower. (Its own
        # connection: the app's has a 1.2 s statement timeout.)
        conn = await asyncpg.connect(db.url.set(drivername="postgresql").render_as_string(False))
        try:
            await conn.execute("ANALYZE")
        finally:
            await conn.close()
    async with db.reading() as session:
        found = [
            view_of(c)
            for c in await session.scalars(select(Community).where(Community.workspace_id == ws))
        ]
    period = health.Period.last(30, NOW)

    async def one() -> None:
        async with db.reading() as session:
            await health.health_of(session, ws, found[:1], period)

    async def every() -> None:
        async with db.reading() as session:
            await health.health_of(session, ws, found, period)

    async def months() -> None:
        async with db.reading() as session:
            await health.monthly(session, ws, found[0], NOW)

    await one()  # warm
    print(line("stats, one community (2 periods)", await timed(args.runs, one)))
    print(line(f"stats all ({len(found)} communities)", await timed(max(args.runs // 4, 3), every)))
    print(line("chart data (12 months)", await timed(args.runs, months)))
    async with db.reading() as session:
        [h] = await health.health_of(session, ws, found[:1], period)
    now = h.current
    print(
        f"  one community, last 30 days: {now.active_members} active, "
        f"{now.lessons_captured} captured, {now.lessons_validated} validated, "
        f"{now.lessons_reused} reused, {now.people_recognised} recognised"
    )


async def chart_time(runs: int) -> None:
    from handlers.health import chart

    if not chart.available():
        print('chart: matplotlib is not installed (pip install "doughnut[charts]")')
        return
    monthly = health.Monthly("CoP 0", tuple(f"2026-{m:02d}" for m in range(1, 13)),
                             *[tuple(random.randint(0, 90) for _ in range(12))] * 4)  # fmt: skip
    chart.render(monthly)  # warm: fonts
    samples, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        size = len(chart.render(monthly))
        samples.append((time.perf_counter() - started) * 1000)
    print("chart:")
    print(line(f"draw the PNG ({size // 1024} KiB)", samples))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--communities", type=int, default=20)
    parser.add_argument("--per-community", type=int, default=1500)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="5 × 300, 10 runs")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.quick:
        args.communities, args.per_community, args.runs = 5, 300, 10
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/health.db")
        try:
            await measure(db, "SQLite", args)
        finally:
            await db.dispose()
    name = f"doughnut_bench_health_{secrets.token_hex(3)}"
    try:
        admin = await asyncpg.connect(args.postgres_url, timeout=3)
    except Exception as error:  # no PostgreSQL here
        print(f"PostgreSQL: skipped ({type(error).__name__}: {error})")
    else:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = args.postgres_url.rsplit("/", 1)[0].replace(
                "postgresql://", "postgresql+asyncpg://"
            )
            db = Database(f"{url}/{name}")
            try:
                await measure(db, "PostgreSQL", args)
            finally:
                await db.dispose()
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    await chart_time(args.runs)


if __name__ == "__main__":
    asyncio.run(main())
