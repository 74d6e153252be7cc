"""Leadership: every replica serves Slack; only the leader runs the outbox sender and the scheduler.

On PostgreSQL the leader is whoever holds a session-level advisory lock on its own dedicated
connection: the lock goes with the connection, so a leader that dies (or loses its connection)
frees it, and another replica, trying every `retry_interval` seconds, takes over. The same
connection LISTENs on `doughnut_outbox`, so a delivery enqueued on any replica wakes the leader
as soon as its transaction commits (see `notify_outbox`). On SQLite the one process leads at once.

A leader that stops talking loses the lock within `idle_timeout` seconds, whether it died, froze
(SIGSTOP, a long GC pause: its kernel still answers TCP keepalives) or was cut off (the server
would otherwise keep the connection, and the lock, until TCP gives up, about 2 hours): the
connection sets PostgreSQL's `idle_session_timeout` (14 and later), so the server closes it, and
frees the lock, once the leader's heartbeat (`check_interval`) stops. The lock is never held
inside a transaction: LISTEN delivers nothing there, and idle_session_timeout does not apply.
A leader that resumes after `idle_timeout` without a heartbeat resigns at once; the outbox
checks its own leases on the monotonic clock before each send, so it sends nothing it lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from storage.db import Database
from storage.outbox_queries import NOTIFY_CHANNEL, notify_outbox

log = logging.getLogger(__name__)

# Any constant will do, as long as every replica uses the same one (and not the migration lock's).
LEADER_LOCK_KEY = 0x6C656164  # "lead"

LeaderWork = Callable[[asyncio.Event], Awaitable[None]]

__all__ = ["LEADER_LOCK_KEY", "LeaderWork", "Leadership", "notify_outbox"]


class Leadership:
    """Runs `on_elected(resign)` while this process is the leader; `resign` is set when it stops.

    `on_notify` is called (on the leader) whenever another transaction enqueued deliveries.
    """

    def __init__(
        self,
        db: Database,
        *,
        on_notify: Callable[[], None] | None = None,
        lock_key: int = LEADER_LOCK_KEY,
        retry_interval: float = 1.5,
        check_interval: float = 3.0,
        check_timeout: float = 5.0,
        idle_timeout: float = 20.0,
        resign_grace: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if max(check_interval, retry_interval) + check_timeout >= idle_timeout:
            # Heartbeats (and election tries) must land well inside the server's idle timeout.
            raise ValueError("check_interval + check_timeout must be below idle_timeout")
        self.db = db
        self.on_notify = on_notify
        self.lock_key = lock_key
        self.retry_interval = retry_interval
        self.check_interval = check_interval
        self.check_timeout = check_timeout
        self.idle_timeout = idle_timeout
        self.resign_grace = resign_grace
        self._monotonic = monotonic
        self.is_leader = False
        self._conn: Any = None  # the dedicated asyncpg connection, while there is one

    async def run(self, stop: asyncio.Event, on_elected: LeaderWork) -> None:
        """Until `stop` is set: win leadership, run the leader work while it lasts, and again."""
        if self.db.is_postgres:
            await self._run_postgres(stop, on_elected)
            return
        while not stop.is_set():  # SQLite: one process, the leader from the start
            await self._lead(stop, on_elected, lost=asyncio.Event())
            await _wait(stop, self.retry_interval)

    # PostgreSQL

    async def _run_postgres(self, stop: asyncio.Event, on_elected: LeaderWork) -> None:
        while not stop.is_set():
            try:
                conn = await self._connect()
            except Exception as error:
                log.warning("leader election: cannot connect (%s); retrying", type(error).__name__)
                await _wait(stop, self.retry_interval)
                continue
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
            self._conn = conn
            try:
                if await self._acquire(conn, stop, lost):
                    await conn.add_listener(NOTIFY_CHANNEL, self._notified)
                    await self._lead(stop, on_elected, lost, conn)
            except Exception as error:
                # A dead connection mid-query: leadership (if any) is gone with it.
                log.warning("leader election: connection failed (%s)", type(error).__name__)
            finally:
                self._conn = None
                await self._release(conn)
            if not stop.is_set():
                await _wait(stop, self.retry_interval)

    async def _connect(self) -> Any:
        import asyncpg  # only needed on PostgreSQL

        dsn = self.db.url.set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await asyncpg.connect(dsn, timeout=self.check_timeout)
        try:
            await asyncio.wait_for(self._bound_silence(conn), self.check_timeout)
        except BaseException:
            conn.terminate()
            raise
        return conn

    async def _bound_silence(self, conn: Any) -> None:
        """Make the server drop this connection (and its lock) when the leader falls silent."""
        # A dead peer's socket is closed in about idle + interval * count seconds.
        keepalive = max(1, int(self.idle_timeout / 4))
        await conn.execute(
            f"SET tcp_keepalives_idle = {keepalive}; SET tcp_keepalives_interval = {keepalive};"
            " SET tcp_keepalives_count = 2"
        )
        version = int(await conn.fetchval("SHOW server_version_num"))
        if version >= 140000:
            await conn.execute(f"SET idle_session_timeout = {int(self.idle_timeout * 1000)}")
        else:
            log.warning(
                "PostgreSQL %s has no idle_session_timeout: a frozen leader keeps its lock",
                version,
            )

    async def _acquire(self, conn: Any, stop: asyncio.Event, lost: asyncio.Event) -> bool:
        """Try for the lock every `retry_interval` seconds; False when stopping or disconnected."""
        while not stop.is_set() and not lost.is_set():
            got = await asyncio.wait_for(
                conn.fetchval("SELECT pg_try_advisory_lock($1)", self.lock_key),
                self.check_timeout,
            )
            if got:
                return True
            await _wait(stop, self.retry_interval, lost)
        return False

    async def _alive(self, conn: Any) -> bool:
        try:
            await asyncio.wait_for(conn.fetchval("SELECT 1"), self.check_timeout)
        except Exception:
            return False
        return True

    async def _release(self, conn: Any) -> None:
        """Unlock and close; a broken connection is dropped (the server frees its lock)."""
        if conn.is_closed():
            return
        try:
            await asyncio.wait_for(conn.close(), self.check_timeout)
        except Exception:
            conn.terminate()

    def _notified(self, *_args: Any) -> None:
        if self.on_notify is not None:
            self.on_notify()

    # both

    async def _lead(
        self,
        stop: asyncio.Event,
        on_elected: LeaderWork,
        lost: asyncio.Event,
        conn: Any = None,
    ) -> None:
        """Run the leader work until stopping, disconnected, or the work ends by itself."""
        resign = asyncio.Event()
        self.is_leader = True
        log.info("this process is now the leader")
        work = asyncio.create_task(on_elected(resign), name="leader work")
        heard = self._monotonic()  # the last heartbeat the server answered
        try:
            while not stop.is_set() and not lost.is_set() and not work.done():
                await _wait(stop, self.check_interval, lost, done=work)
                checking = conn is not None and not work.done() and not stop.is_set()
                if not checking:
                    continue
                if self._monotonic() - heard >= self.idle_timeout:
                    # Silent too long (frozen?): the server has dropped us, or is about to.
                    log.warning("leader heartbeat late by more than the idle timeout: resigning")
                    lost.set()
                elif not await self._alive(conn):
                    log.warning("leader connection lost: resigning")
                    lost.set()
                else:
                    heard = self._monotonic()
        finally:
            self.is_leader = False
            resign.set()
            await self._end(work)
            log.info("this process is no longer the leader")

    async def _end(self, work: asyncio.Task[None]) -> None:
        if not work.done():
            _, late = await asyncio.wait([work], timeout=self.resign_grace)
            if late:
                work.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            try:
                await work
            except Exception:
                log.exception("leader work failed")


async def _wait(
    stop: asyncio.Event,
    seconds: float,
    *others: asyncio.Event,
    done: asyncio.Task[Any] | None = None,
) -> None:
    """Sleep up to `seconds`, waking early when an event is set or `done` finishes."""
    waiters: list[asyncio.Future[Any]] = [asyncio.create_task(e.wait()) for e in (stop, *others)]
    watched = [*waiters, done] if done is not None else waiters
    try:
        await asyncio.wait(watched, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
