"""Peer-assist matching at scale (run by hand, not by pytest).

    python bench/match.py [--lessons 100000] [--members 10000] [--kudos 50000] [--rounds 5]

Fills SQLite (a temporary file) and, when PostgreSQL answers, a scratch PostgreSQL database
(created and dropped) with the lessons of `bench/search.py` written by 10,000 members, their
validations and "I used this", 50,000 kudos with tags, 500 earlier assists with helpers and a
member cache (some bots); then times `bot.core.assists.match` (everything a request's evidence
needs: full-text search, validators, users, similar assists, kudos by tag, the bot filter) for
requests on the bench's topics, and prints p50/p95 per database. Goal: p95 ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select, text  # noqa: E402

import storage.db  # noqa: E402
from bench.ack import percentile  # noqa: E402
from bench.search import NOW, SUBJECTS, Scene, fill, postgres_database  # noqa: E402
from bot.core.assists import match  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    AssistFormat,
    AssistHelper,
    AssistStatus,
    DecisionKind,
    HelperState,
    Kudos,
    KudosSource,
    KudosStatus,
    KudosTag,
    Lesson,
    LessonDecision,
    LessonStatus,
    LessonUse,
    Member,
    PeerAssist,
    Visibility,
)

REQUESTS = [
    ("Rolling out canary deploys for the payments service", "How did you size the canary?",
     ("deploy", "canary")),
    ("Database migration on a 2 TB table", "What locked, and how did you roll back?",
     ("migration", "database")),
    ("New on-call rotation for the data team", "How many people per week, which alerts?",
     ("pager", "alert")),
    ("Certificate renewal automation", "What broke the first time?", ("certificate",)),
    ("Flaky test quarantine", "How do you stop flaky tests blocking the pipeline?",
     ("flaky", "test", "pipeline")),
    ("Cache invalidation for the catalogue", "What did you learn about latency?",
     ("cache", "latency")),
]  # fmt: skip


def member_id(n: int) -> str:
    return f"W{n:08d}"


async def seed(db: Database, scene: Scene, lessons: int, members: int, kudos: int) -> int:
    """Lessons (bench/search), then authors spread over the members, and the rest of the
    evidence. Returns the workspace id."""
    workspace_id, _ = await fill(db, lessons, scene)
    rng = random.Random(11)
    async with db.transaction() as session:
        if db.is_sqlite:
            await session.execute(
                text("UPDATE lessons SET author_id = 'W' || printf('%08d', abs(random()) % :n)"),
                {"n": members},
            )
        else:
            await session.execute(
                text(
                    "UPDATE lessons SET author_id = 'W' || lpad((floor(random() * :n))::int::text,"
                    " 8, '0')"
                ),  # fmt: skip
                {"n": members},
            )
        ids_status = (await session.execute(select(Lesson.id, Lesson.status))).all()
    validated = [i for i, s in ids_status if s is LessonStatus.VALIDATED]
    decisions = [
        dict(workspace_id=workspace_id, lesson_id=i, kind=DecisionKind.VALIDATE,
             by_user=member_id(rng.randrange(200)), note="applies", decided_at=NOW)
        for i in validated
    ]  # fmt: skip
    uses = {
        (i, member_id(rng.randrange(members)))
        for i in rng.sample(validated, min(len(validated), 20_000))
    }
    use_rows = [
        dict(workspace_id=workspace_id, lesson_id=i, user_id=u, channel_id="C00000001",
             note="", used_at=NOW)
        for i, u in uses
    ]  # fmt: skip
    member_rows = [
        dict(workspace_id=workspace_id, user_id=member_id(n), name=f"m{n}",
             is_bot=n % 500 == 0, deleted=False, is_admin=False, is_owner=False,
             is_restricted=False, updated_at=NOW)
        for n in range(members)
    ]  # fmt: skip
    async with db.transaction() as session:
        for start in range(0, len(decisions), 5000):
            await session.execute(insert(LessonDecision), decisions[start : start + 5000])
        for start in range(0, len(use_rows), 5000):
            await session.execute(insert(LessonUse), use_rows[start : start + 5000])
        for start in range(0, len(member_rows), 5000):
            await session.execute(insert(Member), member_rows[start : start + 5000])
    for start in range(0, kudos, 5000):
        rows = []
        for n in range(start, min(kudos, start + 5000)):
            tags = rng.sample(SUBJECTS, k=rng.randint(0, 2))
            rows.append(
                dict(workspace_id=workspace_id, giver_id=member_id(rng.randrange(members)),
                     receiver_id=member_id(rng.randrange(members)), reason="thanks",
                     tags=" ".join(tags), source=KudosSource.COMMAND,
                     status=KudosStatus.GIVEN if n % 20 else KudosStatus.UNDONE,
                     channel_id="C00000001", message_ts=f"{n}.000001",
                     visibility=Visibility.PUBLIC, given_at=NOW - timedelta(minutes=n),
                     local_day="2026-12-01")
            )  # fmt: skip
        async with db.transaction() as session:
            ids = list(await session.scalars(insert(Kudos).returning(Kudos.id), rows))
            tag_rows = [
                dict(kudos_id=i, tag=t, workspace_id=workspace_id)
                for i, row in zip(ids, rows, strict=True)
                for t in str(row["tags"]).split()
            ]
            if tag_rows:
                await session.execute(insert(KudosTag), tag_rows)
    async with db.transaction() as session:
        assist_ids = list(
            await session.scalars(
                insert(PeerAssist).returning(PeerAssist.id),
                [
                    dict(workspace_id=workspace_id, title=" ".join(rng.sample(SUBJECTS, 3)),
                         plan="", learn="", tags=" ".join(rng.sample(SUBJECTS, 2)),
                         format=AssistFormat.CALL, team="", requester_id=member_id(n),
                         visibility=Visibility.PUBLIC,
                         status=rng.choice([AssistStatus.DONE, AssistStatus.MATCHED]),
                         status_by=member_id(n), status_at=NOW, created_at=NOW)
                    for n in range(500)
                ],
            )
        )  # fmt: skip
        await session.execute(
            insert(AssistHelper),
            [
                dict(workspace_id=workspace_id, assist_id=a,
                     user_id=member_id(rng.randrange(members)), state=HelperState.ACCEPTED,
                     evidence="", created_at=NOW, updated_at=NOW)
                for a in assist_ids
            ],
        )  # fmt: skip
    if db.is_postgres:
        async with db.engine.connect() as conn:
            await conn.execute(text("COMMIT"))
            await conn.execute(text("ANALYZE"))
    return workspace_id


async def time_matching(
    db: Database, workspace_id: int, rounds: int
) -> tuple[list[float], list[float]]:
    """Wall-clock milliseconds per request, and this process's CPU milliseconds (all threads:
    aiosqlite's included), which a busy machine inflates far less than the wall clock."""
    timings, cpu = [], []
    async with db.reading() as session:
        for title, learn, tags in REQUESTS:  # warm the caches once
            await match(session, workspace_id, title=title, learn=learn, tags=tags,
                        requester_ids=("W00000001",))  # fmt: skip
        for _ in range(rounds):
            for title, learn, tags in REQUESTS:
                started, used = time.perf_counter(), time.process_time()
                found = await match(session, workspace_id, title=title, learn=learn, tags=tags,
                                    requester_ids=("W00000001",))  # fmt: skip
                timings.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - used) * 1000)
                assert found.suggestions, "the bench's evidence should suggest someone"
    return timings, cpu


