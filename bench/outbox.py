"""Outbox throughput and latency against the local Slack emulator (run by hand, not by pytest).

    python bench/outbox.py [--count 2000] [--channels 20] [--rate 200] [--database-url URL]

Two phases, both with channel pacing set to 0 (Slack's 1 s per channel would make the figure
just `channels` per second; this measures the outbox's own cost: leases, marks, HTTP):

1. backlog: enqueue `count` deliveries across `channels` channels, then drain them; prints
   deliveries/s and the enqueue-to-sent latency (dominated by the backlog's own length).
2. steady: a producer enqueues at `rate` per second, waking the running sender after each
   commit, as handlers do; prints the enqueue-to-sent latency a user would see.
3. fairness: `--backlog` posts to one channel, paced as Slack wants (1 s apart), then one post a
   person waits for in another channel; prints how long that one took and how many of the
   backlog went before it (the rest of the backlog is left unsent).

SQLite runs in a temporary file. With --database-url (PostgreSQL) the database is migrated and
used as is, so give it a scratch database; the bench's own workspace is deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import delete, select  # noqa: E402

from bench.ack import percentile  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.emulator import Workspace  # noqa: E402
from bot.local_stack import local_stack  # noqa: E402
from bot.metrics import Metrics  # noqa: E402
from bot.outbox import OutboxSender  # noqa: E402
from storage import deliveries, workspaces  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Delivery, DeliveryStatus, Priority  # noqa: E402
from storage.models import Workspace as WorkspaceRow  # noqa: E402


async def latencies(db: Database, ids: list[int]) -> list[float]:
    """Seconds from enqueue to sent, for the given deliveries (all must be sent)."""
    found: list[float] = []
    async with db.reading() as session:
        for start in range(0, len(ids), 500):
            rows = await session.execute(
                select(Delivery.status, Delivery.created_at, Delivery.sent_at).where(
                    Delivery.id.in_(ids[start : start + 500])
                )
            )
            for status, created_at, sent_at in rows:
                if status != DeliveryStatus.SENT or sent_at is None:
                    raise SystemExit(f"a delivery ended {status}, not sent")
                found.append((sent_at - created_at).total_seconds())
    return found


def report(label: str, values: list[float]) -> None:
    print(
        f"  {label}: p50 {statistics.median(values) * 1000:.1f} ms, "
        f"p99 {percentile(values, 99) * 1000:.1f} ms, max {max(values) * 1000:.1f} ms"
    )


async def enqueue_one(
    db: Database,
    clock: SystemClock,
    ws_id: int,
    channel: str,
    n: int,
    priority: Priority = Priority.BULK,
) -> int:
    async with db.transaction() as session:
        delivery = await deliveries.enqueue(
            session,
            workspace_id=ws_id,
            method="chat.postMessage",
            payload={"channel": channel, "text": f"bench {n}"},
            channel=channel,
            priority=priority,
            now=clock.now(),
        )
        return delivery.id


async def bench(url: str, count: int, channel_count: int, rate: float, backlog: int) -> None:
    db = Database(url)
    await upgrade(db)
    clock = SystemClock()
    state = Workspace()
    channels = [
        state.add_channel(f"bench-{i}", members=[state.bot_user_id]).id
        for i in range(channel_count)
    ]
    team = f"TBENCH{uuid.uuid4().hex[:8].upper()}"
    async with db.transaction() as session:
        ws = await workspaces.get_or_create_workspace(
            session,
            key=team,
            team_id=team,
            enterprise_id=None,
            is_enterprise_install=False,
            now=clock.now(),
        )
        ws_id = ws.id
    backend = "PostgreSQL" if db.is_postgres else "SQLite"
    print(f"{backend}: {count} deliveries over {channel_count} channels, pacing off")
    try:
        # The bot as `run` builds it (a pooled outbox client), on the local Slack.
        async with local_stack(db=db, clock=clock, workspace=state, channel_spacing=0.0) as stack:
            emu, client = stack.emu, stack.app.deps.outbox_client
            sender = stack.outbox

            # 1. backlog
            started = time.perf_counter()
            ids = [
                await enqueue_one(db, clock, ws_id, channels[n % channel_count], n)
                for n in range(count)
            ]
            enqueued = time.perf_counter() - started
            started = time.perf_counter()
            settled = 0
            while settled < count:
                handled = await sender.drain_once()
                if handled == 0:
                    raise SystemExit("the outbox stopped making progress")
                settled += handled
            drained = time.perf_counter() - started
            print(f"backlog: enqueued at {count / enqueued:.0f}/s (one transaction each)")
            print(f"  drained at {count / drained:.0f} deliveries/s ({drained:.2f} s)")
            report("enqueue-to-sent", await latencies(db, ids))

            # 2. steady
            stop = asyncio.Event()
            running = asyncio.create_task(sender.run(stop))
            steady = min(count, int(rate * 5)) or 1
            ids = []
            started = time.perf_counter()
            for n in range(steady):
                ids.append(await enqueue_one(db, clock, ws_id, channels[n % channel_count], n))
                sender.wake()
                pause = started + (n + 1) / rate - time.perf_counter()
                if pause > 0:
                    await asyncio.sleep(pause)
            while True:
                async with db.reading() as session:
                    left = await session.scalar(
                        select(Delivery.id)
                        .where(Delivery.id.in_(ids), Delivery.status == DeliveryStatus.PENDING)
                        .limit(1)
                    )
                if left is None:
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await running
            print(f"steady: {steady} deliveries at {rate:.0f}/s, sender running and woken")
            report("enqueue-to-sent", await latencies(db, ids))
            posted = len(emu.calls_to("chat.postMessage"))
            print(f"  emulator received {posted} posts for {count + steady} deliveries")

            # 3. fairness
            emu.clear_calls()
            busy, other = channels[0], channels[1 % channel_count]
            async with db.transaction() as session:
                for n in range(backlog):
                    await deliveries.enqueue(
                        session,
                        workspace_id=ws_id,
                        method="chat.postMessage",
                        payload={"channel": busy, "text": f"backlog {n}"},
                        channel=busy,
                        priority=Priority.BULK,
                        now=clock.now(),
                    )
            paced = OutboxSender(db, client, clock, Metrics(), channel_spacing=1.0)
            stop = asyncio.Event()
            running = asyncio.create_task(paced.run(stop))
            await asyncio.sleep(0.5)  # the backlog is under way
            waited = await enqueue_one(db, clock, ws_id, other, 0, Priority.PERSON)
            paced.wake()
            while True:
                async with db.reading() as session:
                    status = await session.scalar(
                        select(Delivery.status).where(Delivery.id == waited)
                    )
                if status != DeliveryStatus.PENDING:
                    break
                await asyncio.sleep(0.01)
            stop.set()
            await running
            before = sum(
                1
                for c in emu.calls_to("chat.postMessage")
                if str(c.args.get("text", "")).startswith("backlog")
            )
            print(f"fairness: one post a person waits for, behind {backlog} paced posts")
            report("enqueue-to-sent", await latencies(db, [waited]))
            print(f"  backlog posts sent by then: {before} (paced 1 s apart)")
    finally:
        async with db.transaction() as session:
            await session.execute(delete(WorkspaceRow).where(WorkspaceRow.id == ws_id))
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--rate", type=float, default=200.0, help="steady phase, per second")
    parser.add_argument("--backlog", type=int, default=600, help="fairness phase backlog")
    parser.add_argument("--database-url", help="PostgreSQL URL (postgresql+asyncpg://...)")
    args = parser.parse_args()
    if args.database_url:
        asyncio.run(bench(args.database_url, args.count, args.channels, args.rate, args.backlog))
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        asyncio.run(bench(url, args.count, args.channels, args.rate, args.backlog))


if __name__ == "__main__":
    main()
