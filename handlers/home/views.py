"""The Home tab's frame (pure): what Doughnut is, quick actions, then each capability's section."""

from __future__ import annotations

from bot.blocks import Block, actions, button, context, header, section
from bot.registry import QuickAction

# Slack's limit for a Home tab: the sections share what the frame leaves.
HOME_MAX_BLOCKS = 100


def home_top(intros: list[str], coming_text: str, quick: list[QuickAction]) -> list[Block]:
    """The top of the Home tab, the same for everyone."""
    today = f" Today: {'; '.join(intros)}." if intros else ""
    blocks: list[Block] = [
        header("Doughnut"),
        section(f"Doughnut helps your communities of practice learn together.{today}"),
    ]
    if coming_text:
        blocks.append(context(coming_text))
    if quick:
        blocks.append(actions(*(button(q.label, q.action_id, style=q.style) for q in quick)))
    return blocks
