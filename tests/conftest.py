"""Shared fixtures and helpers: a migrated database per backend, the local Slack, the bot.

The suite runs in parallel (`pytest -n auto`, pytest-xdist): each worker is its own process and
runs the session fixtures itself, so each worker migrates its own SQLite template (under its own
temporary directory) and creates, then drops, its own PostgreSQL database (named after the worker
and its pid). Tests in one worker run one at a time; no two workers share a database.
Test modules import shared helpers from here, never from one another.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from typer.testing import CliRunner

import bot.outbox as bot_outbox
from bot.app import DoughnutApp
from bot.cli import cli
from bot.clock import ManualClock
from bot.core import lessons
from bot.core.communities import SetupForm, save_setup
from bot.core.lessons import LessonForm, LessonSource, LessonView
from bot.deps import Deps
from bot.emulator import Message, SlackDriver, SlackEmulator, Workspace
from bot.local_stack import local_stack
from bot.metrics import Metrics
from bot.outbox import OutboxSender
from bot.settings import Settings, load_settings
from bot.tenancy import Installation
from bot.unit_of_work import UnitOfWork
from handlers.communities import ids
from storage import workspaces
from storage.db import Database
from storage.migrate import target_metadata, upgrade
from storage.models import Delivery, Visibility

SIGNING_SECRET = "local-test-signing-secret"
POSTGRES_ADMIN_URL = os.environ.get(
    "DOUGHNUT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _postgres_reachable() -> str | None:
    """None when PostgreSQL answers, else why not."""

    async def probe() -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as error:  # any failure means: no PostgreSQL here
        return f"{type(error).__name__}: {error}"
    return None


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        why = _postgres_reachable()
        if why is not None:
            message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({why})"
            if os.environ.get("DOUGHNUT_REQUIRE_POSTGRES") == "1":
                pytest.fail(message + " and DOUGHNUT_REQUIRE_POSTGRES=1")
            pytest.skip(message + "; the PostgreSQL runs are skipped")
    return request.param


@pytest.fixture(scope="session")
def migrated_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for the session: a SQLite template file, or a fresh PG database."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        url = f"sqlite+aiosqlite:///{path}"
        asyncio.run(_migrate(url))
        yield url
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")  # gw0, gw1... under xdist
    name = f"doughnut_test_{worker}_{os.getpid()}_{secrets.token_hex(3)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        asyncio.run(_migrate(url))
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _migrate(url: str) -> None:
    db = Database(load_settings(database_url=url).database_url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


@pytest.fixture
async def db(migrated_url: str, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty, migrated database for one test."""
    if migrated_url.startswith("sqlite"):
        template = Path(migrated_url.split("///", 1)[1])
        path = tmp_path / "doughnut.db"
        shutil.copyfile(template, path)
        database = Database(f"sqlite+aiosqlite:///{path}")
    else:
        every = [t for metadata in target_metadata() for t in metadata.sorted_tables]
        tables = ", ".join(f'"{t.name}"' for t in every)
        # Emptying every table is test set-up, not a request: on its own connection, without
        # the app's 1.2 s statement bound (a loaded machine can take longer).
        conn = await asyncpg.connect(migrated_url)
        try:
            # A connection an earlier test left open (this worker's own database) may still
            # hold locks the TRUNCATE would wait on forever: end it first.
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE", timeout=60)
        finally:
            await conn.close()
        database = Database(load_settings(database_url=migrated_url).database_url)
    try:
        yield database
    finally:
        await database.dispose()


