"""Small pure helpers for Block Kit: every builder returns plain dicts."""

from __future__ import annotations

from typing import Any

Block = dict[str, Any]


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str, *, emoji: bool = True) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": emoji}


def section(text: str, *, block_id: str | None = None, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if block_id:
        block["block_id"] = block_id
    if accessory:
        block["accessory"] = accessory
    return block


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text[:150])}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts]}


def divider() -> Block:
    return {"type": "divider"}


def button(
    text: str, action_id: str, *, value: str | None = None, style: str | None = None
) -> Block:
    element: Block = {"type": "button", "text": plain(text[:75]), "action_id": action_id}
    if value is not None:
        element["value"] = value
    if style:
        element["style"] = style
    return element


def actions(*elements: Block, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id
    return block


def message(text: str, blocks: list[Block], **extra: Any) -> dict[str, Any]:
    """A message body: blocks plus the plain `text` fallback (notifications, screen readers)."""
    if not text.strip():
        raise ValueError("every Block Kit message needs a plain text fallback")
    return {"text": text, "blocks": blocks, **extra}


def lead_message(lead: str, blocks: list[Block], **extra: Any) -> dict[str, Any]:
    """A message opening with `lead` (mrkdwn, user text in it escaped) and the same `lead` as its
    `text` fallback: one source, so the fallback can't say what the blocks don't (or ping)."""
    return message(lead, [section(lead), *blocks], **extra)


def ephemeral(text: str, blocks: list[Block] | None = None) -> dict[str, Any]:
    """An ack body only the person who asked will see."""
    body: dict[str, Any] = {"response_type": "ephemeral", "text": text}
    if blocks:
        body["blocks"] = blocks
    return body
