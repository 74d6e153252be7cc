"""`/doughnut <sub> …`: route the first word to the capability that owns it; else help."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.ids import DOUGHNUT_COMMAND
from bot.text import unescape
from handlers.help import help_reply

Subcommand = Callable[..., Awaitable[None]]


class Subcommands:
    def __init__(self) -> None:
        self._handlers: dict[str, Subcommand] = {}

    def add(self, name: str, handler: Subcommand) -> None:
        if name in self._handlers:
            raise ValueError(f"subcommand {name!r} registered twice")
        self._handlers[name] = handler

    @property
    def names(self) -> list[str]:
        return sorted(self._handlers)

    def register(self, app: AsyncApp) -> None:
        app.command(DOUGHNUT_COMMAND)(self.dispatch)

    async def dispatch(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        # Slack escapes &, < and > in command text; handlers get it raw and escape on output.
        word, _, rest = unescape(body.get("text") or "").strip().partition(" ")
        handler = self._handlers.get(word.lower() or "help")
        if handler is None:
            await ack(**help_reply(unknown=word))
            return
        await handler(ack=ack, body=body, client=client, context=context, args=rest.strip())
