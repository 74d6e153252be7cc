"""Help: `/doughnut help` (and any unknown subcommand), the Home tab's Help button, and a short
answer to a DM or an @Doughnut mention. It says what works today and what is still to come."""

from __future__ import annotations

from functools import cache
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import Block, context, divider, ephemeral, header, message, section
from bot.deps import Deps
from bot.ids import HOME_HELP_ACTION
from bot.text import escape
from bot.unit_of_work import UnitOfWork

# What works today: (where, what it does). A capability adds its line when it lands.
AVAILABLE: tuple[tuple[str, str], ...] = (
    ("`/doughnut setup`", "make this channel a community of practice, or edit it"),
    ("`/doughnut help`", "this overview"),
    ("the *Home* tab", "your communities and your roles in them"),
)
# The rest of the loop, in the product's words; not built yet, so no command is named.
COMING: tuple[str, ...] = (
    "capturing lessons and After Action Reviews",
    "a searchable book of knowledge",
    "peer assists",
    "kudos",
    "answers to questions asked with @Doughnut",
)
COMING_TEXT = "Not built yet, coming later: " + ", ".join(COMING) + "."
# Message subtypes that are a person writing (the others are edits, deletions, joins…).
PERSON_SUBTYPES = (None, "file_share", "thread_broadcast")


def help_blocks(unknown: str | None = None) -> list[Block]:
    """The help overview; `unknown` is a subcommand we did not understand, echoed safely."""
    blocks: list[Block] = [header("Doughnut: your community's knowledge loop")]
    if unknown:
        said = escape(unknown[:50])
        blocks.append(section(f"I don't know `{said}` yet, so here is what I can do."))
    lines = ["*What works today*"] + [f"• {where}: {what}" for where, what in AVAILABLE]
    blocks += [section("\n".join(lines)), divider(), context(COMING_TEXT)]
    return blocks


def help_text(unknown: str | None = None) -> str:
    """The plain-text fallback of the help overview."""
    prefix = f"I don't know `{escape(unknown[:50])}` yet. " if unknown else ""
    today = ", ".join(f"{where} ({what})" for where, what in AVAILABLE)
    return f"{prefix}Doughnut today: {today}. {COMING_TEXT}"


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


@cache
def short_help() -> dict[str, Any]:
    """The answer to a DM or a mention: I can't answer questions yet, and what I can do."""
    intro = "Hi! I can't answer questions yet. What works today:"
    lines = [f"• {where}: {what}" for where, what in AVAILABLE]
    text = f"{intro} " + "; ".join(f"{where}: {what}" for where, what in AVAILABLE) + "."
    return message(text, [section("\n".join([intro, *lines])), context(COMING_TEXT)])


async def show_help(ack: AsyncAck, **_: Any) -> None:
    await ack(**help_reply())


async def open_help_modal(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
    await client.views_open(trigger_id=body["trigger_id"], view=help_modal())
    await ack()


async def answer_with_short_help(event: dict[str, Any], context: AsyncBoltContext) -> None:
    """A DM to the bot or a mention of it: reply (in the thread, for a mention) with short help."""
    channel = event.get("channel")
    if not channel or event.get("subtype") not in PERSON_SUBTYPES:
        return
    payload: dict[str, Any] = {"channel": channel, **short_help()}
    # In a channel, the answer goes in the mention's thread; in a DM, where it was written.
    mention = event["type"] == "app_mention"
    thread_ts = event.get("thread_ts") or (event.get("ts") if mention else None)
    if thread_ts:
        payload["thread_ts"] = thread_ts
    uow: UnitOfWork = context["uow"]
    await uow.deliver("chat.postMessage", payload, channel=channel)


def register(app: AsyncApp, deps: Deps, subcommands: Any) -> None:
    subcommands.add("help", show_help)
    app.action(HOME_HELP_ACTION)(open_help_modal)
    # `channel_type` makes this the `message.im` subscription: DMs to the app, nothing else.
    app.event({"type": "message", "channel_type": "im"})(answer_with_short_help)
    app.event("app_mention")(answer_with_short_help)
