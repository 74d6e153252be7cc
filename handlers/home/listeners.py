"""The Home tab: the frame, then each registered section, within Slack's 100-block budget."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import Block
from bot.installations import with_token
from bot.registry import HomeViewer, Registry
from bot.unit_of_work import UnitOfWork
from handlers.home.views import HOME_MAX_BLOCKS, home_top

log = logging.getLogger(__name__)

# users.conversations pages of 200: up to 1,000 channels.
CHANNEL_PAGES = 5
# The event is answered within Slack's 3 seconds whatever Slack does: all pages within this.
CHANNELS_BUDGET = 1.0


async def channels_of(client: AsyncWebClient, user_id: str) -> frozenset[str]:
    """The channels a member is in, as far as the bot can see; empty when Slack won't say."""
    found: set[str] = set()
    try:
        async with asyncio.timeout(CHANNELS_BUDGET):
            await _read_pages(client, user_id, found)
    except TimeoutError:
        # A slow Slack: show what was read; communities where the member has a role still show.
        log.warning("users.conversations took over %.1f s for the Home tab", CHANNELS_BUDGET)
    return frozenset(found)


async def _read_pages(client: AsyncWebClient, user_id: str, found: set[str]) -> None:
    cursor = None
    try:
        for _ in range(CHANNEL_PAGES):
            page = await client.users_conversations(
                user=user_id,
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=200,
                cursor=cursor,
            )
            found.update(channel["id"] for channel in page.get("channels") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
    except SlackApiError as error:
        # The Home tab still shows what does not need the member's channels (their roles).
        log.warning("users.conversations failed for the Home tab: %s", error.response.get("error"))


class HomeTab:
    """`app_home_opened`: build the tab from the registered sections and publish it."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    async def view(self, uow: UnitOfWork, viewer: HomeViewer) -> dict[str, Any]:
        registry = self._registry
        sections = registry.home_sections
        blocks: list[Block] = home_top(
            [s.intro for s in sections], registry.coming_text, registry.quick_actions
        )
        room = HOME_MAX_BLOCKS - len(blocks)
        for i, home_section in enumerate(sections):
            # An even share of what is left: a short section leaves more to the next ones.
            share = room // (len(sections) - i)
            part = (await home_section.build(uow, viewer, share))[:share]
            blocks += part
            room -= len(part)
        return {"type": "home", "blocks": blocks}

    async def viewer(self, client: AsyncWebClient, user_id: str) -> HomeViewer:
        """Call before the database: a Slack read holds no lock."""
        return HomeViewer(user_id, await channels_of(client, user_id))

    async def publish(self, uow: UnitOfWork, viewer: HomeViewer) -> None:
        """Queue the person's fresh Home tab (a newer one replaces one not sent yet)."""
        view = await self.view(uow, viewer)
        await uow.deliver(
            "views.publish",
            {"user_id": viewer.user_id, "view": view},
            coalesce_key=f"home:{viewer.user_id}",
        )

    def refresh_after_commit(self, uow: UnitOfWork, token: str | None, user_id: str) -> None:
        """Once `uow` has committed and the ack is sent: read the person's channels, then
        publish their tab from committed reads, in a unit of work of its own (so a decision
        made from the Home tab leaves it at once; no Slack call holds up the ack)."""
        deps, installation = uow.deps, uow.installation

        async def refresh() -> None:
            later = UnitOfWork(deps, installation)
            viewer = await self.viewer(with_token(deps.outbox_client, token), user_id)
            ok = False
            try:
                await self.publish(later, viewer)
                ok = True
            finally:
                await later.finish(ok=ok)

        uow.after_commit(lambda: deps.after_ack.hand_off(refresh(), what="home tab refresh"))

    async def opened(
        self, event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        if event.get("tab") != "home":
            return
        # Before the database: the event's claim comes first.
        viewer = await self.viewer(client, event["user"])
        await self.publish(context["uow"], viewer)
