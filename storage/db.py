"""The async engine and sessions: SQLite (WAL, one writer at a time) or PostgreSQL (asyncpg).

Every wait on the database is bounded on the client side, because a database lost to packet
loss never answers: connecting, each statement, a pooled connection, and (on SQLite) the
in-process writer lock. Request transactions also get server-side statement and lock timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_only

from storage.sqlite import (
    DatabaseInUse,
    FileClaim,
    WriterBusy,
    WriterLock,
    claim_sqlite_file,
    in_place_connector,
    sqlite_file,
)

__all__ = [
    "Database",
    "DatabaseInUse",
    "FileClaim",
    "WriterBusy",
    "claim_sqlite_file",
    "close_quickly",
]

# Only another process (the sqlite3 shell, a backup) can hold SQLite's lock: in-process writers
# queue on the writer lock. A write waits this long for it, polling without blocking the loop.
SQLITE_BUSY_TIMEOUT = 1.0
SQLITE_BUSY_POLL = 0.01
READ_ONLY = "doughnut_read_only"

# Client-side bounds (seconds). A request must be answered within 2.5 s in all, and only one
# of these waits can run out in a request: the first one to expire fails it.
CONNECT_TIMEOUT = 1.0  # asyncpg: TCP, TLS and startup of a new connection
COMMAND_TIMEOUT = 1.2  # asyncpg: any one statement (the migration has its own engine)
CLOSE_TIMEOUT = 0.2  # asyncpg: closing politely, else the socket is just dropped
POOL_TIMEOUT = 1.0  # waiting for a pooled connection
REQUEST_WRITER_WAIT = 1.0  # SQLite: a request waiting for the writer lock
BACKGROUND_WRITER_WAIT = 10.0  # SQLite: the outbox and the scheduler may wait longer
PING_TIMEOUT = 1.0  # /readyz
# Server-side, set in request transactions only (an engine-wide one would abort the
# migration's wait for its advisory lock). They fire before COMMAND_TIMEOUT, so the server
# cancels cleanly whenever it can still talk.
REQUEST_STATEMENT_TIMEOUT_MS = 1000
REQUEST_LOCK_TIMEOUT_MS = 500


class WriterSession(AsyncSession):
    """A session that gives the writer lock back when it is closed."""

    release_writer: Callable[[], None] | None = None

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            release, self.release_writer = self.release_writer, None
            if release is not None:
                release()


class Database:
    """One engine and its session factory, passed to whoever needs the database."""

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.is_postgres = self.url.get_backend_name() == "postgresql"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_postgres or sqlite_file(self.url) is not None:  # in memory: no pool to wait on
            kwargs["pool_timeout"] = POOL_TIMEOUT
        if self.is_postgres:
            kwargs.update(
                pool_pre_ping=True,
                pool_size=10,
                max_overflow=10,
                connect_args={
                    "timeout": CONNECT_TIMEOUT,
                    "command_timeout": COMMAND_TIMEOUT,
                    "connection_class": _quick_closing_connection(),
                },
            )
        if self.is_sqlite:
            args, options = self.url.get_dialect()().create_connect_args(self.url)
            kwargs["async_creator"] = in_place_connector(args, options)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, class_=WriterSession
        )
        # SQLite has one writer at a time: in-process writers queue here, before they take a
        # pooled connection, instead of on SQLite's busy timeout. PostgreSQL needs no queue.
        self._writer = WriterLock() if self.is_sqlite else None

    @asynccontextmanager
    async def writer(
        self, wait: float = BACKGROUND_WRITER_WAIT, *, urgent: bool = False
    ) -> AsyncIterator[None]:
        """Hold the writer lock (SQLite; nothing on PostgreSQL), waiting at most `wait` s."""
        release = await self._acquire_writer(wait, urgent=urgent)
        try:
            yield
        finally:
            release()

    async def _acquire_writer(self, wait: float, *, urgent: bool) -> Callable[[], None]:
        lock = self._writer
        if lock is None:
            return _nothing
        await lock.acquire(wait, urgent=urgent)
        return lock.release

    @asynccontextmanager
    async def transaction(
        self, *, wait: float = BACKGROUND_WRITER_WAIT
    ) -> AsyncIterator[AsyncSession]:
        """A session in a write transaction: committed on success, rolled back on error."""
        async with self.writer(wait), self.sessions() as session, session.begin():
            yield session

    async def request_session(self, *, wait: float = REQUEST_WRITER_WAIT) -> AsyncSession:
        """A request's write session, begun, with its timeouts; closing it frees the writer."""
        release = await self._acquire_writer(wait, urgent=True)
        session = self.sessions()
        session.release_writer = release
        try:
            await session.begin()
            if self.is_postgres:
                # `true`: for this transaction only, so a pooled connection keeps no trace.
                await session.execute(
                    text(
                        "SELECT set_config('statement_timeout', :statement, true), "
                        "set_config('lock_timeout', :lock, true)"
                    ),
                    {
                        "statement": f"{REQUEST_STATEMENT_TIMEOUT_MS}ms",
                        "lock": f"{REQUEST_LOCK_TIMEOUT_MS}ms",
                    },
                )
        except BaseException:
            await close_quickly(session)
            raise
        return session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only (on SQLite it does not take the write lock)."""
        # Closing (not rolling back) ends the transaction and leaves loaded objects readable.
        async with self.sessions() as session:
            await session.connection(execution_options={READ_ONLY: True})
            yield session

    async def ping(self, within: float = PING_TIMEOUT) -> bool:
        """True when the database answers a trivial query within `within` seconds."""
        try:
            async with asyncio.timeout(within):
                async with self.engine.connect() as conn:
                    await conn.execution_options(**{READ_ONLY: True})
                    await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"


def _nothing() -> None:
    return None


def _quick_closing_connection() -> type:
    """An asyncpg connection that does not wait long to close.

    After a statement times out, SQLAlchemy drops the connection by closing it politely, and
    asyncpg's close first waits for the server to confirm the cancelled statement: from a
    silent server, up to another COMMAND_TIMEOUT. Nothing is lost by dropping it sooner.
    """
    import asyncpg  # only needed on PostgreSQL

    class QuickClosingConnection(asyncpg.Connection):  # type: ignore[misc]
        async def close(self, *, timeout: float | None = None) -> None:  # noqa: ASYNC109
            await super().close(timeout=CLOSE_TIMEOUT)

    return QuickClosingConnection


async def close_quickly(session: AsyncSession) -> None:
    """Close a session; if the database does not answer the rollback, drop its connection."""
    try:
        async with asyncio.timeout(COMMAND_TIMEOUT):
            await session.close()
    except Exception:
        # A silent server: invalidating closes the socket without waiting for an answer.
        with contextlib.suppress(Exception):
            await session.invalidate()
        await session.close()


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, synchronous=NORMAL, a busy timeout, and BEGIN IMMEDIATE for writes."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # SQLite runs on the event loop's thread: its own busy wait would stop the loop.
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY, False):
            conn.exec_driver_sql("BEGIN")
            return
        # A write transaction takes the lock up front, so it never fails half-way on upgrade.
        # If another process holds it, wait (this hook runs in SQLAlchemy's greenlet, so it
        # can sleep on the event loop) for a bounded while.
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT
        while True:
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as error:
                busy = getattr(error.orig, "sqlite_errorname", "").startswith("SQLITE_BUSY")
                if not busy or time.monotonic() >= deadline:
                    raise
            await_only(asyncio.sleep(SQLITE_BUSY_POLL))
