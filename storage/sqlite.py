"""SQLite serves one process with one writer at a time: the writer lock, the file guard, and
a driver that runs SQLite on the event loop's own thread.

Why not aiosqlite's thread: every call (cursor, execute, fetch, close: four per statement)
is a hop to its thread and back through the event loop's queue, so under a burst a write
transaction holds the one writer slot for as long as the busy loop takes to come round a
few dozen times. SQLite's own work for a small statement takes microseconds: done in place,
a transaction holds the slot only for its own work (bench/sqlite_burst.py). The price is that
a slow query blocks the loop; SQLite is the small, one-process deployment.
"""

from __future__ import annotations

import asyncio
import fcntl
import math
import os
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url


class WriterBusy(TimeoutError):
    """The SQLite writer lock was not free in time (a passing failure: worth a retry)."""


class DatabaseInUse(RuntimeError):
    """Another process already serves this SQLite file."""


class WriterLock:
    """One writer at a time, taken before a connection is; a waiting person goes first.

    Requests (someone waits for the ack) are served before background writers (the outbox, the
    scheduler), which catch up when the burst is over. FIFO within each kind. Every wait is
    bounded by the caller. While requests keep coming, background writers also take turns at
    most `background_gap` apart: their work between two writes (a send, a pass) shares the
    one event loop with the requests, and a backlog must not crowd out a person's ack.
    """

    def __init__(
        self,
        *,
        background_gap: float = 0.05,
        busy_window: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._background: deque[asyncio.Future[None]] = deque()
        self._gap = background_gap
        self._window = busy_window  # requests this recent mean a burst is on
        self._clock = clock
        self._last_urgent = -math.inf
        self._last_background = -math.inf
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    async def acquire(self, wait: float, *, urgent: bool) -> None:
        if not self._held and (urgent or (not self._background and self._background_wait() <= 0)):
            self._take(urgent)
            return
        turn = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._background).append(turn)
        self._hand_over()  # free but paced: arm the timer
        try:
            async with asyncio.timeout(wait):
                await turn
        except BaseException as error:
            # Handed over just as this waiter gave up (its time ran out in the same loop pass,
            # or it was cancelled): pass it on, or the lock stays held by nobody for ever.
            if turn.done() and not turn.cancelled():
                self.release()
            if isinstance(error, TimeoutError):
                raise WriterBusy(f"the database writer stayed busy for {wait:.1f}s") from None
            raise

    def release(self) -> None:
        self._held = False
        self._hand_over()

    def _take(self, urgent: bool) -> None:
        self._held = True
        if urgent:
            self._last_urgent = self._clock()
        else:
            self._last_background = self._clock()

    def _background_wait(self) -> float:
        """How long a background writer must still wait: only while requests are coming."""
        now = self._clock()
        if now - self._last_urgent >= self._window:
            return 0.0
        return max(0.0, self._last_background + self._gap - now)

    def _hand_over(self) -> None:
        """Give a free lock to the next waiter: a request's at once, a background one when due."""
        if self._held:
            return
        while self._urgent:
            turn = self._urgent.popleft()
            if not turn.done():  # a waiter that timed out or was cancelled is skipped
                self._take(True)
                turn.set_result(None)
                return
        while self._background and self._background[0].done():
            self._background.popleft()
        if not self._background:
            return
        delay = self._background_wait()
        if delay > 0:
            loop = asyncio.get_running_loop()
            if self._timer is None or self._timer_loop is not loop:  # one armed per loop
                self._timer, self._timer_loop = loop.call_later(delay, self._on_timer), loop
            return
        self._take(False)
        self._background.popleft().set_result(None)

    def _on_timer(self) -> None:
        self._timer = None
        self._hand_over()


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database))


class FileClaim:
    """This process's hold on a SQLite file (an fcntl lock on `<file>.lock`)."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None


def claim_sqlite_file(url: str | URL) -> FileClaim | None:
    """Make this the only process serving a SQLite file, for as long as the claim is held.

    SQLite serves one process: the writer lock and the outbox's single sender live in it.
    Raises `DatabaseInUse` when another process holds the file. None for PostgreSQL (replicas
    are fine) and where there is no file (in memory, or a directory that does not exist: opening
    the database will say so).
    """
    path = sqlite_file(url)
    if path is None or not path.resolve().parent.is_dir():
        return None
    lock_path = path.resolve().with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise DatabaseInUse(
            f"another Doughnut process (pid {holder}) is using {path}; SQLite serves one "
            "process: stop that one, or use PostgreSQL (DATABASE_URL) to run several"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return FileClaim(fd)


# ---- SQLite in place: the part of aiosqlite's interface that SQLAlchemy's dialect uses -------


class _Cursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    async def execute(self, sql: str, parameters: Any = ()) -> _Cursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Any) -> _Cursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size) if size is not None else self._cursor.fetchmany()

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _AtOnce:
    """Stands in for aiosqlite's queue to its thread: the call runs now."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)


class InPlaceConnection:
    """A sqlite3 connection behind aiosqlite's awaitable interface, without its thread."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection  # the names SQLAlchemy's dialect reaches for
        self._tx = _AtOnce()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def cursor(self) -> _Cursor:
        return _Cursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Any = ()) -> _Cursor:
        return _Cursor(self._conn.execute(sql, parameters))

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        self._conn.close()


def in_place_connector(args: Sequence[Any], kwargs: dict[str, Any]) -> Callable[[], Any]:
    """An `async_creator` for SQLAlchemy: sqlite3 connections used in place."""

    async def connect() -> InPlaceConnection:
        return InPlaceConnection(sqlite3.connect(*args, **kwargs))

    return connect
