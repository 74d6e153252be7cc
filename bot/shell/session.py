"""`doughnut shell`: the real bot against the local Slack, driven from a terminal or a script.

Nothing here is special-cased in the bot: every input becomes a signed HTTP request shaped as
Slack sends it (`SlackDriver`), into the bot's own `/slack/events` on loopback; the bot answers
through the local Slack's Web API and its outbox, which the shell drains after each input.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from bot.app import DoughnutApp
from bot.emulator import Channel, SlackDriver, SlackEmulator
from bot.outbox import OutboxSender
from bot.shell import forms
from bot.shell.clock import MovableClock, ShellClock
from bot.shell.commands import HELP, QUIT, Commands
from bot.shell.forms import Cancelled
from bot.shell.io import (
    WIDTH,
    LineReader,
    ScriptReader,
    ShellLogging,
    TerminalReader,
    describe_error,
    make_console,
)
from bot.shell.modals import ModalFilling
from bot.shell.screen import ClickTarget, Screen, Seen
from bot.shell.seed import GENERAL, MEMBERS
from bot.shell.stack import DEFAULT_DB_URL, LocalStack, ShellStartupError
from scheduler import Scheduler
from storage.db import Database

log = logging.getLogger("doughnut.shell")

__all__ = ["Shell", "ShellStartupError", "run_script", "run_shell"]


class Shell(LocalStack, Screen, ModalFilling, Commands):
    """One session: the local Slack, the bot on loopback, its outbox and scheduler."""

    def __init__(
        self,
        console: Console,
        reader: LineReader,
        *,
        db_url: str = DEFAULT_DB_URL,
        fresh: bool = False,
        clock: MovableClock | None = None,
        verbose: bool = False,
        log_path: Path | None = None,
    ) -> None:
        self.console = console
        self.reader = reader
        self.db_url = db_url
        self.fresh = fresh
        self.clock: MovableClock = clock or ShellClock()
        self.verbose = verbose
        self.log_path = log_path
        self.scheduler: Scheduler | None = None  # built with the database, at start
        self.user_id = MEMBERS[0].user_id
        self.channel_id = GENERAL.channel_id
        self.buttons: list[ClickTarget] = []
        self._fresh_buttons = True
        self.shown = 0  # how many things were put on screen (to notice a silent bot)
        self._seen = Seen()
        self._stop = asyncio.Event()
        self._quitting = False
        self._tasks: list[asyncio.Task[None]] = []
        self._cleanups: list[Callable[[], Awaitable[None]]] = []
        self._logging: ShellLogging | None = None
        self.db: Database | None = None
        self.emu: SlackEmulator
        self.driver: SlackDriver
        self.app: DoughnutApp
        self.sender: OutboxSender
        self._commands = self._command_table()

    @property
    def prompt(self) -> str:
        return f"{self.user_name(self.user_id)}@{self.where(self.channel_id)}> "

    async def run(self) -> None:
        """Read and handle inputs until :quit or the end of input."""
        while True:
            line = await self.reader.read(self.prompt)
            if line is None:
                break
            if not await self.handle(line):
                break

    async def handle(self, line: str) -> bool:
        """Handle one input line; False when the session should end."""
        line = line.strip()
        if not line:
            await self.settle()  # Enter alone shows what the bot did meanwhile (retries)
            return True
        if line.startswith("# ") or line == "#":
            return True  # a comment in a script
        self._fresh_buttons = True
        try:
            if line.startswith(":"):
                name, _, arg = line[1:].partition(" ")
                if f":{name.lower()}" in QUIT:
                    return False
                command = self._commands.get(name.lower())
                if command is None:
                    self.note(f"Unknown command :{name}. The shell's commands:", style="yellow")
                    self.console.print(Text(HELP))
                    return True
                await command(arg.strip())
            elif line.startswith("/"):
                await self.slash_command(line)
            else:
                await self.say(line)
        except Cancelled:
            return not self._quitting
        except Exception as error:  # a bug in the shell itself: say so, keep going
            log.exception("the shell failed on %r", line)
            self.note(f"shell error: {describe_error(error)} (see the log)", style="bold red")
            self._mark_seen()
        return True

    # -- names

    def user_name(self, user_id: str) -> str | None:
        user = self.emu.state.users.get(user_id)
        return user.name if user else None

    def channel_name(self, channel_id: str) -> str | None:
        channel = self.emu.state.channels.get(channel_id)
        if channel is None:
            return None
        return self.where(channel_id).lstrip("#")

    def where(self, channel_id: str) -> str:
        """How the prompt names a conversation: #channel, dm:doughnut or dm:ben."""
        channel = self.emu.state.channels[channel_id]
        if channel.is_im:
            others = [u for u in channel.members if u != self.user_id] or [self.user_id]
            return f"dm:{self.user_name(others[0])}"
        return f"#{channel.name}"

    def _user_ids(self) -> dict[str, str]:
        return {u.name.lower(): u.id for u in self.emu.state.users.values() if not u.deleted}

    def _channel_ids(self) -> dict[str, str]:
        return {
            c.name.lower(): c.id
            for c in self.emu.state.channels.values()
            if not c.is_im and not c.is_mpim
        }

    def _find_user(self, arg: str) -> str | None:
        return self._user_ids().get(arg.strip().lstrip("@").lower())

    def _member_list(self) -> str:
        return " ".join(
            f"@{u.name}" for u in self.emu.state.users.values() if not u.deleted and not u.is_bot
        )

    def _visible_channels(self, user_id: str) -> list[Channel]:
        return [
            c
            for c in self.emu.state.channels.values()
            if not c.is_im and not c.is_mpim and (not c.is_private or user_id in c.members)
        ]

    def _directory(self) -> forms.Directory:
        return forms.Directory(
            users=self._user_ids(),
            channels=self._channel_ids(),
            member_list=self._member_list(),
            channel_list=" ".join(f"#{c.name}" for c in self._visible_channels(self.user_id)),
        )


