"""The Home tab: what Doughnut is, your communities and roles, quick actions."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.blocks import Block, actions, button, context, divider, header, section
from bot.communities import communities_for
from bot.deps import Deps
from bot.text import channel_link, escape
from bot.unit_of_work import UnitOfWork
from handlers.help import COMING_TEXT
from storage.communities import communities_of_workspace
from storage.models import Community

log = logging.getLogger(__name__)

# Slack's limit for a Home tab; the list is cut well before it.
HOME_MAX_BLOCKS = 100
COMMUNITIES_SHOWN = 30
# users.conversations pages of 200: enough for 1,000 channels within the event's 3 seconds.
CHANNEL_PAGES = 5


def home_view(user_id: str, mine: list[Community], others: list[Community]) -> dict[str, Any]:
    """The Home tab for one person (pure: plain data in, a view out)."""
    blocks: list[Block] = [
        header("Doughnut"),
        section(
            "Doughnut helps your communities of practice learn together. Today: set up a "
            "community in its channel (`/doughnut setup`), and see your communities and roles "
            "here."
        ),
        context(COMING_TEXT),
        actions(
            button("Help", ids.HOME_HELP_ACTION),
            button("Set up a community", ids.HOME_SETUP_ACTION, style="primary"),
        ),
        divider(),
        section("*Your communities*"),
    ]
    if mine:
        blocks += [_community_line(c, user_id) for c in mine[:COMMUNITIES_SHOWN]]
    else:
        blocks.append(context("You are not in a community yet: join one below, or set one up."))
    if others:
        blocks += [divider(), section("*Other communities*")]
        blocks += [_community_line(c, user_id) for c in others[:COMMUNITIES_SHOWN]]
    return {"type": "home", "blocks": blocks[:HOME_MAX_BLOCKS]}


def _community_line(community: Community, user_id: str) -> Block:
    roles = sorted(r.role.value for r in community.roles if r.user_id == user_id)
    role_text = f" · you are {', '.join(roles)}" if roles else ""
    return section(f"*{escape(community.name)}* in {channel_link(community.channel_id)}{role_text}")


async def channels_of(client: AsyncWebClient, user_id: str) -> set[str]:
    """The channels a member is in, as far as the bot can see; empty when Slack won't say."""
    found: set[str] = set()
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
        # The Home tab still shows the communities where the member has a role.
        log.warning("users.conversations failed for the Home tab: %s", error.response.get("error"))
    return found


async def home_opened(
    event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    if event.get("tab") != "home":
        return
    user_id = event["user"]
    member_of = await channels_of(client, user_id)  # before the database: a read holds no lock
    uow: UnitOfWork = context["uow"]
    workspace = await uow.workspace()
    communities = await communities_of_workspace(await uow.session(), workspace.id)
    mine, others = communities_for(user_id, communities, member_of)
    await uow.deliver(
        "views.publish",
        {"user_id": user_id, "view": home_view(user_id, mine, others)},
        coalesce_key=f"home:{user_id}",
    )


def register(app: AsyncApp, deps: Deps) -> None:
    app.event("app_home_opened")(home_opened)
