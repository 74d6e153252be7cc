"""Leadership: one leader at a time, a quick takeover when it dies, and wakes across replicas."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from bot.clock import ManualClock
from bot.emulator import SlackEmulator, Workspace
from bot.leader import LEADER_LOCK_KEY, Leadership, notify_outbox
from bot.metrics import Metrics
from bot.outbox import OutboxSender
from storage import deliveries
from storage.db import Database
from storage.models import DeliveryStatus
from tests.conftest import eventually, fetch, slack_client, workspace_id

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FAST = {"retry_interval": 0.3, "check_interval": 0.5, "check_timeout": 3.0}


@dataclass
class Replica:
    """One process's leader machinery: its Leadership, its wakers, and what it did as leader."""

    name: str
    leadership: Leadership
    wakers: list[Callable[[], None]] = field(default_factory=list)
    terms: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        for wake in self.wakers:
            wake()


class Cluster:
    """Replicas sharing one database and one Slack; records how many lead at once."""

    def __init__(self, db: Database, emu: SlackEmulator, clock: ManualClock) -> None:
        self.db, self.emu, self.clock = db, emu, clock
        self.leading = 0
        self.most_leading = 0
        self.replicas: list[Replica] = []

    def start(self, name: str) -> Replica:
        replica = Replica(name, Leadership(self.db, **FAST))
        replica.leadership.on_notify = replica.wake
        metrics = Metrics()

        async def lead(resign: asyncio.Event) -> None:
            self.leading += 1
            self.most_leading = max(self.most_leading, self.leading)
            replica.terms += 1
            # A minute between polls: only a wake (a NOTIFY) makes it look sooner.
            sender = OutboxSender(
                self.db, slack_client(self.emu), self.clock, metrics, poll_interval=60.0
            )
            replica.wakers.append(sender.wake)
            try:
                await sender.run(resign)
            finally:
                replica.wakers.remove(sender.wake)
                self.leading -= 1

        replica.task = asyncio.create_task(replica.leadership.run(replica.stop, lead))
        self.replicas.append(replica)
        return replica

    def leaders(self) -> list[Replica]:
        return [r for r in self.replicas if r.leadership.is_leader]

    async def stop(self, replica: Replica) -> None:
        replica.stop.set()
        assert replica.task is not None
        await asyncio.wait_for(replica.task, 30)

    async def close(self) -> None:
        for replica in self.replicas:
            replica.stop.set()
        await asyncio.gather(*(r.task for r in self.replicas if r.task), return_exceptions=True)


@pytest.fixture
async def emu() -> AsyncIterator[SlackEmulator]:
    async with SlackEmulator(Workspace.with_sample_members()) as emulator:
        yield emulator


@pytest.fixture
async def cluster(db: Database, emu: SlackEmulator) -> AsyncIterator[Cluster]:
    group = Cluster(db, emu, ManualClock(START))
    try:
        yield group
    finally:
        await group.close()


async def enqueue_and_notify(cluster: Cluster, text: str) -> int:
    """What a handler on any replica does: enqueue and NOTIFY in one transaction."""
    ws_id = await workspace_id(cluster.db, cluster.clock, cluster.emu.state.team_id)
    general = cluster.emu.state.channel_by_name("general").id
    async with cluster.db.transaction() as session:
        delivery = await deliveries.enqueue(
            session,
            workspace_id=ws_id,
            method="chat.postMessage",
            payload={"channel": general, "text": text},
            channel=general,
            now=cluster.clock.now(),
        )
        await notify_outbox(session)
        return delivery.id


async def sent(db: Database, delivery_id: int) -> bool:
    return (await fetch(db, delivery_id)).status == DeliveryStatus.SENT


async def test_a_lone_process_leads_and_resigns_when_stopped(cluster: Cluster) -> None:
    one = cluster.start("one")

    await eventually(lambda: _true(one.leadership.is_leader))
    delivery_id = await enqueue_and_notify(cluster, "hello")
    if cluster.db.is_sqlite:
        one.wake()  # on SQLite the enqueuing process wakes its own sender (Deps.wake_outbox)
    await eventually(lambda: sent(cluster.db, delivery_id))
    await cluster.stop(one)

    assert not one.leadership.is_leader
    assert one.terms == 1 and cluster.leading == 0


