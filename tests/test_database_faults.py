"""The database down, silent or busy: events get 503 and their retry works, commands say nothing
was saved, /readyz says unavailable, each within the 2.5 s a request has; and which failures
count as passing ones, judged on real exception objects."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.core.communities import SetupForm, apply_setup
from bot.failures import is_transient
from storage.db import Database, WriterBusy
from storage.workspaces import get_or_create_workspace
from tests.conftest import POSTGRES_ADMIN_URL, START, Bot
from tests.fake_postgres import FakePostgres

REQUEST_BOUND = 2.5  # seconds: every request is answered within this, whatever the database does
WELCOME = (
    ":wave: Welcome to *Site Reliability* in <#C0L000001>! It's a community of practice: members "
    "share lessons, help each other and say thanks. Type `/doughnut help` to see what you can do."
)
NOTHING_SAVED = "nothing was saved"

# What a PostgreSQL server says when it cannot take a connection, by SQLSTATE.
REFUSALS = {
    "starting up": ("57P03", "the database system is starting up"),
    "too many connections": ("53300", "sorry, too many clients already"),
    "shutting down": ("57P01", "terminating connection due to administrator command"),
    "not accepting connections": ("55000", 'database "d" is not currently accepting connections'),
    "connection failure": ("08006", "connection failure"),
}
PG_FAULTS = [*REFUSALS, "silent", "refused"]
SQLITE_FAULTS = ["locked by another process", "writer busy"]


# ---- the database behind a fault injector -----------------------------------------------------


@pytest.fixture
async def fake_pg(backend: str) -> AsyncIterator[FakePostgres | None]:
    """On PostgreSQL, a relay in front of the real server that can fail on demand."""
    if backend != "postgresql":
        yield None
        return
    admin = make_url(POSTGRES_ADMIN_URL)
    fake = FakePostgres(admin.host or "127.0.0.1", admin.port or 5432)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def db(db: Database, fake_pg: FakePostgres | None) -> AsyncIterator[Database]:
    """The suite's database; on PostgreSQL reached through the fault injector."""
    if fake_pg is None:
        yield db
        return
    relayed = Database(db.url.set(host=fake_pg.host, port=fake_pg.port))
    try:
        yield relayed
    finally:
        await relayed.dispose()


