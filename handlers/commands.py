"""`/doughnut <sub> …` (chassis): route the first word to the capability that registered it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.registry import Capability, Registry, Subcommands
from bot.text import unescape
from handlers.ids import DOUGHNUT_COMMAND


class Router:
    """The `/doughnut` listener; no word means `help`, an unknown one goes to the fallback."""

    def __init__(self, subcommands: Subcommands) -> None:
        self._subcommands = subcommands

    async def dispatch(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        # Slack escapes &, < and > in command text; handlers get it raw and escape on output.
        word, _, rest = unescape(body.get("text") or "").strip().partition(" ")
        handler = self._subcommands.get(word.lower() or "help")
        args = rest.strip()
        if handler is None:
            handler, args = self._subcommands.fallback, word
        if handler is None:
            await ack()
            return
        await handler(ack=ack, body=body, client=client, context=context, args=args)


def register(app: Any, registry: Registry) -> None:
    app.command(DOUGHNUT_COMMAND)(Router(registry.subcommands).dispatch)


CAPABILITY = Capability(
    name="doughnut-command",
    register=register,
    scopes=("commands",),
)
