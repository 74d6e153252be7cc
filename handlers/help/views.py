"""Help's Block Kit: the overview in an ephemeral, a modal, and a short answer (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.blocks import (
    Block,
    context,
    divider,
    ephemeral,
    header,
    message,
    plain,
    section,
    sections,
)
from bot.registry import HelpEntry, Registry
from bot.text import escape

# Help's own line comes last: what the other capabilities registered comes first.
HELP_ITSELF = HelpEntry("`/doughnut help`", "this overview")


@dataclass(frozen=True)
class HelpContent:
    """What help says: what works today (registered), and what is still to come."""

    available: tuple[HelpEntry, ...]
    coming_text: str

    @classmethod
    def of(cls, registry: Registry) -> HelpContent:
        return cls((*registry.help, HELP_ITSELF), registry.coming_text)


def _coming(content: HelpContent) -> list[Block]:
    return [context(content.coming_text)] if content.coming_text else []


def help_blocks(content: HelpContent, unknown: str | None = None) -> list[Block]:
    """The help overview; `unknown` is a subcommand we did not understand, echoed safely."""
    blocks: list[Block] = [header("Doughnut: your community's knowledge loop")]
    if unknown:
        said = escape(unknown[:50])
        blocks.append(section(f"I don't know `{said}` yet, so here is what I can do."))
    lines = [f"• {e.where}: {e.what}" for e in content.available]
    blocks += [*sections(lines, "What works today"), divider(), *_coming(content)]
    return blocks


def help_text(content: HelpContent, unknown: str | None = None) -> str:
    """The plain-text fallback of the help overview."""
    prefix = f"I don't know `{escape(unknown[:50])}` yet. " if unknown else ""
    today = ", ".join(f"{e.where} ({e.what})" for e in content.available)
    return f"{prefix}Doughnut today: {today}. {content.coming_text}".rstrip()


def help_reply(content: HelpContent, unknown: str | None = None) -> dict[str, Any]:
    """The ephemeral help ack."""
    return ephemeral(help_text(content, unknown), help_blocks(content, unknown))


def help_modal(content: HelpContent) -> dict[str, Any]:
    """The same overview in a modal (from the Home tab's Help button)."""
    return {
        "type": "modal",
        "title": plain("Doughnut help"),
        "close": plain("Close"),
        "blocks": help_blocks(content),
    }


def short_help(content: HelpContent) -> dict[str, Any]:
    """The answer to a DM: what I can do today (questions go to a mention in a channel)."""
    intro = "Hi! Ask me a question by mentioning @Doughnut in a channel. What works today:"
    lines = [f"• {e.where}: {e.what}" for e in content.available]
    text = f"{intro} " + "; ".join(f"{e.where}: {e.what}" for e in content.available) + "."
    return message(text, [*sections([intro, *lines]), *_coming(content)])
