"""`/doughnut help` (and any unknown subcommand): what Doughnut can do, grouped by the loop."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import Block, context, divider, ephemeral, header, section
from bot.deps import Deps
from bot.ids import HOME_HELP_ACTION
from bot.text import escape


@dataclass(frozen=True)
class CommandHelp:
    usage: str
    what: str
    available: bool = True


# The loop, in order: each group says what the step is for and which commands serve it.
HELP_GROUPS: tuple[tuple[str, str, tuple[CommandHelp, ...]], ...] = (
    (
        "Capture",
        "What have we learned? Lessons straight from your work.",
        (
            CommandHelp("/lesson", "capture an After Action Review", available=False),
            CommandHelp("/doughnut aar [project]", "run an After Action Review in a thread", False),
        ),
    ),
    (
        "Find",
        "The book of knowledge, at the point of need.",
        (CommandHelp("/lessons [query]", "search lessons and practices", available=False),),
    ),
    (
        "Assist",
        "Ask the people who have done it before.",
        (CommandHelp("/peer-assist [topic]", "ask for a peer assist", available=False),),
    ),
    (
        "Recognise",
        "Thank the people whose knowledge helped you.",
        (CommandHelp("/kudos @someone reason", "give kudos", available=False),),
    ),
    (
        "Steer",
        "Run the community: roles, gaps, proposals, sponsors.",
        (
            CommandHelp("/doughnut setup", "make this channel a community (or edit it)"),
            CommandHelp("/doughnut help", "this overview"),
        ),
    ),
)


def help_blocks(unknown: str | None = None) -> list[Block]:
    """The help overview; `unknown` is a subcommand we did not understand, echoed safely."""
    blocks: list[Block] = [header("Doughnut: your community's knowledge loop")]
    if unknown:
        blocks.append(
            section(f"I don't know `{escape(unknown[:50])}` yet, so here is what I can do.")
        )
    for title, purpose, commands in HELP_GROUPS:
        blocks.append(divider())
        live = [c for c in commands if c.available]
        soon = [c for c in commands if not c.available]
        lines = [f"*{title}* · {purpose}"]
        lines += [f"• `{c.usage}`: {c.what}" for c in live]
        blocks.append(section("\n".join(lines)))
        if soon:
            blocks.append(context("Coming soon: " + ", ".join(f"`{c.usage}`" for c in soon)))
    blocks.append(context("Tip: open Doughnut's *Home* tab to see your communities and roles."))
    return blocks


def help_text(unknown: str | None = None) -> str:
    """The plain-text fallback of the help overview."""
    prefix = f"I don't know `{escape(unknown[:50])}` yet. " if unknown else ""
    live = [c.usage for _, _, commands in HELP_GROUPS for c in commands if c.available]
    return prefix + "Doughnut commands: " + ", ".join(live)


@cache
def _plain_help() -> dict[str, Any]:
    return ephemeral(help_text(), help_blocks())


def help_reply(unknown: str | None = None) -> dict[str, Any]:
    """The ephemeral help ack (the common case is built once: it never changes)."""
    return ephemeral(help_text(unknown), help_blocks(unknown)) if unknown else _plain_help()


def help_modal() -> dict[str, Any]:
    """The same overview in a modal (from the Home tab's Help button)."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Doughnut help"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": help_blocks(),
    }


async def show_help(ack: AsyncAck, **_: Any) -> None:
    await ack(**help_reply())


async def open_help_modal(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
    await client.views_open(trigger_id=body["trigger_id"], view=help_modal())
    await ack()


def register(app: AsyncApp, deps: Deps, subcommands: Any) -> None:
    subcommands.add("help", show_help)
    app.action(HOME_HELP_ACTION)(open_help_modal)