async def test_two_replicas_have_one_leader_and_the_other_takes_over_when_it_dies(
    cluster: Cluster, db: Database
) -> None:
    if not db.is_postgres:
        pytest.skip("several replicas need PostgreSQL (SQLite is one process)")
    a, b = cluster.start("a"), cluster.start("b")

    await eventually(lambda: _true(len(cluster.leaders()) == 1))
    await asyncio.sleep(1.0)  # three election rounds (retry_interval 0.3 s): still one
    (first,) = cluster.leaders()
    other = b if first is a else a
    assert cluster.most_leading == 1

    # The leader's connection dies (as when its process or host does).
    await _terminate_lock_holder(db)
    await eventually(lambda: _true(cluster.leaders() == [other]))
    assert other.leadership.is_leader and not first.leadership.is_leader
    delivery_id = await enqueue_and_notify(cluster, "after takeover")
    await eventually(lambda: sent(db, delivery_id))

    # The new leader stops; the first one (reconnected, waiting) leads again.
    await cluster.stop(other)
    await eventually(lambda: _true(cluster.leaders() == [first]))
    delivery_id = await enqueue_and_notify(cluster, "back again")
    await eventually(lambda: sent(db, delivery_id))

    assert cluster.most_leading == 1
    texts = [
        m.text for m in cluster.emu.state.history(cluster.emu.state.channel_by_name("general").id)
    ]
    assert texts.count("after takeover") == 1 and texts.count("back again") == 1


async def test_notify_reaches_the_leader_on_commit_only(db: Database, cluster: Cluster) -> None:
    if not db.is_postgres:
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    notified = asyncio.Event()
    leadership = Leadership(db, on_notify=notified.set, **FAST)
    stop = asyncio.Event()

    async def idle(resign: asyncio.Event) -> None:
        await resign.wait()

    running = asyncio.create_task(leadership.run(stop, idle))
    try:
        await eventually(lambda: _true(leadership.is_leader))
        async with db.sessions() as session, session.begin():
            await notify_outbox(session)
            await session.rollback()
        await asyncio.sleep(0.5)
        assert not notified.is_set()
        async with db.transaction() as session:
            await notify_outbox(session)
        await asyncio.wait_for(notified.wait(), 10)
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)


# A replica in its own process, so the test can freeze it (SIGSTOP) as a stuck host would be.
REPLICA = """
import asyncio, sys
from bot.leader import Leadership
from storage.db import Database

async def main():
    leadership = Leadership(Database(sys.argv[1]), retry_interval=0.3, check_interval=0.3,
                            check_timeout=1.0, idle_timeout=IDLE)

    async def lead(resign):
        print("leading", flush=True)
        await resign.wait()
        print("resigned", flush=True)

    await leadership.run(asyncio.Event(), lead)

asyncio.run(main())
"""
IDLE = 2.0
ROOT = Path(__file__).resolve().parents[1]


async def test_a_frozen_leader_loses_the_lock_and_another_takes_over(db: Database) -> None:
    if not db.is_postgres:
        pytest.skip("several replicas need PostgreSQL (SQLite is one process)")
    url = db.url.render_as_string(hide_password=False)
    root = ROOT
    frozen = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        REPLICA.replace("IDLE", str(IDLE)),
        url,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=asyncio.subprocess.PIPE,
    )
    assert frozen.stdout is not None
    other = Leadership(db, **FAST)  # patient checks: a loaded machine must not make it resign
    stop = asyncio.Event()
    terms = 0

    async def lead(resign: asyncio.Event) -> None:
        nonlocal terms
        terms += 1
        await resign.wait()

    running: asyncio.Task[None] | None = None
    try:
        assert await asyncio.wait_for(frozen.stdout.readline(), 20) == b"leading\n"
        running = asyncio.create_task(other.run(stop, lead))
        await asyncio.sleep(1.0)
        assert not other.is_leader  # the first still leads

        os.kill(frozen.pid, signal.SIGSTOP)  # frozen: its kernel still answers TCP
        # The server drops the silent connection after IDLE seconds; the lock goes with it.
        await eventually(lambda: _true(other.is_leader), seconds=IDLE + 8)
        assert terms == 1

        os.kill(frozen.pid, signal.SIGCONT)  # the old leader wakes up and steps down
        assert await asyncio.wait_for(frozen.stdout.readline(), 10) == b"resigned\n"
        await asyncio.sleep(1.0)
        assert other.is_leader and terms == 1
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(frozen.pid, signal.SIGCONT)
            frozen.kill()
        await frozen.wait()
        stop.set()
        if running is not None:
            await asyncio.wait_for(running, 30)


def test_the_heartbeat_must_fit_inside_the_idle_timeout(db: Database) -> None:
    with pytest.raises(ValueError, match="idle_timeout"):
        Leadership(db, check_interval=10.0, check_timeout=5.0, idle_timeout=12.0)


async def _true(value: bool) -> bool:
    return value


async def _terminate_lock_holder(db: Database) -> None:
    """Kill the backend holding the leader lock in this database (from outside, like a crash)."""
    dsn = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        killed = await conn.fetchval(
            """
            SELECT count(pg_terminate_backend(pid)) FROM pg_locks
            WHERE locktype = 'advisory' AND granted
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND classid = 0 AND objid = $1
            """,
            LEADER_LOCK_KEY,
        )
    finally:
        await conn.close()
    assert killed == 1
