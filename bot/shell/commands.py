"""The shell's inputs: `:commands`, slash commands and messages, each sent as Slack would."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.text import Text

from bot.emulator import Channel, SlackDriver, SlackEmulator
from bot.shell.clock import MovableClock, parse_time
from bot.shell.screen import ClickTarget, Seen
from bot.shell.seed import GENERAL
from bot.shell.wire_text import slack_text
from scheduler import Scheduler
from storage.db import Database

QUIT = (":quit", ":exit", ":q")
TIME_STEP = timedelta(hours=1)  # `:time` ticks the scheduler at least this often on its way


HELP = """\
Type a message to post it in the current channel, or a slash command such as `/doughnut help`.
`@name` and `#channel` become real mentions. Doughnut answers a question in a mention
(`@doughnut how do we …`) with matching practices, and a DM (`:dm @doughnut`) with a short help.

  :as @name              act as another member            :members / :channels  who and where
  :in #channel           go to a channel                  :join                 join it
  :dm @name              your DM with someone (:dm @doughnut: the app's Messages tab)
  :history               this channel's messages, numbered
  :dms                   your direct messages
  :react N :emoji:       react to message N of :history (:unreact N :emoji: takes it back)
  :home                  open Doughnut's Home tab
  :click N               press button N of what was shown last
  :close                 close the open modal (a modal stays open until you close it)
  :time                  show the clock; :time +2d, :time +3h, :time 2026-12-04 15:00 (UTC)
                         move it, then run the scheduled jobs that are due
  :fail METHOD [error]   make the local Slack refuse the bot's next METHOD call; after a
                         passing error the bot retries later (the shell says when)
  :help, :quit (or Ctrl-D)

In a modal, answer each field in turn (an empty line keeps the default) or type :cancel (or :close).
Enter on an empty line shows what the bot did meanwhile.
The database keeps what the bot stored between runs; the local Slack (messages, Home tabs,
modals) starts fresh every time."""


def _declared_commands() -> list[str]:
    """The slash commands in the app manifest (empty when it can't be read)."""
    try:
        from bot.manifest import load_manifest

        commands = load_manifest().get("features", {}).get("slash_commands") or []
    except (OSError, ValueError):
        return []
    return [str(c.get("command")) for c in commands if isinstance(c, dict)]


class Commands:
    """What a person can do in the shell (the `Shell` mixes it in)."""

    scheduler: Scheduler | None
    buttons: list[ClickTarget]
    shown: int
    _seen: Seen
    console: Console
    clock: MovableClock
    db: Database | None
    emu: SlackEmulator
    driver: SlackDriver
    user_id: str
    channel_id: str

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
        there = self.emu.state.bot_user_id in channel.members  # it may not listen to all it hears
        heard = "" if there else "; Doughnut is not here, so it did not hear it"
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
        if self.emu.state.bot_user_id not in self.emu.state.channels[self.channel_id].members:
            self.note("(Doughnut is not in this channel, so it did not see that)")
        if reply is not None:
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
        if not arg:
            self.console.print(f"It is {self._time_text(now)}.")
            return
        try:
            moment = parse_time(arg, now)
        except ValueError as error:
            self.note(str(error), style="yellow")
            return
        if moment < now:
            self.note(f"The clock only moves forward; it is {self._time_text(now)}.", "yellow")
            return
        assert self.scheduler is not None
        # Through every hour on the way (each job's grace is longer), so what fell due on the way
        # runs at its time, as the leader's scheduler would have run it.
        ran: list[str] = []
        step = now
        while True:
            step = min(step + TIME_STEP, moment)
            self.clock.set(step)
            ran += [title for title in await self.scheduler.tick(step) if title not in ran]
            if step >= moment:
                break
        self.console.print(f"It is {self._time_text(self.clock.now())}.")
        if ran:
            self.console.print(f"The scheduler ran what was due: {', '.join(ran)}.")
        else:
            self.console.print("Nothing scheduled was due.")
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