@asynccontextmanager
async def outage(bot: Bot, fake_pg: FakePostgres | None, fault: str) -> AsyncIterator[None]:
    """The database fails in the way named while inside; it recovers on the way out."""
    if fake_pg is not None:
        if fault in REFUSALS:
            fake_pg.refuse(*REFUSALS[fault])
        elif fault == "silent":
            fake_pg.blackhole()  # packet loss: connections open, nothing ever comes back
        else:
            await fake_pg.close()
        try:
            yield
        finally:
            await fake_pg.recover()
        return
    if fault == "writer busy":  # another writer in this process holds SQLite's one write slot
        async with bot.db.writer():
            yield
        return
    other = sqlite3.connect(str(bot.db.url.database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # e.g. the sqlite3 shell, holding the write lock
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def faults_of(db: Database) -> list[str]:
    return PG_FAULTS if db.is_postgres else SQLITE_FAULTS


async def given_a_community(bot: Bot, channel: str) -> None:
    async with bot.db.transaction() as session:
        workspace = await get_or_create_workspace(
            session,
            key=bot.state.team_id,
            team_id=bot.state.team_id,
            enterprise_id=None,
            is_enterprise_install=False,
            now=START,
        )
        alice = bot.user("alice")
        form = SetupForm("Site Reliability", "", "Europe/Paris", coordinators=[alice])
        apply_setup(
            session,
            None,
            workspace_id=workspace.id,
            channel_id=channel,
            is_private=False,
            form=form,
            by_user=alice,
            now=START,
        )


def welcomes(bot: Bot, user_id: str) -> list[Any]:
    dm = bot.state.dm_channel(user_id).id
    return [m for m in bot.state.history(dm) if m.user == bot.state.bot_user_id]


async def timed(request: Any) -> tuple[Any, float]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    reply = await request
    return reply, loop.time() - started


# ---- over the wire ----------------------------------------------------------------------------


async def test_an_event_in_an_outage_gets_503_and_its_retry_welcomes_once(
    bot: Bot, fake_pg: FakePostgres | None
) -> None:
    general = bot.channel("general")
    await given_a_community(bot, general)
    seen = {}
    for n, fault in enumerate(faults_of(bot.db)):
        member = bot.state.add_user(f"member{n}").id
        joined = bot.emu.join(member, general)
        assert joined is not None
        event_id = f"Ev0OUTAGE{n}"

        async with outage(bot, fake_pg, fault):
            first, took = await timed(bot.driver.event(joined, event_id=event_id, retries=False))
        retry = await bot.driver.event(joined, event_id=event_id, retry_num=1, retries=False)
        again = await bot.driver.event(joined, event_id=event_id, retry_num=2, retries=False)
        await bot.settle()

        got = [m.text for m in welcomes(bot, member)]
        seen[fault] = (first.status, took < REQUEST_BOUND, retry.status, again.status, got)

    # 503 in time, so Slack retries; the retry welcomes; the next retry changes nothing.
    welcomed = (503, True, 200, 200, [WELCOME])
    assert seen == {fault: welcomed for fault in faults_of(bot.db)}


async def test_a_command_in_an_outage_says_nothing_was_saved_in_time(
    bot: Bot, fake_pg: FakePostgres | None
) -> None:
    @bot.app.command("/save-something")
    async def save_something(ack: AsyncAck, context: AsyncBoltContext) -> None:
        await context["uow"].workspace()  # a write: the workspace row
        await ack("Saved.")

    alice, general = bot.user("alice"), bot.channel("general")
    seen = {}
    for fault in faults_of(bot.db):
        async with outage(bot, fake_pg, fault):
            failed, took = await timed(bot.driver.command(alice, general, "/save-something", ""))
        saved = await bot.driver.command(alice, general, "/save-something", "")
        told = (failed.json or {}).get("text", "")
        seen[fault] = (
            failed.status,
            (failed.json or {}).get("response_type"),
            NOTHING_SAVED in told,
            took < REQUEST_BOUND,
            saved.text,
        )

    told_in_time = (200, "ephemeral", True, True, "Saved.")
    assert seen == {fault: told_in_time for fault in faults_of(bot.db)}


async def test_readyz_says_unavailable_in_time_when_postgres_is_silent(
    bot: Bot, fake_pg: FakePostgres | None
) -> None:
    if fake_pg is None:
        pytest.skip("packet loss is a networked database's failure")
    async with aiohttp.ClientSession() as http:
        async with http.get(bot.url + "/readyz") as resp:
            assert resp.status == 200
        fake_pg.blackhole()
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with http.get(bot.url + "/readyz") as resp:
            took = loop.time() - started
            body = await resp.json()
            assert resp.status == 503
        await fake_pg.recover()
        async with http.get(bot.url + "/readyz") as resp:
            assert resp.status == 200
    assert body["database"] is False
    assert took < REQUEST_BOUND


async def test_sqlite_readers_are_free_while_a_writer_holds_the_lock(bot: Bot) -> None:
    if not bot.db.is_sqlite:
        pytest.skip("SQLite's single writer")
    async with (
        bot.db.writer(),
        aiohttp.ClientSession() as http,
        http.get(bot.url + "/readyz") as resp,
    ):
        assert resp.status == 200


# ---- the classifier, on real exception objects ------------------------------------------------


async def refusal_from(sqlstate: str, message: str) -> BaseException:
    fake = FakePostgres()
    await fake.start()
    fake.refuse(sqlstate, message)
    try:
        await asyncpg.connect(f"postgresql://u@127.0.0.1:{fake.port}/d", timeout=2)
    except Exception as error:
        return error
    finally:
        await fake.stop()
    raise AssertionError("the fake server let a connection in")


@pytest.mark.parametrize("fault", sorted(REFUSALS))
async def test_a_server_refusing_connections_is_transient(fault: str) -> None:
    error = await refusal_from(*REFUSALS[fault])
    assert isinstance(error, asyncpg.PostgresError)
    assert is_transient(error)


@pytest.mark.parametrize(
    ("sqlstate", "message"),
    [
        ("28P01", 'password authentication failed for user "u"'),
        ("3D000", 'database "d" does not exist'),
    ],
)
async def test_a_refusal_that_a_retry_cannot_fix_is_not_transient(
    sqlstate: str, message: str
) -> None:
    assert not is_transient(await refusal_from(sqlstate, message))


async def test_connection_failures_through_sqlalchemy_are_transient() -> None:
    fake = FakePostgres()
    await fake.start()
    db = Database(f"postgresql+asyncpg://u@127.0.0.1:{fake.port}/d")
    errors: list[BaseException] = []
    try:
        for fail in (
            lambda: fake.refuse("57P03", "the database system is starting up"),
            fake.blackhole,  # connect times out
        ):
            fail()
            with pytest.raises(Exception) as raised:  # noqa: PT011 - any kind, judged below
                async with db.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            errors.append(raised.value)
        await fake.close()
        with pytest.raises(OSError) as refused:
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        errors.append(refused.value)
    finally:
        await db.dispose()
        await fake.stop()
    assert [is_transient(e) for e in errors] == [True, True, True]


def test_sqlite_busy_and_unopenable_are_transient_but_a_missing_table_is_not(
    tmp_path: Path,
) -> None:
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
    holder.execute("BEGIN IMMEDIATE")
    waiter = sqlite3.connect(path, isolation_level=None, timeout=0)
    with pytest.raises(sqlite3.OperationalError) as locked:
        waiter.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError) as unopenable:
        sqlite3.connect(tmp_path / "no" / "such" / "dir.db")
    with pytest.raises(sqlite3.OperationalError) as no_table:
        waiter.execute("SELECT * FROM missing")
    holder.execute("ROLLBACK")
    holder.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError) as duplicate:
        holder.execute("INSERT INTO t VALUES (1)")
    holder.close()
    waiter.close()

    assert is_transient(locked.value)
    assert is_transient(unopenable.value)
    assert not is_transient(no_table.value)
    assert not is_transient(duplicate.value)


