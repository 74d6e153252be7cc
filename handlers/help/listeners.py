"""Help: `/doughnut help` (and any unknown subcommand), the Home tab's Help button, and a short
answer to a DM or an @Doughnut mention. It says what is registered, and what is still to come."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.registry import Registry
from bot.unit_of_work import UnitOfWork
from handlers.help import views
from handlers.help.views import HelpContent

# Message subtypes that are a person writing (the others are edits, deletions, joins…).
PERSON_SUBTYPES = (None, "file_share", "thread_broadcast")


class Help:
    """Help's listeners, reading the registry once it is complete (on the first request)."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    @cached_property
    def content(self) -> HelpContent:
        return HelpContent.of(self._registry)

    @cached_property
    def _plain_reply(self) -> dict[str, Any]:
        # The common ack is built once: it never changes.
        return views.help_reply(self.content)

    @cached_property
    def _short_help(self) -> dict[str, Any]:
        return views.short_help(self.content)

    async def show(self, ack: AsyncAck, **_: Any) -> None:
        await ack(**self._plain_reply)

    async def unknown(self, ack: AsyncAck, args: str = "", **_: Any) -> None:
        """A subcommand nobody registered: say so, then the overview."""
        await ack(**views.help_reply(self.content, unknown=args))

    async def open_modal(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await client.views_open(trigger_id=body["trigger_id"], view=views.help_modal(self.content))
        await ack()

    async def answer(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        """A DM to the bot or a mention of it: short help (in the thread, for a mention)."""
        channel = event.get("channel")
        if not channel or event.get("subtype") not in PERSON_SUBTYPES:
            return
        payload: dict[str, Any] = {"channel": channel, **self._short_help}
        # In a channel, the answer goes in the mention's thread; in a DM, where it was written.
        mention = event["type"] == "app_mention"
        thread_ts = event.get("thread_ts") or (event.get("ts") if mention else None)
        if thread_ts:
            payload["thread_ts"] = thread_ts
        uow: UnitOfWork = context["uow"]
        await uow.deliver("chat.postMessage", payload, channel=channel)