async def bench(name: str, url: str, args: argparse.Namespace) -> None:
    # Seeding inserts 5,000 rows a statement: more than a request's command timeout allows on a
    # busy machine (the timings below are of `match` alone).
    storage.db.COMMAND_TIMEOUT = 300
    db = Database(url)
    try:
        await upgrade(db)
        started = time.perf_counter()
        scene = Scene("T0BENCH01", "W00000001", "C00000000")
        workspace_id = await seed(db, scene, args.lessons, args.members, args.kudos)
        seeded = time.perf_counter() - started
        timings, cpu = await time_matching(db, workspace_id, args.rounds)
    finally:
        await db.dispose()
    p50, p95 = percentile(timings, 50), percentile(timings, 95)
    print(
        f"{name:<10} {args.lessons} lessons, {args.members} members, {args.kudos} kudos "
        f"(seeded in {seeded:.0f} s); {len(timings)} requests matched: p50 {p50:.1f} ms, "
        f"p95 {p95:.1f} ms, max {max(timings):.1f} ms "
        f"(goal p95 ≤ 100 ms: {'met' if p95 <= 100 else 'MISSED'}); CPU of this process: "
        f"p50 {percentile(cpu, 50):.1f} ms, p95 {percentile(cpu, 95):.1f} ms; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--kudos", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await bench("SQLite", f"sqlite+aiosqlite:///{tmp}/match.db", args)
    if args.sqlite_only:
        return
    name = f"doughnut_bench_match_{secrets.token_hex(3)}"
    try:
        await postgres_database(args.postgres_url, f'CREATE DATABASE "{name}"')
    except Exception as error:
        print(f"PostgreSQL skipped ({type(error).__name__}: {error})")
        return
    try:
        pg = args.postgres_url.rsplit("/", 1)[0].replace("postgresql:", "postgresql+asyncpg:")
        await bench("PostgreSQL", f"{pg}/{name}", args)
    finally:
        await postgres_database(args.postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
