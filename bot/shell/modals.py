"""Filling a modal from the keyboard: each input asked in turn, submitted over the wire, and
the fields the bot refused asked again."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from bot.emulator import SlackDriver, SlackEmulator
from bot.shell import forms, render
from bot.shell.clock import MovableClock
from bot.shell.commands import QUIT
from bot.shell.forms import Cancelled
from bot.shell.io import (
    LineReader,
)
from bot.shell.screen import Seen
from storage.db import Database


class ModalFilling:
    """Asks for a modal's fields (the `Shell` mixes it in)."""

    reader: LineReader
    _quitting: bool
    _seen: Seen
    console: Console
    clock: MovableClock
    db: Database | None
    emu: SlackEmulator
    driver: SlackDriver
    user_id: str
    channel_id: str

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

    async def _close_modal(self, view: dict[str, Any]) -> None:
        if view.get("notify_on_close"):
            reply = await self.driver.view_closed(self.user_id, str(view["id"]))
            self._check_reply(reply, "view_closed")
        else:
            self.emu.api.close_view(self.user_id, str(view["id"]))
        self._seen.modal = None

    async def _read_answer(self, prompt: str) -> str:
        while True:
            line = await self.reader.read(prompt)
            if line is None or line.strip() in (":cancel", ":close"):
                raise Cancelled()
            if line.strip().lower() in QUIT:
                self._quitting = True  # close the modal, then leave
                raise Cancelled()
            if not line.strip().startswith(":"):
                return line.strip()
            self.note(
                "  You are filling in a modal: answer the field, :cancel, or :quit.", "yellow"
            )

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
