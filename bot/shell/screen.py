"""What the shell shows: after each input, the outbox drained and whatever the bot did
(messages, ephemerals, Home tabs, modals, refusals, retries, errors) put on screen."""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from bot.app import DoughnutApp
from bot.emulator import Channel, Message, SlackDriver, SlackEmulator
from bot.emulator.driver import Reply
from bot.outbox import OutboxSender
from bot.shell import forms, render
from bot.shell.clock import MovableClock
from bot.shell.io import (
    ShellLogging,
    describe_error,
)
from bot.shell.render import Button, Rendered
from storage.db import Database
from storage.outbox_waiting import waiting_retries

MAX_DRAIN_PASSES = 20


@dataclass(frozen=True)
class ClickTarget:
    """A rendered button and where it lives (a view, or a message in a channel)."""

    button: Button
    view_id: str | None = None
    channel_id: str | None = None
    message_ts: str | None = None
    ephemeral: Message | None = None


@dataclass
class Seen:
    messages: dict[tuple[str, str], str | None] = field(default_factory=dict)
    ephemerals: int = 0
    calls: int = 0
    acks: int = 0
    errors: int = 0
    homes: dict[str, str] = field(default_factory=dict)
    modal: tuple[str, str] | None = None
    retries: set[tuple[int, int]] = field(default_factory=set)  # (delivery id, attempts) told


class Screen:
    """Output: numbered messages and buttons, and what changed since the last input."""

    verbose: bool
    buttons: list[ClickTarget]
    _fresh_buttons: bool
    shown: int
    _seen: Seen
    _logging: ShellLogging | None
    sender: OutboxSender
    app: DoughnutApp
    console: Console
    clock: MovableClock
    db: Database | None
    emu: SlackEmulator
    driver: SlackDriver
    user_id: str
    channel_id: str

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

    async def drain(self) -> None:
        await self.app.deps.after_ack.idle()  # e.g. the setup form, filled in after the ack
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
            await self._show_waiting_retries()
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
                self.note("(the modal stays open: :close to close it)")
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

    async def _show_waiting_retries(self) -> None:
        """Deliveries Slack refused for a passing reason wait for a retry: say until when."""
        assert self.db is not None
        now = self.clock.now()
        async with self.db.reading() as session:
            waiting = await waiting_retries(session, now)
        for retry in waiting:
            key = (retry.id, retry.attempts)
            if key in self._seen.retries:
                continue
            self._seen.retries.add(key)
            wait = max(1, math.ceil((retry.next_attempt_at - now).total_seconds()))
            self.note(
                f"(the bot retries {retry.method} at {retry.next_attempt_at:%H:%M:%S} UTC, in "
                f"{wait}s: press Enter after that to see it, or :time +1m to get there now)",
                style="yellow",
            )

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
