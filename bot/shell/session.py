"""`doughnut shell`: the real bot against the local Slack, driven from a terminal or a script.

Nothing here is special-cased in the bot: every input becomes a signed HTTP request shaped as
Slack sends it (`SlackDriver`), into the bot's own `/slack/events` on loopback; the bot answers
through the local Slack's Web API and its outbox, which the shell drains after each input.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import secrets
import sys
import traceback
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from rich.console import Console
from rich.padding import Padding
from rich.text import Text
from sqlalchemy.engine import make_url

from bot.app import DoughnutApp, create_app, make_client, open_connection_pool
from bot.emulator import BOT_TOKEN, Channel, Message, SlackDriver, SlackEmulator
from bot.emulator.driver import Reply
from bot.outbox import OutboxSender
from bot.server import EVENTS_PATH, build_web_app
from bot.settings import SettingsError, load_settings
from bot.shell import forms, render
from bot.shell.clock import MovableClock, ShellClock, parse_time
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
from bot.shell.render import Button, Rendered
from bot.shell.seed import COMMUNITIES, GENERAL, MEMBERS, demo_workspace, seed_database
from bot.shell.wire_text import slack_text
from bot.tenancy import identify
from scheduler import Scheduler, build_scheduler
from storage.db import Database, DatabaseInUse, FileClaim, claim_sqlite_file
from storage.migrate import upgrade

log = logging.getLogger("doughnut.shell")

DEFAULT_DB_URL = "sqlite+aiosqlite:///doughnut-shell.db"
DEFAULT_LOG = "doughnut-shell.log"
SCHEDULER_PERIOD_SECONDS = 30.0
# The local Slack does not rate-limit; a short pacing keeps the shell snappy.
SHELL_CHANNEL_SPACING = 0.05
MAX_DRAIN_PASSES = 20

HELP = """\
Type a message to post it in the current channel (`@doughnut …` asks the bot a question),
or a slash command such as `/doughnut help`. `@name` and `#channel` become real mentions.

  :as @name              act as another member            :members / :channels  who and where
  :in #channel           go to a channel                  :join                 join it
  :dm @name              your DM with someone (:dm @doughnut: the app's Messages tab)
  :history               this channel's messages, numbered
  :dms                   your direct messages
  :react N :emoji:       react to message N of :history (:unreact N :emoji: takes it back)
  :home                  open Doughnut's Home tab
  :click N               press button N of what was shown last
  :close                 close the open modal
  :time                  show the clock; :time +2d, :time +3h, :time 2026-12-04 15:00 (UTC)
                         move it, then run the scheduled jobs that are due
  :fail METHOD [error]   make the local Slack refuse the bot's next METHOD call
  :help, :quit (or Ctrl-D)

In a modal, answer each field in turn (an empty line keeps the default) or type :cancel.
The database keeps what the bot stored between runs; the local Slack (messages, Home tabs,
modals) starts fresh every time."""


class ShellStartupError(Exception):
    """The shell could not start; the message says why in one line."""


@dataclass(frozen=True)
class ClickTarget:
    """A rendered button and where it lives (a view, or a message in a channel)."""

    button: Button
    view_id: str | None = None
    channel_id: str | None = None
    message_ts: str | None = None
    ephemeral: Message | None = None


@dataclass
class _Seen:
    messages: dict[tuple[str, str], str | None] = field(default_factory=dict)
    ephemerals: int = 0
    calls: int = 0
    acks: int = 0
    errors: int = 0
    homes: dict[str, str] = field(default_factory=dict)
    modal: tuple[str, str] | None = None


class Shell:
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
        self._seen = _Seen()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._cleanups: list[Callable[[], Awaitable[None]]] = []
        self._logging: ShellLogging | None = None
        self.db: Database | None = None
        self._file_claim: FileClaim | None = None
        self.emu: SlackEmulator
        self.driver: SlackDriver
        self.app: DoughnutApp
        self.sender: OutboxSender
        self._commands = self._command_table()

    # -- lifecycle

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
        self.scheduler = build_scheduler(self.db)
        try:
            await upgrade(self.db)
            created = await seed_database(self.db, self.clock.now())
        except Exception as error:
            raise ShellStartupError(
                f"the database at {self.db!r} is not usable: {error}"
            ) from error

        self.emu = SlackEmulator(demo_workspace(self.clock.now()))
        await self.emu.start()
        self._cleanups.append(self.emu.stop)
        signing_secret = secrets.token_hex(16)
        settings = load_settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=signing_secret,
            slack_api_url=self.emu.api_url,
            database_url=db_url,
            log_level="WARNING",
        )
        client = make_client(settings)
        self._cleanups.append(await open_connection_pool(client))
        installation = await identify(client)
        self.app = create_app(
            settings, client=client, installation=installation, db=self.db, clock=self.clock
        )
        runner = web.AppRunner(build_web_app(self.app), access_log=None)
        await runner.setup()
        self._cleanups.append(runner.cleanup)
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        bot_url = f"http://{host}:{port}{EVENTS_PATH}"
        self.driver = SlackDriver(self.emu, bot_url, signing_secret)
        self._cleanups.append(self.driver.close)

        self.sender = OutboxSender(
            self.db,
            client,
            self.clock,
            self.app.deps.metrics,
            channel_spacing=SHELL_CHANNEL_SPACING,
        )
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

    # -- the loop

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
            return True
        if line.startswith("# ") or line == "#":
            return True  # a comment in a script
        self._fresh_buttons = True
        try:
            if line.startswith(":"):
                name, _, arg = line[1:].partition(" ")
                if name.lower() in ("quit", "exit", "q"):
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
            pass
        except Exception as error:  # a bug in the shell itself: say so, keep going
            log.exception("the shell failed on %r", line)
            self.note(f"shell error: {describe_error(error)} (see the log)", style="bold red")
            self._mark_seen()
        return True

    def _command_table(self) -> dict[str, Callable[[str], Awaitable[None]]]:
        return {
            "help": self.cmd_help,
            "as": self.cmd_as,
            "in": self.cmd_in,
            "dm": self.cmd_dm,
            "join": self.cmd_join,
            "members": self.cmd_members,
            "channels": self.cmd_channels,
            "history": self.cmd_history,
            "dms": self.cmd_dms,
            "react": self.cmd_react,
            "unreact": self.cmd_unreact,
            "home": self.cmd_home,
            "click": self.cmd_click,
            "close": self.cmd_close,
            "time": self.cmd_time,
            "fail": self.cmd_fail,
        }

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

    # -- output

    def note(self, text: str, style: str = "dim") -> None:
        self.shown += 1
        self.console.print(Text(text, style=style))

    def _show(self, rendered: Rendered, target: Callable[[Button], ClickTarget]) -> None:
        self.shown += 1
        for part in rendered.parts:
            self.console.print(part)
        if rendered.buttons:
            if self._fresh_buttons:
                self.buttons = []
                self._fresh_buttons = False
            self.buttons += [target(b) for b in rendered.buttons]

    def _next_button(self) -> int:
        return 1 if self._fresh_buttons else len(self.buttons) + 1

    def show_message(self, message: Message, number: int | None, note: str = "") -> None:
        author = self.user_name(message.user or "") or message.bot_id or "?"
        self.console.print(
            Text.assemble(
                (f"{number}. " if number else "", "dim"),
                (author, "bold"),
                (f"  {note}" if note else "", "dim"),
            )
        )
        rendered = render.render_message(
            message.to_api(include_metadata=False), self, first=self._next_button()
        )
        if message.reactions:
            reactions = "  ".join(f":{n}: {len(u)}" for n, u in message.reactions.items())
            rendered.parts.append(Text(reactions, style="dim"))
        body = Padding(rendered.group(), (0, 0, 0, 3), expand=False)
        indented = Rendered([body], rendered.buttons)
        if message.ephemeral_to:
            self._show(indented, self._ephemeral_target(message))
        else:
            self._show(indented, self._message_target(message))

    def show_view(self, view: dict[str, Any]) -> None:
        rendered = render.render_view(view, self, first=self._next_button())
        view_id = str(view["id"])
        self._show(rendered, lambda b: ClickTarget(b, view_id=view_id))

    def _message_target(self, message: Message) -> Callable[[Button], ClickTarget]:
        return lambda b: ClickTarget(b, channel_id=message.channel, message_ts=message.ts)

    def _ephemeral_target(self, message: Message) -> Callable[[Button], ClickTarget]:
        return lambda b: ClickTarget(
            b, channel_id=message.channel, message_ts=message.ts, ephemeral=message
        )

    def number_of(self, message: Message) -> int:
        history = self.emu.state.history(message.channel)
        return next((i for i, m in enumerate(history, 1) if m.ts == message.ts), 0)

    # -- after each request: drain the outbox, then show what appeared

    async def drain(self) -> None:
        for _ in range(MAX_DRAIN_PASSES):
            if not await self.sender.drain_once():
                return

    def _mark_seen(self) -> None:
        state = self.emu.state
        self._seen.messages = {
            (m.channel, m.ts): m.edited_ts for msgs in state.messages.values() for m in msgs
        }
        self._seen.ephemerals = len(state.ephemerals)
        self._seen.calls = len(self.emu.calls)
        self._seen.acks = len(self.emu.acks)
        self._seen.homes = {u: v["hash"] for u, v in state.home_views.items()}
        if self._logging is not None:
            self._seen.errors = len(self._logging.errors.records)

    async def settle(self, *, show_home: bool = False) -> None:
        """Drain the outbox, show what the bot did, and walk through any modal it opened."""
        while True:
            await self.drain()
            self._show_refusals()
            self._show_ephemerals()
            self._show_messages()
            self._show_home(force=show_home)
            show_home = False
            view = self._changed_modal()
            if view is None:
                break
            self.show_view(view)
            if forms.inputs(view) and view.get("submit"):
                self._show_errors()
                await self.fill_modal(view)
                continue
            if any(b.view_id == view["id"] for b in self.buttons):
                self.note("(the modal stays open: :click N for its buttons, :close to close it)")
            else:
                await self._close_modal(view, quietly=True)
            break
        self._show_errors()
        self._mark_seen()

    def _show_refusals(self) -> None:
        for call in self.emu.calls[self._seen.calls :]:
            if not call.ok:
                why = " (as :fail asked)" if call.injected else ""
                self.note(
                    f"Slack refused the bot's {call.method}: {call.error}{why}", style="yellow"
                )
        for ack in self.emu.acks[self._seen.acks :]:
            if not ack.ok:
                self.note(f"Slack could not show the bot's reply: {ack.error}", style="yellow")
        self._seen.calls = len(self.emu.calls)
        self._seen.acks = len(self.emu.acks)

    def _show_ephemerals(self) -> None:
        for message in self.emu.state.ephemerals[self._seen.ephemerals :]:
            where = self.where(message.channel)
            if message.ephemeral_to == self.user_id:
                self.show_message(message, None, f"only visible to you, in {where}")
            else:
                who = self.user_name(message.ephemeral_to or "")
                self.note(f"(doughnut showed @{who} a message only they can see, in {where})")
        self._seen.ephemerals = len(self.emu.state.ephemerals)

    def _show_messages(self) -> None:
        state = self.emu.state
        for channel_id, messages in list(state.messages.items()):
            channel = state.channels[channel_id]
            for message in messages:
                key = (channel_id, message.ts)
                if key in self._seen.messages and self._seen.messages[key] == message.edited_ts:
                    continue
                edited = key in self._seen.messages
                self._seen.messages[key] = message.edited_ts
                if message.subtype == "channel_join" or (
                    message.user == self.user_id and message.bot_id is None
                ):
                    continue  # the person's own doing: already on screen
                self._show_new_message(channel, message, edited)

    def _show_new_message(self, channel: Channel, message: Message, edited: bool) -> None:
        number = self.number_of(message)
        where = self.where(channel.id)
        if self.user_id in channel.members:
            note = "edited" if edited else ""
            if channel.id != self.channel_id:
                note = f"{note} in {where}".strip()
            if message.is_reply:
                note = f"{note} (thread reply)".strip()
            self.show_message(message, number, note)
        elif channel.is_im:
            self.note(
                f"(doughnut sent @{self.user_name(channel.user or '')} a DM: "
                f":as @{self.user_name(channel.user or '')}, then :dms)"
            )
        else:
            self.note(f"(doughnut posted message {number} in {where}, where you are not a member)")

    def _show_home(self, *, force: bool) -> None:
        view = self.emu.state.home_views.get(self.user_id)
        changed = view is not None and self._seen.homes.get(self.user_id) != view["hash"]
        if force:
            if view is None:
                self.note("Doughnut has not published a Home tab for you.", style="yellow")
            else:
                self.show_view(view)
        elif changed:
            self.note("(your Home tab changed: :home shows it)")
        self._seen.homes = {u: v["hash"] for u, v in self.emu.state.home_views.items()}

    def _changed_modal(self) -> dict[str, Any] | None:
        stack = self.emu.state.modal_stack(self.user_id)
        if not stack:
            self._seen.modal = None
            return None
        top = stack[-1]
        key = (str(top["id"]), str(top["hash"]))
        if key == self._seen.modal:
            return None
        self._seen.modal = key
        return top

    def _show_errors(self) -> None:
        if self._logging is None:
            return
        records = self._logging.errors.records
        for record in records[self._seen.errors :]:
            line = Text(f"bot error: {record.getMessage()}", style="bold red")
            if record.exc_info and record.exc_info[1] is not None:
                line.append(f" — {describe_error(record.exc_info[1])}", style="red")
            self.console.print(line)
            if self.verbose and record.exc_info:
                self.console.print(
                    Text("".join(traceback.format_exception(*record.exc_info)), "red")
                )
        self._seen.errors = len(records)

    def _check_reply(self, reply: Reply, what: str) -> None:
        if reply.status >= 400:
            self.note(f"The bot answered {what} with HTTP {reply.status}.", style="bold red")

    # -- modals

    async def fill_modal(self, view: dict[str, Any]) -> None:
        """Ask for each input of the modal, submit it, and ask again for fields with errors."""
        inputs = forms.inputs(view)
        labels = {b["block_id"]: render.plain(b.get("label")) for b in inputs}
        values: dict[str, dict[str, Any]] = {}
        typed: dict[str, str] = {}  # asked again, a field offers what was typed, as Slack keeps it
        ask = inputs
        while True:
            try:
                for block in ask:
                    state, typed[block["block_id"]] = await self._ask(
                        block, typed.get(block["block_id"])
                    )
                    values[block["block_id"]] = {block["element"]["action_id"]: state}
            except Cancelled:
                await self._close_modal(view)
                self.note("(modal closed)")
                raise
            reply = await self.driver.view_submission(self.user_id, str(view["id"]), values)
            self._check_reply(reply, "the submission")
            ack = reply.json if isinstance(reply.json, dict) else {}
            if ack.get("response_action") != "errors":
                return
            errors: dict[str, str] = ack.get("errors") or {}
            for block_id, message in errors.items():
                self.note(f"  ✗ {labels.get(block_id, block_id)}: {message}", style="bold red")
            ask = [b for b in inputs if b["block_id"] in errors]
            if not ask:
                return

    async def _close_modal(self, view: dict[str, Any], *, quietly: bool = False) -> None:
        if view.get("notify_on_close"):
            reply = await self.driver.view_closed(self.user_id, str(view["id"]))
            self._check_reply(reply, "view_closed")
        else:
            self.emu.api.close_view(self.user_id, str(view["id"]))
        self._seen.modal = None

    async def _read_answer(self, prompt: str) -> str:
        while True:
            line = await self.reader.read(prompt)
            if line is None or line.strip() == ":cancel":
                raise Cancelled()
            if not line.strip().startswith(":"):
                return line.strip()
            self.note("  You are filling in a modal: answer the field, or :cancel.", "yellow")

    async def _ask(self, block: dict[str, Any], before: str | None) -> tuple[dict[str, Any], str]:
        """One field: its state for the submission, and the text it was given."""
        element = block.get("element") or {}
        kind = str(element.get("type"))
        label = render.plain(block.get("label"))
        optional = bool(block.get("optional"))
        default = before if before is not None else render.describe_default(element, self)
        if block.get("hint"):
            self.note(f"  ({render.plain(block['hint'])})")
        options = forms.options(element)
        for n, option in enumerate(options, 1):
            self.note(f"    {n}. {render.plain(option.get('text'))}", style="")
        prompt = f"  {label}{' (optional)' if optional else ''}"
        prompt += f" [{default}]: " if default else ": "
        while True:
            answer = await self._read_answer(prompt)
            if answer == "-" and optional:
                answer, default = "", ""
            text = answer or default
            if not text:
                if optional:
                    return forms.empty_state(kind), ""
                self.note("  This field is required.", style="yellow")
                continue
            try:
                return forms.field_state(kind, element, text, options, self._directory()), text
            except ValueError as error:
                self.note(f"  {error}", style="yellow")

    # -- what people do

    async def slash_command(self, line: str) -> None:
        command, _, text = line.partition(" ")
        declared = _declared_commands()
        if declared and command not in declared:
            self.note(
                f"{command} is not a command of this app. Its commands: {' '.join(declared)}",
                style="yellow",
            )
            return
        escaped = slack_text(text.strip(), self._user_ids(), self._channel_ids(), command=True)
        before = len(self.emu.state.ephemerals)
        reply = await self.driver.command(self.user_id, self.channel_id, command, escaped)
        self._check_reply(reply, command)
        silent = reply.status == 200 and not reply.text.strip()
        shown = self.shown
        await self.settle()
        if silent and before == len(self.emu.state.ephemerals) and shown == self.shown:
            self.note("(the bot acknowledged the command without a reply)")

    async def say(self, text: str) -> None:
        channel = self.emu.state.channels[self.channel_id]
        if self.user_id not in channel.members:
            self.note(f"You are not a member of {self.where(channel.id)}: :join first.", "yellow")
            return
        slack = slack_text(text, self._user_ids(), self._channel_ids(), command=False)
        try:
            message, replies = await self.driver.say(self.user_id, self.channel_id, slack)
        except ValueError as error:
            self.note(str(error), style="yellow")
            return
        heard = "" if replies else "; Doughnut is not here, so it did not hear it"
        self.note(f"(message {self.number_of(message)}{heard})")
        for reply in replies:
            self._check_reply(reply, "the message event")
        await self.settle()

    async def cmd_help(self, arg: str) -> None:
        self.console.print(Text(HELP))

    async def cmd_as(self, arg: str) -> None:
        user_id = self._find_user(arg)
        user = self.emu.state.users.get(user_id or "")
        if user is None or user.is_bot:
            self.note(
                f"No member {arg or '(none given)'}. Members: {self._member_list()}", "yellow"
            )
            return
        self.user_id = user.id
        self.buttons = []
        channel = self.emu.state.channels[self.channel_id]
        if channel.is_im or (channel.is_private and user.id not in channel.members):
            self.channel_id = GENERAL.channel_id
        self._seen.modal = None
        self._mark_seen()
        self.note(f"You are @{user.name} ({user.real_name}, {user.tz}).")

    async def cmd_in(self, arg: str) -> None:
        channel_id = self._channel_ids().get(arg.lstrip("#").lower())
        visible = self._visible_channels(self.user_id)
        if channel_id is None or channel_id not in {c.id for c in visible}:
            names = " ".join(f"#{c.name}" for c in visible)
            self.note(f"No channel {arg or '(none given)'} for you. Channels: {names}", "yellow")
            return
        self.channel_id = channel_id
        if self.user_id not in self.emu.state.channels[channel_id].members:
            self.note(f"You are not a member of {self.where(channel_id)}: :join to join it.")

    async def cmd_dm(self, arg: str) -> None:
        other = self._find_user(arg) if arg else self.emu.state.bot_user_id
        if other is None or other == self.user_id:
            self.note(f"Whom to write to? Members: {self._member_list()} @doughnut", "yellow")
            return
        if other == self.emu.state.bot_user_id:
            self.channel_id = self.emu.state.dm_channel(self.user_id).id
            return
        self.channel_id = self._member_dm(self.user_id, other).id

    def _member_dm(self, a: str, b: str) -> Channel:
        """A DM between two members (Doughnut is not in it and hears nothing)."""
        state = self.emu.state
        for channel in state.channels.values():
            if channel.is_im and channel.user is None and channel.members == {a, b}:
                return channel
        channel = Channel(id=state.new_id("D"), name=f"{a}-{b}", is_private=True, is_im=True)
        channel.members = {a, b}
        state.channels[channel.id] = channel
        state.messages[channel.id] = []
        return channel

    async def cmd_join(self, arg: str) -> None:
        channel_id = self._channel_ids().get(arg.lstrip("#").lower()) if arg else self.channel_id
        if channel_id is None:
            self.note(f"No channel {arg}.", style="yellow")
            return
        if self.user_id in self.emu.state.channels[channel_id].members:
            self.note(f"You are already in {self.where(channel_id)}.", "yellow")
            return
        try:
            reply = await self.driver.join(self.user_id, channel_id)
        except ValueError as error:
            self.note(str(error), style="yellow")
            return
        self.channel_id = channel_id
        self.note(f"(you joined {self.where(channel_id)})")
        if reply is not None:
            self._check_reply(reply, "member_joined_channel")
        await self.settle()

    async def cmd_members(self, arg: str) -> None:
        for user in self.emu.state.users.values():
            if not user.deleted:
                bot = " (the app)" if user.is_bot else ""
                self.console.print(f"@{user.name:<10} {user.real_name}{bot} · {user.tz}")

    async def cmd_channels(self, arg: str) -> None:
        for channel in self._visible_channels(self.user_id):
            traits = ["private" if channel.is_private else "public"]
            if self.emu.state.bot_user_id in channel.members:
                traits.append("Doughnut is in it")
            if self.user_id in channel.members:
                traits.append("you are a member")
            self.console.print(f"#{channel.name:<12} {', '.join(traits)}")

    async def cmd_history(self, arg: str) -> None:
        channel = self.emu.state.channels[self.channel_id]
        if channel.is_private and self.user_id not in channel.members:
            self.note("You can't see this channel.", style="yellow")
            return
        history = self.emu.state.history(self.channel_id)
        if not history:
            self.note(f"No messages in {self.where(self.channel_id)} yet (this session).")
        for number, message in enumerate(history, 1):
            self.show_message(message, number, "(thread reply)" if message.is_reply else "")

    async def cmd_dms(self, arg: str) -> None:
        shown = False
        for channel in self.emu.state.channels.values():
            if channel.is_im and self.user_id in channel.members:
                for number, message in enumerate(self.emu.state.history(channel.id), 1):
                    self.show_message(message, number, f"in {self.where(channel.id)}")
                    shown = True
        if not shown:
            self.note("No direct messages yet.")

    async def _reaction(self, arg: str, add: bool) -> None:
        usage = f":{'react' if add else 'unreact'} N :emoji:  (N from :history)"
        parts = arg.split()
        history = self.emu.state.history(self.channel_id)
        if len(parts) != 2 or not parts[0].isdigit():
            self.note(f"Usage: {usage}", style="yellow")
            return
        number, emoji = int(parts[0]), parts[1].strip(":")
        if not 1 <= number <= len(history):
            self.note(f"No message {number} here; :history lists {len(history)}.", "yellow")
            return
        message = history[number - 1]
        act = self.driver.react if add else self.driver.unreact
        try:
            reply = await act(self.user_id, self.channel_id, message.ts, emoji)
        except ValueError as error:
            self.note(str(error), style="yellow")
            return
        done = "reacted with" if add else "took back"
        self.note(f"(you {done} :{emoji}: on message {number})")
        if reply is None:
            self.note("(Doughnut is not in this channel, so it did not see that)")
        else:
            self._check_reply(reply, "the reaction event")
        await self.settle()

    async def cmd_react(self, arg: str) -> None:
        await self._reaction(arg, add=True)

    async def cmd_unreact(self, arg: str) -> None:
        await self._reaction(arg, add=False)

    async def cmd_home(self, arg: str) -> None:
        reply = await self.driver.open_home(self.user_id)
        self._check_reply(reply, "app_home_opened")
        await self.settle(show_home=True)

    async def cmd_click(self, arg: str) -> None:
        if not self.buttons:
            self.note("There are no buttons on screen (:home or :history shows some).", "yellow")
            return
        number = int(arg) if arg.isdigit() else 0
        found = next((t for t in self.buttons if t.button.number == number), None)
        if found is None:
            shown = ", ".join(f"{t.button.number} {t.button.label}" for t in self.buttons)
            self.note(f"No button {arg or '(none given)'}. Buttons: {shown}", style="yellow")
            return
        button = found.button
        action: dict[str, Any] = {
            "type": "button",
            "action_id": button.action_id,
            "block_id": button.block_id,
            "text": {"type": "plain_text", "text": button.label, "emoji": True},
        }
        if button.value is not None:
            action["value"] = button.value
        if button.url:
            self.note(f"(opens {button.url} in a browser)")
        try:
            if found.view_id is not None:
                reply = await self.driver.block_actions(self.user_id, [action], view=found.view_id)
            elif found.ephemeral is not None:
                container = {
                    "type": "message",
                    "message_ts": found.message_ts,
                    "channel_id": found.channel_id,
                    "is_ephemeral": True,
                }
                reply = await self.driver.block_actions(
                    self.user_id,
                    [action],
                    container=container,
                    message=found.ephemeral.to_api(include_metadata=False),
                    channel_id=found.channel_id,
                )
            else:
                message = self.emu.state.find_message(str(found.channel_id), str(found.message_ts))
                if message is None:
                    self.note("That message is gone.", style="yellow")
                    return
                reply = await self.driver.block_actions(self.user_id, [action], message=message)
        except KeyError:
            self.note("That view is closed now.", style="yellow")
            return
        self._check_reply(reply, "the click")
        self._seen.modal = (
            None if not self.emu.state.modal_stack(self.user_id) else self._seen.modal
        )
        await self.settle()

    async def cmd_close(self, arg: str) -> None:
        stack = self.emu.state.modal_stack(self.user_id)
        if not stack:
            self.note("No modal is open.", style="yellow")
            return
        await self._close_modal(stack[-1])
        self.note("(modal closed)")
        await self.settle()

    async def cmd_time(self, arg: str) -> None:
        now = self.clock.now()
        if arg:
            try:
                moment = parse_time(arg, now)
            except ValueError as error:
                self.note(str(error), style="yellow")
                return
            if moment < now:
                self.note(f"The clock only moves forward; it is {self._time_text(now)}.", "yellow")
                return
            self.clock.set(moment)
        self.console.print(f"It is {self._time_text(self.clock.now())}.")
        if not arg:
            return
        assert self.scheduler is not None
        ran = await self.scheduler.tick(self.clock.now())
        if ran:
            self.console.print(f"Scheduled jobs run: {', '.join(ran)}.")
        else:
            self.console.print("No scheduled jobs were due.")
        await self.settle()

    def _time_text(self, moment: datetime) -> str:
        user = self.emu.state.users[self.user_id]
        local = moment.astimezone(ZoneInfo(user.tz))
        return f"{moment:%a %Y-%m-%d %H:%M} UTC ({local:%a %H:%M} for @{user.name} in {user.tz})"

    async def cmd_fail(self, arg: str) -> None:
        parts = arg.split()
        if not parts:
            self.note("Usage: :fail METHOD [error], e.g. :fail views.open internal_error", "yellow")
            return
        error = parts[1] if len(parts) > 1 else "internal_error"
        self.emu.fail(parts[0], error=error)
        self.note(f"(the local Slack will refuse the bot's next {parts[0]} with {error})")


# ---- helpers ---------------------------------------------------------------------------------


def _delete_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _declared_commands() -> list[str]:
    """The slash commands in the app manifest (empty when it can't be read)."""
    try:
        from bot.manifest import load_manifest

        commands = load_manifest().get("features", {}).get("slash_commands") or []
    except (OSError, ValueError):
        return []
    return [str(c.get("command")) for c in commands if isinstance(c, dict)]


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
