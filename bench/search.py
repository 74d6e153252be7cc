"""Lesson search at scale (run by hand, not by pytest).

    python bench/search.py [--lessons 100000 | --quick] [--postgres-url postgresql://postgres@127.0.0.1/postgres]

Generates realistic lessons (a vocabulary of practice topics, tags, statuses, reuse, some from
private channels) into SQLite (a temporary file) and, when PostgreSQL answers, into a scratch
PostgreSQL database (created and dropped), then times questions through the one search function
(`storage.lessons.search`, a page of 5 + 1) and prints p50/p95 per database, with the time to
build the full-text index. Then it starts `doughnut run` as its own process on the same database,
against the local Slack emulator (whose team owns the lessons), and times the ack of signed
`/lessons <question>` commands from #general, as Slack sends them: p50/p95/max per database.

Goals: SQLite p95 ≤ 20 ms at 100k lessons. PostgreSQL p95 ≤ 80 ms: `ts_rank_cd` reads each
candidate's vector, so the candidates are capped (storage.lessons.PG_CANDIDATES).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402
from slack_sdk.signature import SignatureVerifier  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from bench.ack import SECRET, free_port, percentile, server_env, wait_ready  # noqa: E402
from bot.emulator import SlackEmulator, Workspace  # noqa: E402
from storage import lessons as queries  # noqa: E402
from storage import workspaces  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.lessons import Filters, Viewer, search_terms  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Lesson, LessonStatus, LessonTag, Visibility  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from relevance_set import LESSONS, QUERIES  # noqa: E402

NOW = datetime(2026, 12, 1, tzinfo=UTC)
SUBJECTS = [
    "deploy",
    "rollback",
    "release",
    "canary",
    "migration",
    "schema",
    "database",
    "index",
    "backup",
    "restore",
    "replica",
    "cache",
    "latency",
    "outage",
    "incident",
    "pager",
    "alert",
    "dashboard",
    "certificate",
    "secret",
    "token",
    "vault",
    "pipeline",
    "build",
    "test",
    "flaky",
    "dependency",
    "container",
    "cluster",
    "kubernetes",
    "network",
    "proxy",
    "dns",
    "proposal",
    "client",
    "tender",
    "pricing",
    "discount",
    "discovery",
    "demo",
    "contract",
    "legal",
    "procurement",
    "renewal",
    "churn",
    "onboarding",
    "buddy",
    "hiring",
    "interview",
    "scorecard",
    "retrospective",
    "agenda",
    "meeting",
    "estimate",
    "scope",
    "budget",
    "sponsor",
    "stakeholder",
    "steering",
    "milestone",
    "handoff",
    "vendor",
    "support",
    "timezone",
    "report",
    "invoice",
    "accessibility",
    "screen",
    "form",
    "frontend",
    "mobile",
    "checkout",
    "payment",
    "campaign",
    "traffic",
    "capacity",
    "forecast",
    "runbook",
    "documentation",
    "wiki",
    "training",
    "mentoring",
]
VERBS = [
    "check",
    "confirm",
    "rehearse",
    "write",
    "review",
    "automate",
    "monitor",
    "test",
    "agree",
    "share",
    "record",
    "plan",
    "escalate",
    "document",
    "measure",
    "pin",
    "quarantine",
    "restore",
    "rotate",
    "schedule",
    "warn",
    "ask",
    "pair",
]
QUALIFIERS = (
    "before launch", "every week", "with the client", "on Friday", "during the incident",
    "after the release", "across time zones", "with finance", "in staging", "at kickoff",
    "for large tables", "under load", "with a checklist", "in writing", "early",
)  # fmt: skip
CHANNELS = [f"C{n:08d}" for n in range(40)]
PRIVATE = [f"G{n:08d}" for n in range(10)]
PEOPLE = [f"U{n:08d}" for n in range(300)]
QUESTIONS = [q for q, _ in QUERIES] + [
    "deploy",
    "rollback plan",
    "database migration locked",
    "client discount",
    "flaky tests",
    "certificate",
    "how do we roll back a deploy",
    "onboarding new hires",
]


def vocabulary(rng: random.Random, size: int = 6000) -> tuple[list[str], list[float]]:
    """Practice words and made-up jargon, with Zipf (cumulative) weights, as in real text."""
    real = list(dict.fromkeys(SUBJECTS + [w.lower() for row in LESSONS.values()
                                          for w in search_terms(" ".join(row[:5]))]))  # fmt: skip
    syllables = [
        "ka",
        "lo",
        "mi",
        "ter",
        "van",
        "dor",
        "pel",
        "qui",
        "rus",
        "sen",
        "tob",
        "ul",
        "wex",
        "yar",
        "zim",
        "bra",
        "cle",
    ]
    made_up = {"".join(rng.sample(syllables, 3)) for _ in range(size * 2)}
    words = real + sorted(made_up)[: size - len(real)]
    rng.shuffle(words)
    weights = [1 / (rank + 1) for rank in range(len(words))]
    return words, list(itertools.accumulate(weights))


VOCABULARY: tuple[list[str], list[float]] = ([], [])


def sentence(rng: random.Random, words: int) -> str:
    if not VOCABULARY[0]:
        VOCABULARY[0][:], VOCABULARY[1][:] = vocabulary(random.Random(1))
    subjects = rng.choices(VOCABULARY[0], cum_weights=VOCABULARY[1], k=words)
    return f"{rng.choice(VERBS).capitalize()} the {' '.join(subjects)} {rng.choice(QUALIFIERS)}."


@dataclass(frozen=True)
class Scene:
    """The emulator's team, and who asks from where: the lessons belong to that team, some come
    from that channel, and the function and the endpoint search as that person there."""

    team_id: str
    user_id: str
    channel_id: str


def make_rows(
    rng: random.Random, workspace_id: int, count: int, scene: Scene
) -> list[dict[str, object]]:
    real = list(LESSONS.values())
    channels = [scene.channel_id, *CHANNELS[1:]]
    rows = []
    for n in range(count):
        if n < len(real):  # the relevance set is in there too
            title, expected, happened, why, next_time, tags, _ = real[n]
        else:
            title = sentence(rng, 3)[:150]
            expected, happened, why = (sentence(rng, rng.randint(3, 8)) for _ in range(3))
            next_time = sentence(rng, rng.randint(4, 10))
            tags = tuple(rng.choices(SUBJECTS, k=rng.randint(1, 3)))
        status = rng.choices(list(LessonStatus), weights=(6, 3, 1))[0]
        private = rng.random() < 0.1
        uses = int(rng.expovariate(0.5)) if status is LessonStatus.VALIDATED else 0
        rows.append(
            {
                "workspace_id": workspace_id,
                "title": title,
                "expected": expected,
                "happened": happened,
                "why": why,
                "next_time": next_time,
                "project": "",
                "tags": " ".join(tags),
                "author_id": rng.choice(PEOPLE),
                "source_channel_id": rng.choice(PRIVATE if private else channels),
                "visibility": Visibility.PRIVATE if private else Visibility.PUBLIC,
                "published": False,
                "status": status,
                "use_count": uses,
                "channel_count": min(uses, 3),
                "created_at": NOW - timedelta(minutes=n),
                "updated_at": NOW,
            }
        )
    return rows


async def fill(db: Database, count: int, scene: Scene) -> tuple[int, float]:
    """Insert the lessons (the index follows, by trigger or generated column); seconds taken."""
    rng = random.Random(7)
    async with db.transaction() as session:  # keyed as the bot keys a team's requests
        workspace = await workspaces.get_or_create_workspace(
            session, key=workspaces.install_key(scene.team_id, None, False),
            team_id=scene.team_id, enterprise_id=None, is_enterprise_install=False, now=NOW,
        )  # fmt: skip
        workspace_id = workspace.id
    started = time.perf_counter()
    for start in range(0, count, 5000):
        rows = make_rows(rng, workspace_id, min(5000, count - start), scene)
        async with db.transaction() as session:
            ids = list(await session.scalars(insert(Lesson).returning(Lesson.id), rows))
            tags = [
                {"lesson_id": i, "tag": t, "workspace_id": workspace_id}
                for i, row in zip(ids, rows, strict=True)
                for t in dict.fromkeys(str(row["tags"]).split())
            ]
            await session.execute(insert(LessonTag), tags)
    return workspace_id, time.perf_counter() - started


async def rebuild_index(db: Database) -> float:
    """Seconds to build the full-text index again over every lesson."""
    started = time.perf_counter()
    async with db.transaction() as session:
        if db.is_sqlite:
            await session.execute(text("INSERT INTO lessons_fts(lessons_fts) VALUES ('rebuild')"))
        else:
            await session.execute(text("REINDEX INDEX ix_lessons_search_vector"))
    if db.is_postgres:
        async with db.engine.connect() as conn:
            await conn.execute(text("COMMIT"))
            await conn.execute(text("ANALYZE lessons"))
    return time.perf_counter() - started


async def time_queries(db: Database, workspace_id: int, rounds: int, scene: Scene) -> list[float]:
    viewer = Viewer(scene.user_id, scene.channel_id)
    timings = []
    async with db.reading() as session:
        for question in QUESTIONS:  # warm the caches once
            await queries.search(session, workspace_id, search_terms(question), viewer, limit=6)
        for _ in range(rounds):
            for question in QUESTIONS:
                started = time.perf_counter()
                await queries.search(
                    session, workspace_id, search_terms(question), viewer, Filters(), limit=6
                )
                timings.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()  # a filter without words, and a page further on
            await queries.search(
                session, workspace_id, [], viewer, Filters(tags=("deploy",)), limit=6, offset=5
            )
            timings.append((time.perf_counter() - started) * 1000)
    return timings


HTTP_QUESTIONS = [*QUESTIONS, "#deploy"]  # the function's questions, and a tag without words


def signed_lessons(emu: SlackEmulator, scene: Scene, question: str) -> tuple[bytes, dict[str, str]]:
    """`/lessons <question>` form-encoded and signed as Slack sends it (fresh timestamp)."""
    ws = emu.state
    body = urlencode(
        {
            "token": "bench",
            "team_id": ws.team_id,
            "team_domain": ws.domain,
            "channel_id": scene.channel_id,
            "channel_name": "general",
            "user_id": scene.user_id,
            "user_name": ws.users[scene.user_id].name,
            "command": "/lessons",
            "text": question,
            "api_app_id": ws.app_id,
            "is_enterprise_install": "false",
            "response_url": "http://127.0.0.1:9/response",
            "trigger_id": "1.2.3",
        }
    ).encode()
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }
    return body, headers


@dataclass
class HttpRun:
    timings: list[float]
    refused: int = 0  # neither a results page nor "nothing found": not served, or an error
    empty: int = 0  # served, but nothing found (the lessons not this team's, or not visible)


async def time_endpoint(url: str, emu: SlackEmulator, scene: Scene, rounds: int) -> HttpRun:
    """Ack latency of `/lessons` as Slack measures it: one request at a time, round trip."""
    run = HttpRun([])
    async with aiohttp.ClientSession() as session:

        async def ask(question: str) -> float:
            body, headers = signed_lessons(emu, scene, question)
            started = time.perf_counter()
            async with session.post(url + "/slack/events", data=body, headers=headers) as resp:
                reply = await resp.json(content_type=None) if resp.status == 200 else {}
            elapsed = (time.perf_counter() - started) * 1000
            lead = str((reply or {}).get("text", ""))
            if lead.startswith(("Nothing in the book", "No validated practices")):
                run.empty += 1
            elif not lead.startswith(("*Lessons for", "*Recent validated")):
                run.refused += 1  # another team's refusal, an error, a timeout page
            return elapsed

        for question in HTTP_QUESTIONS:  # warm up: auth.test, imports, caches
            await ask(question)
        run.refused = run.empty = 0
        for _ in range(rounds):
            for question in HTTP_QUESTIONS:
                run.timings.append(await ask(question))
    return run


async def bench_endpoint(db_url: str, emu: SlackEmulator, scene: Scene, rounds: int) -> HttpRun:
    """`doughnut run` in its own process on the generated database, against the emulator."""
    port = free_port()
    env = server_env(emu.api_url, emu.state.bot_token, db_url, port, "WARNING")
    with tempfile.TemporaryDirectory() as workdir:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=workdir
        )
        try:
            url = f"http://127.0.0.1:{port}"
            await wait_ready(url, proc)
            return await time_endpoint(url, emu, scene, rounds)
        finally:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), timeout=15)


async def bench(
    name: str, url: str, count: int, rounds: int, goal_ms: float, emu: SlackEmulator, scene: Scene
) -> None:
    db = Database(url)
    try:
        await upgrade(db)
        workspace_id, filled = await fill(db, count, scene)
        rebuilt = await rebuild_index(db)
        timings = await time_queries(db, workspace_id, rounds, scene)
    finally:
        await db.dispose()  # the server gets the database to itself
    p50, p95 = percentile(timings, 50), percentile(timings, 95)
    print(
        f"{name:<10} {count} lessons: inserted (with index) in {filled:.1f} s, "
        f"index rebuilt in {rebuilt:.1f} s; {len(timings)} searches: p50 {p50:.1f} ms, "
        f"p95 {p95:.1f} ms, max {max(timings):.1f} ms, mean {statistics.mean(timings):.1f} ms "
        f"(goal p95 ≤ {goal_ms:.0f} ms: {'met' if p95 <= goal_ms else 'MISSED'})"
    )
    run = await bench_endpoint(url, emu, scene, rounds)
    acks = run.timings
    print(
        f"{'':<10} through HTTP (doughnut run, signed /lessons): {len(acks)} acks: "
        f"p50 {percentile(acks, 50):.1f} ms, p95 {percentile(acks, 95):.1f} ms, "
        f"max {max(acks):.1f} ms; nothing found {run.empty}, not served {run.refused} "
        f"(ack budget 2500 ms: {'met' if max(acks) <= 2500 else 'MISSED'})"
    )


async def postgres_database(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_url, timeout=3)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", "--count", type=int, default=100_000, dest="lessons")
    parser.add_argument("--quick", action="store_true", help="10,000 lessons")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    count = 10_000 if args.quick else args.lessons
    emu = SlackEmulator(Workspace.with_sample_members())
    await emu.start()
    try:
        ws = emu.state
        scene = Scene(ws.team_id, ws.user_by_name("alice").id, ws.channel_by_name("general").id)
        await bench_all(count, args.rounds, args.postgres_url, emu, scene)
    finally:
        await emu.stop()


async def bench_all(
    count: int, rounds: int, postgres_url: str, emu: SlackEmulator, scene: Scene
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        await bench("SQLite", url, count, rounds, 20, emu, scene)
    name = f"doughnut_bench_search_{secrets.token_hex(3)}"
    try:
        await postgres_database(postgres_url, f'CREATE DATABASE "{name}"')
    except Exception as error:  # no PostgreSQL here: the SQLite figure stands alone
        print(f"PostgreSQL skipped ({type(error).__name__}: {error})")
        return
    try:
        pg_url = postgres_url.rsplit("/", 1)[0].replace("postgresql:", "postgresql+asyncpg:")
        await bench("PostgreSQL", f"{pg_url}/{name}", count, rounds, 80, emu, scene)
    finally:
        await postgres_database(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
