"""After Action Reviews: the scheduler's per-tick work and the reply matcher, with much history.

Run by hand: `python bench/aar.py [--history 20000] [--due 200] [--database-url URL]`. Builds a
migrated database (a temporary SQLite file by default) with `history` runs (summed up, scheduled
far ahead, open and not due, spread over 500 channels) and `due` runs to start plus `due` runs to
sum up (20 replies each). Prints the time of an idle tick's AAR work (the leader's 30-second
tick), of a tick that starts and sums them up (at most 100 of each a tick; the rest wait for the
next), and of the message matcher's read for a reply
in a channel with open runs (it runs before the ack of every thread reply in a channel).
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

from handlers.aar.listeners import run_due  # noqa: E402
from storage.aar import open_runs_in  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import AarReply, AarRun, AarState  # noqa: E402
from storage.workspaces import get_or_create_workspace  # noqa: E402

CHANNELS = 500


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def main(url: str, history: int, due: int) -> None:
    db = Database(url)
    await upgrade(db)
    now = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
    async with db.transaction() as session:
        workspace = await get_or_create_workspace(
            session, key="T1", team_id="T1", enterprise_id=None,
            is_enterprise_install=False, now=now,
        )  # fmt: skip
        ws = workspace.id

        def run(i: int, state: AarState, starts: datetime, **extra: object) -> AarRun:
            return AarRun(
                workspace_id=ws, channel_id=f"C{i % CHANNELS:06d}", project=f"p{i}",
                started_by="U1", timezone="UTC", starts_at=starts, window_minutes=1440,
                state=state, created_at=now, **extra,
            )  # fmt: skip

        states = [AarState.SUMMARISED, AarState.SCHEDULED, AarState.OPEN]
        for i in range(history):
            state = states[i % 3]
            if state is AarState.SUMMARISED:
                session.add(run(i, state, now - timedelta(days=30 + i % 300), thread_ts=f"{i}.1"))
            elif state is AarState.SCHEDULED:
                session.add(run(i, state, now + timedelta(days=1 + i % 20)))
            else:
                session.add(run(i, state, now - timedelta(hours=1),
                                ends_at=now + timedelta(hours=20), thread_ts=f"{i}.1"))  # fmt: skip
        await session.flush()
        for i in range(due):
            session.add(run(history + i, AarState.SCHEDULED, now - timedelta(seconds=10)))
            ending = run(history + due + i, AarState.OPEN, now - timedelta(days=1),
                         ends_at=now - timedelta(seconds=10), thread_ts=f"9{i}.1")  # fmt: skip
            session.add(ending)
            await session.flush()
            for r in range(20):
                session.add(AarReply(workspace_id=ws, run_id=ending.id, user_id=f"U{r}",
                                     ts=f"9{i}.{r + 2}", text=f"{r % 4 + 1}. an answer {r}",
                                     created_at=now))  # fmt: skip

    idle = []
    for i in range(10):
        began = time.perf_counter()
        await run_due(db, now - timedelta(minutes=1 + i))
        idle.append(time.perf_counter() - began)
    began = time.perf_counter()
    steps = await run_due(db, now)
    busy = time.perf_counter() - began

    reads = []
    for i in range(200):
        began = time.perf_counter()
        async with db.reading() as session:
            await open_runs_in(session, ws, f"C{i % CHANNELS:06d}")
        reads.append(time.perf_counter() - began)
    await db.dispose()
    backend = db.url.get_backend_name()
    print(f"{backend}, {history} runs of history, {due} to start, {due} to sum up")
    print(f"  idle tick's AAR work:             p50 {ms(statistics.median(idle))}")
    print(f"  tick taking {steps} steps:          {ms(busy)} ({ms(busy / max(steps, 1))} a step)")
    print(f"  reply matcher's read (a channel): p50 {ms(statistics.median(reads))}, "
          f"max {ms(max(reads))}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--history", type=int, default=20000)
    parser.add_argument("--due", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    asyncio.run(main(url, args.history, args.due))
