"""The Home tab: what Doughnut is, your communities and roles, quick actions."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot import ids
from bot.blocks import Block, actions, button, context, divider, header, section
from bot.deps import Deps
from bot.text import channel_link, escape
from bot.unit_of_work import UnitOfWork
from storage.communities import communities_of_workspace
from storage.models import Community

# Slack's limit for a Home tab; the list is cut well before it.
HOME_MAX_BLOCKS = 100
COMMUNITIES_SHOWN = 30


def home_view(user_id: str, communities: list[Community]) -> dict[str, Any]:
    """The Home tab for one person (pure: plain data in, a view out)."""
    mine = [c for c in communities if any(r.user_id == user_id for r in c.roles)]
    others = [c for c in communities if c not in mine and not c.is_private]
    blocks: list[Block] = [
        header("Doughnut"),
        section(
            "Doughnut keeps your communities of practice learning: capture lessons where work "
            "happens, find who has done it before, and thank the people who helped."
        ),
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
        blocks.append(context("You have no role in a community yet."))
    if others:
        blocks += [divider(), section("*Other communities*")]
        blocks += [_community_line(c, user_id) for c in others[:COMMUNITIES_SHOWN]]
    return {"type": "home", "blocks": blocks[:HOME_MAX_BLOCKS]}


def _community_line(community: Community, user_id: str) -> Block:
    roles = sorted(r.role.value for r in community.roles if r.user_id == user_id)
    role_text = f" · you are {', '.join(roles)}" if roles else ""
    return section(f"*{escape(community.name)}* in {channel_link(community.channel_id)}{role_text}")


async def home_opened(event: dict[str, Any], context: AsyncBoltContext) -> None:
    if event.get("tab") != "home":
        return
    user_id = event["user"]
    uow: UnitOfWork = context["uow"]
    workspace = await uow.workspace()
    communities = await communities_of_workspace(await uow.session(), workspace.id)
    await uow.deliver(
        "views.publish",
        {"user_id": user_id, "view": home_view(user_id, communities)},
        coalesce_key=f"home:{user_id}",
    )


def register(app: AsyncApp, deps: Deps) -> None:
    app.event("app_home_opened")(home_opened)