@dataclass
class Bot:
    """The bot serving HTTP on loopback, its Web API client pointed at the local Slack."""

    emu: SlackEmulator
    driver: SlackDriver
    app: DoughnutApp
    db: Database
    clock: ManualClock
    settings: Settings
    url: str
    outbox: OutboxSender

    async def settle(self) -> None:
        """Finish the work after the acks, send everything the bot queued (the leader's outbox
        sender, run to empty), and deliver the events its own posts raise; a bot that answers
        itself never settles."""
        for _ in range(50):
            await self.app.deps.after_ack.idle()  # work handed off after an ack queues more
            sent = await self.outbox.drain_once()
            heard = await self.driver.deliver_raised()
            if sent == 0 and not heard:
                return
        raise AssertionError("the outbox did not settle (does the bot answer its own posts?)")

    @property
    def state(self) -> Workspace:
        return self.emu.state

    def shown_button(self, action_id: str, channel: str = "general", value: str = "x") -> Message:
        """A message of the bot's showing one button (as if the bot had posted it)."""
        button = {"type": "button", "action_id": action_id, "value": value,
                  "text": {"type": "plain_text", "text": "Press"}}  # fmt: skip
        return self.state.add_message(
            Message(
                self.channel(channel),
                self.state.new_ts(),
                "A button",
                user=self.state.bot_user_id,
                bot_id=self.state.bot_id,
                blocks=[{"type": "actions", "block_id": "b", "elements": [button]}],
            )
        )

    def user(self, name: str) -> str:
        return self.state.user_by_name(name).id

    def channel(self, name: str) -> str:
        return self.state.channel_by_name(name).id

    def signed_headers(self, body: bytes, content_type: str) -> dict[str, str]:
        """Valid signature headers for a hand-made body."""
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(SIGNING_SECRET).generate_signature(
            timestamp=timestamp, body=body
        )
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
        }


@pytest.fixture
async def start_bot(db: Database) -> AsyncIterator[Callable[..., Awaitable[Bot]]]:
    """Starts the bot with options of `local_stack` (shorter timeouts, say); stopped at the end."""
    async with AsyncExitStack() as stack:

        async def start(**options: Any) -> Bot:
            clock = ManualClock(START)
            options = {"doughnut_timezone": "Europe/Paris", **options}
            # No pacing between posts here (the outbox tests measure pacing on their own), and
            # work after the ack left running when the test ends (on a hung Slack) is stopped.
            local = await stack.enter_async_context(
                local_stack(db=db, clock=clock, signing_secret=SIGNING_SECRET,
                            channel_spacing=0, after_ack_grace=0.01, **options)
            )  # fmt: skip
            return Bot(local.emu, local.driver, local.app, db, clock, local.settings, local.url,
                       local.outbox)  # fmt: skip

        yield start


@pytest.fixture
async def bot(start_bot: Callable[..., Awaitable[Bot]]) -> Bot:
    return await start_bot()


# Shared helpers: test modules import them from here, never from each other.


def setup_values(
    name: str = "Site Reliability",
    description: str = "Running production well",
    timezone: str = "Europe/Paris",
    coordinators: list[str] | None = None,
    reviewers: list[str] | None = None,
    sponsors: list[str] | None = None,
) -> dict[str, Any]:
    def users(selected: list[str] | None) -> dict[str, Any]:
        return {"type": "multi_users_select", "selected_users": selected or []}

    return {
        ids.SETUP_NAME_BLOCK: {ids.SETUP_NAME_ACTION: name},
        ids.SETUP_DESCRIPTION_BLOCK: {ids.SETUP_DESCRIPTION_ACTION: description},
        ids.SETUP_TIMEZONE_BLOCK: {ids.SETUP_TIMEZONE_ACTION: timezone},
        ids.SETUP_COORDINATORS_BLOCK: {ids.SETUP_COORDINATORS_ACTION: users(coordinators)},
        ids.SETUP_REVIEWERS_BLOCK: {ids.SETUP_REVIEWERS_ACTION: users(reviewers)},
        ids.SETUP_SPONSORS_BLOCK: {ids.SETUP_SPONSORS_ACTION: users(sponsors)},
    }


async def open_setup(bot: Bot, user: str, channel: str) -> dict[str, Any]:
    reply = await bot.driver.command(user, channel, "/doughnut", "setup")
    assert reply.status == 200 and not reply.text  # an empty ack: the modal is the answer
    await bot.app.deps.after_ack.idle()  # the form is filled in after the ack
    return bot.state.modal_stack(user)[-1]


async def open_from_home(bot: Bot, user: str) -> dict[str, Any]:
    await bot.driver.open_home(user)
    await bot.settle()
    await bot.driver.click(user, bot.state.home_views[user], ids.HOME_SETUP_ACTION)
    return bot.state.modal_stack(user)[-1]