async def test_database_errors_by_cause(db: Database) -> None:
    """Timeouts, lock waits, deadlocks and serialisation pass; integrity and syntax do not."""
    errors: dict[str, BaseException] = {}
    async with db.transaction() as session:
        await session.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY)"))
        await session.execute(text("INSERT INTO probe VALUES (1), (2)"))

    async def capture(name: str, *statements: str) -> None:
        try:
            async with db.sessions() as session, session.begin():
                for sql in statements:
                    await session.execute(text(sql))
        except Exception as error:
            errors[name] = error

    await capture("duplicate", "INSERT INTO probe VALUES (1)")
    await capture("syntax", "SELEKT 1")
    if db.is_postgres:
        await capture("statement timeout", "SET LOCAL statement_timeout = 50", "SELECT pg_sleep(2)")
        async with db.transaction() as holder:
            await holder.execute(text("SELECT * FROM probe WHERE id = 1 FOR UPDATE"))
            await capture(
                "lock not available",
                "SET LOCAL lock_timeout = 50",
                "SELECT * FROM probe WHERE id = 1 FOR UPDATE",
            )
        dsn = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
        errors["deadlock"] = await _deadlock(dsn)
        errors["serialisation"] = await _serialisation_failure(dsn)
    async with db.transaction() as session:
        await session.execute(text("DROP TABLE probe"))

    transient = {name: is_transient(error) for name, error in errors.items()}
    expected = {"duplicate": False, "syntax": False}
    if db.is_postgres:
        expected |= {
            "statement timeout": True,
            "lock not available": True,
            "deadlock": True,
            "serialisation": True,
        }
    assert transient == expected


async def _deadlock(dsn: str) -> BaseException:
    """Two transactions lock rows 1 and 2, then each wants the other's: one is aborted."""
    a, b = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:
        for conn, row in ((a, 1), (b, 2)):
            await conn.execute("BEGIN")
            await conn.execute("SET LOCAL deadlock_timeout = 50")
            await conn.execute(f"SELECT * FROM probe WHERE id = {row} FOR UPDATE")

        async def want(conn: asyncpg.Connection, row: int) -> None:
            try:
                await conn.execute(f"SELECT * FROM probe WHERE id = {row} FOR UPDATE")
            except asyncpg.DeadlockDetectedError:
                await conn.execute("ROLLBACK")  # frees its row, so the other goes on
                raise

        outcomes = await asyncio.gather(want(a, 2), want(b, 1), return_exceptions=True)
        [error] = [o for o in outcomes if isinstance(o, BaseException)]
        return error
    finally:
        a.terminate()
        b.terminate()


async def _serialisation_failure(dsn: str) -> BaseException:
    """Write skew between two serialisable transactions: the second to commit fails."""
    a, b = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:
        for conn, row in ((a, 10), (b, 11)):
            await conn.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
            await conn.fetchval("SELECT count(*) FROM probe")
            await conn.execute(f"INSERT INTO probe VALUES ({row})")
        await a.execute("COMMIT")
        with pytest.raises(asyncpg.SerializationError) as raised:
            await b.execute("COMMIT")
        return raised.value
    finally:
        a.terminate()
        b.terminate()


def test_a_busy_writer_and_plain_bugs() -> None:
    assert is_transient(WriterBusy("the database writer stayed busy for 1.0s"))
    assert not is_transient(ValueError("a bug"))
    assert not is_transient(KeyError("another"))
