"""Text typed into the shell as Slack puts it on the wire."""

from __future__ import annotations

import re

_AT_NAME = re.compile(r"(?<![\w<@])@([a-z0-9][a-z0-9._-]*)", re.IGNORECASE)
_HASH_NAME = re.compile(r"(?<![\w<#&])#([a-z0-9][a-z0-9_-]*)", re.IGNORECASE)
_SPECIAL = {"here", "channel", "everyone"}


def slack_text(
    text: str,
    users: dict[str, str],
    channels: dict[str, str],
    *,
    command: bool,
) -> str:
    """What Slack sends for typed text: `&<>` escaped, known `@name` / `#channel` as links.

    `users` and `channels` map names to ids. Commands declared with `should_escape` get
    `<@U…|name>`; messages carry `<@U…>`.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def user(match: re.Match[str]) -> str:
        name = match.group(1).rstrip(".")
        rest = match.group(1)[len(name) :]
        if name.lower() in _SPECIAL:
            return f"<!{name.lower()}>{rest}"
        user_id = users.get(name.lower())
        if user_id is None:
            return match.group(0)
        return (f"<@{user_id}|{name}>" if command else f"<@{user_id}>") + rest

    def channel(match: re.Match[str]) -> str:
        name = match.group(1)
        channel_id = channels.get(name.lower())
        return f"<#{channel_id}|{name}>" if channel_id else match.group(0)

    return _HASH_NAME.sub(channel, _AT_NAME.sub(user, escaped))