async def pick(bot: Bot, user: str, view: dict[str, Any], channel_id: str) -> dict[str, Any]:
    await bot.driver.click(user, view, ids.SETUP_CHANNEL_ACTION, choose=channel_id)
    await bot.app.deps.after_ack.idle()
    return bot.state.modal_stack(user)[-1]


# Outbox helpers


def slack_client(emu: SlackEmulator) -> AsyncWebClient:
    """A Web API client on the emulator, with no retry handler: the outbox owns retries."""
    client = AsyncWebClient(token=emu.state.bot_token, base_url=emu.api_url)
    client.retry_handlers.clear()
    return client


async def workspace_id(db: Database, clock: ManualClock, team_id: str) -> int:
    async with db.transaction() as session:
        workspace = await workspaces.get_or_create_workspace(
            session,
            key=workspaces.install_key(team_id, None, False),
            team_id=team_id,
            enterprise_id=None,
            is_enterprise_install=False,
            now=clock.now(),
        )
        return workspace.id


async def fetch(db: Database, delivery_id: int) -> Delivery:
    async with db.reading() as session:
        delivery = await session.get(Delivery, delivery_id)
        assert delivery is not None
        session.expunge(delivery)  # keep its loaded values past the read's rollback
        return delivery


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 15.0) -> None:
    """Poll `check` until true; generous, so a slow CI machine does not flake."""
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {seconds}s")
        await asyncio.sleep(0.05)


