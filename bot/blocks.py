"""Small pure helpers for Block Kit, the ones every form and message needs: plain dicts out."""

from __future__ import annotations

from datetime import date
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


# Slack refuses a section whose text is longer than this.
SECTION_TEXT_MAX = 3000


def sections(lines: list[str], title: str | None = None) -> list[Block]:
    """Lines (a titled list) in as few sections as fit Slack's 3,000 characters each."""
    blocks: list[Block] = []
    current = f"*{title}*" if title else ""
    for line in lines:
        if current and len(current) + 1 + len(line) > SECTION_TEXT_MAX:
            blocks.append(section(current))
            current = line[:SECTION_TEXT_MAX]
        else:
            current = f"{current}\n{line}" if current else line[:SECTION_TEXT_MAX]
    if current:
        blocks.append(section(current))
    return blocks


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


# ---- Forms: inputs, modals, field errors, and reading a submission ----------------------------


def _input(
    block_id: str,
    label: str,
    element: Block,
    *,
    optional: bool | None = None,
    hint: str | None = None,
    dispatch_action: bool = False,
) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "label": plain(label)}
    if dispatch_action:
        block["dispatch_action"] = True
    block["element"] = element
    if optional is not None:
        block["optional"] = optional
    if hint:
        block["hint"] = plain(hint)
    return block


def text_input(
    block_id: str,
    action_id: str,
    label: str,
    value: str = "",
    *,
    multiline: bool = False,
    optional: bool = False,
    max_length: int | None = None,
    hint: str | None = None,
) -> Block:
    """A plain text field, prefilled with `value` (plain text: Slack shows it as typed)."""
    element: Block = {"type": "plain_text_input", "action_id": action_id, "multiline": multiline}
    if value:
        element["initial_value"] = value
    if max_length:
        element["max_length"] = max_length
    return _input(block_id, label, element, optional=optional, hint=hint)


def users_input(
    block_id: str,
    action_id: str,
    label: str,
    users: list[str] | tuple[str, ...] = (),
    *,
    optional: bool = False,
    hint: str | None = None,
) -> Block:
    """Pick several members."""
    element: Block = {"type": "multi_users_select", "action_id": action_id}
    if users:
        element["initial_users"] = list(users)
    return _input(block_id, label, element, optional=optional, hint=hint)


def channel_input(
    block_id: str,
    action_id: str,
    label: str,
    *,
    channel: str | None = None,
    hint: str | None = None,
    dispatch_action: bool = False,
) -> Block:
    """Pick one channel, public or private, never a shared one or a DM."""
    element: Block = {
        "type": "conversations_select",
        "action_id": action_id,
        "filter": {
            "include": ["public", "private"],
            "exclude_bot_users": True,
            "exclude_external_shared_channels": True,
        },
    }
    if channel:
        element["initial_conversation"] = channel
    return _input(block_id, label, element, hint=hint, dispatch_action=dispatch_action)


def select_input(
    block_id: str,
    action_id: str,
    label: str,
    options: list[tuple[str, str]],
    *,
    selected: str | None = None,
    optional: bool = False,
    hint: str | None = None,
) -> Block:
    """Pick one of `options`, given as (value, label) pairs."""
    choices = [{"text": plain(text[:75]), "value": value} for value, text in options]
    element: Block = {"type": "static_select", "action_id": action_id, "options": choices}
    chosen = [c for c in choices if c["value"] == selected]
    if chosen:
        element["initial_option"] = chosen[0]
    return _input(block_id, label, element, optional=optional, hint=hint)


def date_input(
    block_id: str,
    action_id: str,
    label: str,
    *,
    initial: date | None = None,
    optional: bool = False,
    hint: str | None = None,
) -> Block:
    """Pick a date."""
    element: Block = {"type": "datepicker", "action_id": action_id}
    if initial:
        element["initial_date"] = initial.isoformat()
    return _input(block_id, label, element, optional=optional, hint=hint)


def notice_modal(
    text: str, title: str = "Doughnut", *, external_id: str | None = None
) -> dict[str, Any]:
    """A modal that only says something (a refusal, a wait), with a Close button."""
    view: dict[str, Any] = {
        "type": "modal",
        "title": plain(title),
        "close": plain("Close"),
        "blocks": [section(text)],
    }
    if external_id:
        view["external_id"] = external_id
    return view


def field_errors(errors: dict[str, str]) -> dict[str, Any]:
    """The ack that shows errors under the fields (block id → plain text) and keeps the form."""
    return {"response_action": "errors", "errors": errors}


class FormValues:
    """What a submitted form holds (`view.state.values`), read without trusting its shape."""

    def __init__(self, values: dict[str, Any] | None) -> None:
        self._values = values if isinstance(values, dict) else {}

    def _element(self, block_id: str, action_id: str) -> dict[str, Any]:
        element = (self._values.get(block_id) or {}).get(action_id)
        return element if isinstance(element, dict) else {}

    def text(self, block_id: str, action_id: str) -> str:
        value = self._element(block_id, action_id).get("value")
        return value.strip() if isinstance(value, str) else ""

    def users(self, block_id: str, action_id: str) -> list[str]:
        users = self._element(block_id, action_id).get("selected_users")
        return [u for u in users if isinstance(u, str)] if isinstance(users, list) else []

    def conversation(self, block_id: str, action_id: str) -> str | None:
        channel = self._element(block_id, action_id).get("selected_conversation")
        return channel if isinstance(channel, str) and channel else None

    def option(self, block_id: str, action_id: str) -> str | None:
        option = self._element(block_id, action_id).get("selected_option")
        value = option.get("value") if isinstance(option, dict) else None
        return value if isinstance(value, str) else None

    def date(self, block_id: str, action_id: str) -> date | None:
        value = self._element(block_id, action_id).get("selected_date")
        try:
            return date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None


def truncated(items: list[Block], room: int) -> list[Block]:
    """At most `room` blocks: the first items, then "and N more" for the rest."""
    if len(items) <= room:
        return items
    if room <= 0:
        return []
    shown = items[: room - 1]
    return [*shown, context(f"_and {len(items) - len(shown)} more_")]
