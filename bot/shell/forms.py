"""Modal fields: which inputs a modal asks for, and the view state Slack sends for answers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.shell import render


class Cancelled(Exception):
    """The person typed :cancel (or the input ended) in a modal."""


@dataclass(frozen=True)
class Directory:
    """Who and where an answer can name: lower-case names to ids, and the lists to suggest."""

    users: dict[str, str]
    channels: dict[str, str]
    member_list: str  # "@ana @ben …"
    channel_list: str  # "#general …": the channels the person can see


def inputs(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        b
        for b in view.get("blocks") or []
        if b.get("type") == "input" and isinstance(b.get("element"), dict) and b.get("block_id")
    ]


def options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    return options


def _pick(options: list[dict[str, Any]], answer: str) -> dict[str, Any]:
    if answer.isdigit() and 1 <= int(answer) <= len(options):
        return options[int(answer) - 1]
    for option in options:
        if render.plain(option.get("text")).lower() == answer.lower():
            return option
    raise ValueError(f"Pick a number from 1 to {len(options)}.")


_EMPTY_KEYS = {
    "multi_users_select": ("selected_users", []),
    "multi_conversations_select": ("selected_conversations", []),
    "multi_channels_select": ("selected_channels", []),
    "multi_static_select": ("selected_options", []),
    "checkboxes": ("selected_options", []),
    "users_select": ("selected_user", None),
    "conversations_select": ("selected_conversation", None),
    "channels_select": ("selected_channel", None),
    "static_select": ("selected_option", None),
    "radio_buttons": ("selected_option", None),
    "datepicker": ("selected_date", None),
    "timepicker": ("selected_time", None),
}


def empty_state(kind: str) -> dict[str, Any]:
    """An optional field left empty, as Slack sends it."""
    key, empty = _EMPTY_KEYS.get(kind, ("value", None))
    return {"type": kind, key: empty}


def field_state(
    kind: str,
    element: dict[str, Any],
    text: str,
    options: list[dict[str, Any]],
    names: Directory,
) -> dict[str, Any]:
    """The view state Slack would send for an answer; ValueError says what to type."""
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        limit = element.get("max_length")
        if limit and len(text) > int(limit):
            raise ValueError(f"At most {limit} characters, please.")
        if kind == "number_input":
            float(text)  # ValueError if it isn't a number
        return {"type": kind, "value": text}
    if kind in ("multi_users_select", "users_select"):
        ids = [names.users.get(n.lstrip("@").lower()) for n in re.split(r"[\s,]+", text) if n]
        if None in ids or not ids:
            raise ValueError(f"Type members as @name. Members: {names.member_list}")
        if kind == "users_select":
            return {"type": kind, "selected_user": ids[0]}
        return {"type": kind, "selected_users": list(dict.fromkeys(ids))}
    if kind in (
        "conversations_select",
        "channels_select",
        "multi_conversations_select",
        "multi_channels_select",
    ):
        ids = [names.channels.get(n.lstrip("#").lower()) for n in re.split(r"[\s,]+", text) if n]
        if None in ids or not ids:
            raise ValueError(f"Type a channel as #name. Channels: {names.channel_list}")
        key = "conversation" if "conversation" in kind else "channel"
        if kind.startswith("multi_"):
            return {"type": kind, f"selected_{key}s": ids}
        return {"type": kind, f"selected_{key}": ids[0]}
    if kind in ("static_select", "radio_buttons", "multi_static_select", "checkboxes"):
        chosen = [_pick(options, part) for part in re.split(r"[\s,]+", text) if part]
        if kind in ("static_select", "radio_buttons"):
            return {"type": kind, "selected_option": chosen[0]}
        return {"type": kind, "selected_options": chosen}
    if kind == "datepicker":
        datetime.strptime(text, "%Y-%m-%d")  # ValueError if not a date
        return {"type": kind, "selected_date": text}
    if kind == "timepicker":
        datetime.strptime(text, "%H:%M")
        return {"type": kind, "selected_time": text}
    raise ValueError(f"The shell can't fill a {kind}; leave it empty.")