def when_parked(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Set once a running outbox sender has finished a pass and waits for a wake-up (or its
    poll): a wake-up after it can only be seen if the wake works, not by the first pass."""
    parked = asyncio.Event()
    first_set = bot_outbox._first_set

    async def parking(*events: asyncio.Event, seconds: float) -> None:
        parked.set()
        await first_set(*events, seconds=seconds)

    monkeypatch.setattr(bot_outbox, "_first_set", parking)
    return parked


# A workspace for tests of the services alone (no Slack: the services don't call it).
TEAM = Installation(team_id="T0TEAM", enterprise_id=None, bot_user_id="U0BOT", bot_id="B0BOT")


@pytest.fixture
def open_uow(db: Database) -> Callable[..., UnitOfWork]:
    """Opens a unit of work of a workspace, as a request has, for testing a service directly."""
    client = AsyncWebClient(token="xoxb-unused")
    deps = Deps(
        settings=load_settings(),
        db=db,
        clock=ManualClock(START),
        client=client,
        metrics=Metrics(),
        outbox_client=client,
    )

    def open_(installation: Installation = TEAM) -> UnitOfWork:
        return UnitOfWork(deps, installation)

    return open_


# ---- lessons, made through the services (tests of the Slack surfaces start from them) ----


def unit_of_work(bot: Bot) -> UnitOfWork:
    return UnitOfWork(bot.app.deps, bot.app.deps.installation)


async def capture(
    bot: Bot,
    author: str,
    channel: str,
    title: str = "Confirm the rollback plan before a Friday deploy",
    *,
    next_time: str = "Rehearse the rollback steps before every deploy.",
    why: str = "",
    tags: tuple[str, ...] = ("deploys",),
    community_id: int | None = None,
    visibility: Visibility = Visibility.PUBLIC,
) -> LessonView:
    uow = unit_of_work(bot)
    form = LessonForm(title=title, next_time=next_time, why=why, tags=tags,
                      community_id=community_id)  # fmt: skip
    captured = await lessons.capture_lesson(uow, form, LessonSource(author, channel, visibility))
    await uow.finish(ok=True)
    assert captured.lesson is not None
    return captured.lesson


async def lesson_community(bot: Bot, channel: str, coordinator: str, reviewer: str) -> int:
    uow = unit_of_work(bot)
    form = SetupForm(name="SRE", description="", timezone="UTC", coordinators=[coordinator],
                     reviewers=[reviewer])  # fmt: skip
    saved = await save_setup(uow, coordinator, channel, form, editing=False, is_private=False)
    await uow.finish(ok=True)
    return saved.community.id


# ---- the `doughnut` command line ----


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DOUGHNUT_", "LOG_")) and k != "DATABASE_URL"
    }
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    env["DOUGHNUT_METRICS_PORT"] = "0"  # several runs at once must not race for port 9090
    env.update(extra)
    return env


async def doughnut(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


async def run_cli(*args: str) -> tuple[int, str, str]:
    """The `doughnut` command in this process (Typer's runner), off the event loop: faster than
    a subprocess where the entry point itself is not what is tested."""
    result = await asyncio.to_thread(CliRunner().invoke, cli, list(args))
    return result.exit_code, result.stdout, result.stderr


# ---- kudos and the member cache ----


async def fill_member_cache(bot: Bot) -> None:
    """Run the member cache's job as the leader's scheduler would, and its users.list read."""
    from scheduler import Scheduler

    await workspace_id(bot.db, bot.clock, bot.state.team_id)
    await Scheduler(bot.db, bot.app.registry.jobs).tick(bot.clock.now())
    await bot.app.deps.after_ack.idle()


# ---- After Action Reviews and paused communities ----


def slack_escaped(text: str) -> str:
    """Text as Slack sends what a person typed (`&`, `<`, `>` escaped)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---- knowledge gaps and proposals (tests/test_gaps.py, tests/test_proposals.py) ----

OTHER_TEAM = Installation(
    team_id="T0OTHER", enterprise_id=None, bot_user_id="U0BOT", bot_id="B0BOT"
)


# ---- health and roles: other capabilities' rows, seeded straight through SQLAlchemy ----


async def seed_rows(db: Database, *rows: Any) -> list[Any]:
    """Add rows as they are (kudos, lessons, assists, gaps, members...), in order, in one
    transaction (a flush each: without relationships, SQLAlchemy would not order them by
    foreign key); returns them, detached."""
    async with db.transaction() as session:
        for row in rows:
            session.add(row)
            await session.flush()
        for row in rows:
            session.expunge(row)
    return list(rows)


async def bot_workspace(bot: Bot) -> int:
    """The id of the workspace the bot serves (created if no request made it yet)."""
    return await workspace_id(bot.db, bot.clock, bot.state.team_id)


async def seed_member(
    bot: Bot,
    user_id: str,
    *,
    is_admin: bool = False,
    is_owner: bool = False,
    name: str = "",
    workspace: int | None = None,
) -> None:
    """A row of the member cache (another capability fills it from users.list)."""
    from storage.models import Member

    await seed_rows(
        bot.db,
        Member(workspace_id=workspace or await bot_workspace(bot), user_id=user_id, name=name,
               is_admin=is_admin, is_owner=is_owner, updated_at=bot.clock.now()),
    )  # fmt: skip


async def community_with(
    bot: Bot,
    channel: str,
    name: str = "SRE",
    *,
    coordinators: Sequence[str],
    reviewers: Sequence[str] = (),
    sponsors: Sequence[str] = (),
    timezone: str = "UTC",
    is_private: bool = False,
    installation: Installation | None = None,
) -> int:
    """A community set up through the service (as `/doughnut setup` does), optionally in
    another workspace; its id."""
    uow = UnitOfWork(bot.app.deps, installation or bot.app.deps.installation)
    form = SetupForm(name=name, description="", timezone=timezone, coordinators=list(coordinators),
                     reviewers=list(reviewers), sponsors=list(sponsors))  # fmt: skip
    saved = await save_setup(
        uow, coordinators[0], channel, form, editing=False, is_private=is_private
    )
    await uow.finish(ok=True)
    assert saved.community is not None
    return saved.community.id


def dm_texts(bot: Bot, user: str) -> list[str]:
    """What the bot said in a person's DM, oldest first."""
    return [m.text for m in bot.state.history(bot.state.dm_channel(user).id) if m.bot_id]


def dm_messages(bot: Bot, user: str) -> list[Message]:
    return [m for m in bot.state.history(bot.state.dm_channel(user).id) if m.bot_id]


# ---- the contribution ledger: kudos, members and peer assists written straight to the tables
# (the kudos and peer-assist capabilities are built elsewhere; the ledger only reads them) ----


async def seed_kudos(
    db: Database,
    workspace: int,
    giver: str,
    receiver: str,
    at: datetime,
    *,
    channel: str | None = None,
    community_id: int | None = None,
    status: str = "given",
    reason: str = "for the failover walkthrough",
    tags: tuple[str, ...] = (),
) -> int:
    """A kudos row and its tags, as the kudos capability stores them."""
    from storage.models import Kudos, KudosSource, KudosStatus, KudosTag

    async with db.transaction() as session:
        kudos = Kudos(workspace_id=workspace, community_id=community_id, giver_id=giver,
                      receiver_id=receiver, reason=reason, tags=" ".join(tags),
                      source=KudosSource.COMMAND,
                      status=KudosStatus(status), channel_id=channel, message_ts=None,
                      visibility=Visibility.PUBLIC, given_at=at,
                      local_day=at.date().isoformat())  # fmt: skip
        session.add(kudos)
        await session.flush()
        session.add_all(KudosTag(kudos_id=kudos.id, tag=t, workspace_id=workspace) for t in tags)
        return kudos.id


async def seed_assist(
    db: Database,
    workspace: int,
    requester: str,
    helpers: dict[str, str],
    *,
    status: str = "done",
    closed_at: datetime | None = None,
    community_id: int | None = None,
    created_at: datetime = START,
) -> int:
    """A peer assist and its helpers ({user id: helper state})."""
    from storage.models import AssistFormat, AssistHelper, AssistStatus, HelperState, PeerAssist

    async with db.transaction() as session:
        assist = PeerAssist(workspace_id=workspace, community_id=community_id,
                            title="Kafka upgrade", format=AssistFormat.CALL,
                            requester_id=requester, visibility=Visibility.PUBLIC,
                            status=AssistStatus(status), status_by=requester,
                            status_at=closed_at or created_at, created_at=created_at,
                            closed_at=closed_at)  # fmt: skip
        session.add(assist)
        await session.flush()
        for user_id, state in helpers.items():
            session.add(AssistHelper(workspace_id=workspace, assist_id=assist.id,
                                     user_id=user_id, state=HelperState(state),
                                     created_at=created_at, updated_at=created_at))  # fmt: skip
        return assist.id


# ---- digests: the loop's rows seeded straight through SQLAlchemy, and the scheduler's runs ----


def kudos_row(
    workspace_id: int, community_id: int | None, giver: str, receiver: str, reason: str,
    given_at: datetime, *, channel: str = "C0PUBLIC", visibility: Visibility = Visibility.PUBLIC,
    status: str = "given",
) -> Any:  # fmt: skip
    from storage.models import Kudos, KudosSource, KudosStatus

    return Kudos(
        workspace_id=workspace_id, community_id=community_id, giver_id=giver, receiver_id=receiver,
        reason=reason, tags="", source=KudosSource.COMMAND, status=KudosStatus(status),
        channel_id=channel, message_ts=None, visibility=visibility, given_at=given_at,
        local_day=given_at.date().isoformat(),
    )  # fmt: skip


def lesson_row(
    workspace_id: int, community_id: int | None, title: str, author: str, created_at: datetime,
    *, status: str = "captured", visibility: Visibility = Visibility.PUBLIC,
    reviewed_at: datetime | None = None, channel: str = "C0PUBLIC",
) -> Any:  # fmt: skip
    from storage.models import Lesson, LessonStatus

    return Lesson(
        workspace_id=workspace_id, community_id=community_id, title=title, next_time="Do it.",
        author_id=author, source_channel_id=channel, visibility=visibility,
        status=LessonStatus(status), reviewed_at=reviewed_at, created_at=created_at,
        updated_at=created_at,
    )  # fmt: skip


async def digest_runs(db: Database, job: str) -> list[tuple[str, str, datetime]]:
    """The claimed runs of one job: (period, subject, ran_at), in order."""
    from sqlalchemy import select

    from storage.models import ScheduledRun

    async with db.reading() as session:
        rows = await session.execute(
            select(ScheduledRun.period, ScheduledRun.subject, ScheduledRun.ran_at)
            .where(ScheduledRun.job == job)
            .order_by(ScheduledRun.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]
