"""The local stack a shell session runs: the local Slack, the bot on loopback, its outbox
and scheduler, on a migrated, seeded database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from rich.console import Console
from rich.text import Text
from sqlalchemy.engine import make_url

from bot.app import DoughnutApp
from bot.emulator import SlackDriver, SlackEmulator
from bot.local_stack import local_stack
from bot.outbox import OutboxSender
from bot.settings import SettingsError, load_settings
from bot.shell.clock import MovableClock
from bot.shell.io import (
    LineReader,
    ShellLogging,
)
from bot.shell.seed import COMMUNITIES, MEMBERS, demo_workspace, seed_database
from scheduler import Scheduler, build_scheduler
from storage.db import Database, DatabaseInUse, FileClaim, claim_sqlite_file
from storage.migrate import upgrade

log = logging.getLogger("doughnut.shell")

DEFAULT_DB_URL = "sqlite+aiosqlite:///doughnut-shell.db"

DEFAULT_LOG = "doughnut-shell.log"

SCHEDULER_PERIOD_SECONDS = 30.0

# The local Slack does not rate-limit; a short pacing keeps the shell snappy.
SHELL_CHANNEL_SPACING = 0.05


class ShellStartupError(Exception):
    """The shell could not start; the message says why in one line."""


def _delete_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


class LocalStack:
    """Starts and stops what a session talks to (the `Shell` mixes it in)."""

    reader: LineReader
    db_url: str
    fresh: bool
    log_path: Path | None
    scheduler: Scheduler | None
    app: DoughnutApp
    sender: OutboxSender
    _stop: asyncio.Event
    _tasks: list[asyncio.Task[None]]
    _cleanups: list[Callable[[], Awaitable[None]]]
    _logging: ShellLogging | None
    _file_claim: FileClaim | None = None
    console: Console
    clock: MovableClock
    db: Database | None
    emu: SlackEmulator
    driver: SlackDriver
    user_id: str
    channel_id: str

    async def start(self) -> None:
        """Migrate and seed the database, start the local Slack, the bot, outbox and scheduler."""
        try:
            db_url = load_settings(database_url=self.db_url).database_url
        except SettingsError as error:
            raise ShellStartupError(str(error)) from None
        url = make_url(db_url)
        sqlite_file = url.get_backend_name() == "sqlite" and url.database not in (
            None,
            "",
            ":memory:",
        )
        try:
            self._file_claim = claim_sqlite_file(db_url)  # before --fresh deletes anything
        except DatabaseInUse as error:
            raise ShellStartupError(str(error)) from None
        if self.fresh:
            if not sqlite_file:
                raise ShellStartupError(
                    "--fresh only deletes SQLite files; empty that database yourself"
                )
            _delete_sqlite(Path(str(url.database)))
        log_path = self.log_path or (
            Path(str(url.database)).with_suffix(".log") if sqlite_file else Path(DEFAULT_LOG)
        )
        self._logging = ShellLogging(log_path)
        self._logging.install()

        self.db = Database(db_url)
        try:
            await upgrade(self.db)
            created = await seed_database(self.db, self.clock.now())
        except Exception as error:
            raise ShellStartupError(
                f"the database at {self.db!r} is not usable: {error}"
            ) from error

        running = contextlib.AsyncExitStack()
        self._cleanups.append(running.aclose)
        stack = await running.enter_async_context(
            local_stack(
                db=self.db,
                clock=self.clock,
                workspace=demo_workspace(self.clock.now()),
                channel_spacing=SHELL_CHANNEL_SPACING,
                log_level="WARNING",
            )
        )
        self.emu, self.app, self.driver = stack.emu, stack.app, stack.driver
        self.sender = stack.outbox
        self.scheduler = build_scheduler(self.db, self.app.registry.jobs)
        bot_url = stack.events_url
        self.app.deps.outbox_wakers.append(self.sender.wake)
        self._tasks.append(asyncio.create_task(self.sender.run(self._stop), name="outbox"))
        self._tasks.append(asyncio.create_task(self._scheduler_loop(), name="scheduler"))
        self._mark_seen()
        self._banner(bot_url, created)

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=10)
        for cleanup in reversed(self._cleanups):
            with contextlib.suppress(Exception):
                await cleanup()
        if self.db is not None:
            await self.db.dispose()
        if self._file_claim is not None:
            self._file_claim.release()
        if self._logging is not None:
            self._logging.uninstall()

    async def _scheduler_loop(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), SCHEDULER_PERIOD_SECONDS)
            if not self._stop.is_set():
                try:
                    assert self.scheduler is not None
                    await self.scheduler.tick(self.clock.now())
                except Exception:
                    log.exception("the scheduler's tick failed")

    def _banner(self, bot_url: str, created: list[str]) -> None:
        assert self.db is not None and self._logging is not None
        db = self.db.url.render_as_string(hide_password=True)
        self.console.print(Text("Doughnut shell: the real bot, talking to a local Slack.", "bold"))
        self.console.print(
            Text(
                f"  local Slack {self.emu.api_url} · bot {bot_url}\n"
                f"  database {db} · log {self._logging.path}",
                style="dim",
            )
        )
        if created:
            where = ", ".join(
                f"{c.form.name} (#{self.emu.state.channels[c.channel_id].name})"
                for c in COMMUNITIES
                if c.form.name in created
            )
            self.console.print(f"Seeded the demo workspace: {where}.")
        members = " ".join(f"@{m.name}" for m in MEMBERS)
        self.console.print(f"Members: {members}. Type :help for commands, :quit to leave.")