# ---- entry points ----------------------------------------------------------------------------


async def run_session(shell: Shell) -> int:
    """Start, run until the end of input, stop; 0, or 1 when it could not start."""
    try:
        await shell.start()
    except ShellStartupError as error:
        shell.console.print(Text(f"Could not start the shell: {error}", style="bold red"))
        await shell.stop()
        return 1
    try:
        await shell.run()
    finally:
        await shell.stop()
    return 0


async def run_script(
    lines: Iterable[str],
    *,
    db_url: str,
    fresh: bool = False,
    clock: MovableClock | None = None,
    verbose: bool = False,
    color: bool = False,
    width: int = WIDTH,
    before: Callable[[Shell], None] | None = None,
) -> str:
    """Run script lines in-process and return the transcript (plain text unless `color`)."""
    buffer = io.StringIO()
    if color:
        console = Console(
            file=buffer, force_terminal=True, color_system="standard", width=width, emoji=False
        )
    else:
        console = make_console(plain=True, file=buffer, width=width)
    shell = Shell(console, ScriptReader(lines, console), db_url=db_url, fresh=fresh, clock=clock)
    shell.verbose = verbose
    if before is not None:
        before(shell)
    await run_session(shell)
    return buffer.getvalue()


def run_shell(
    *, db_url: str, fresh: bool, script: Path | None, verbose: bool, interactive: bool
) -> int:
    """The `doughnut shell` command: a terminal session, or a script (file or piped stdin)."""
    if script is not None:
        try:
            lines: Iterable[str] = script.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            print(f"Could not read the script: {error}", file=sys.stderr)
            return 2
    else:
        lines = sys.stdin
    if interactive and script is None:
        console = make_console(plain=False)
        reader: Any = TerminalReader(console)
    else:
        console = make_console(plain=True)
        reader = ScriptReader(lines, console)
    shell = Shell(console, reader, db_url=db_url, fresh=fresh, verbose=verbose)
    try:
        return asyncio.run(run_session(shell))
    finally:
        if isinstance(reader, TerminalReader):
            reader.close()
