"""Text safety: user text is data. Escape it for mrkdwn; trust only parsed ids."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_SUBTEAM = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
# A tag starts after a space or the start, and is letters, digits, -, _ (not a channel link).
_TAG = re.compile(r"(?:(?<=\s)|^)#([\w][\w-]{0,49})", re.UNICODE)
_ANY_LINK = re.compile(r"<[^>]*>")


def escape(text: str) -> str:
    """Escape `&`, `<`, `>` so user text can't ping, link or fake a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Undo Slack's escaping of `&`, `<`, `>` (slash command text arrives escaped)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mention(user_id: str) -> str:
    """A user mention rebuilt from a parsed id."""
    if not re.fullmatch(r"[UW][A-Z0-9]+", user_id):
        raise ValueError(f"not a Slack user id: {user_id!r}")
    return f"<@{user_id}>"


def channel_link(channel_id: str) -> str:
    if not re.fullmatch(r"[CGD][A-Z0-9]+", channel_id):
        raise ValueError(f"not a Slack channel id: {channel_id!r}")
    return f"<#{channel_id}>"


@dataclass(frozen=True)
class ParsedText:
    """What a piece of user text refers to, and the words left once references are removed."""

    users: list[str] = field(default_factory=list)
    subteams: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    plain: str = ""


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def parse(text: str) -> ParsedText:
    """Parse mentions (`<@U…>`, `<@U…|name>`), user groups, channels and `#tags`."""
    users = _unique(_USER.findall(text))
    subteams = _unique(_SUBTEAM.findall(text))
    channels = _unique(m.group(1) for m in _CHANNEL.finditer(text))
    without_links = _ANY_LINK.sub(" ", text)
    tags = _unique(t.lower() for t in _TAG.findall(without_links))
    plain = _TAG.sub(" ", without_links)
    return ParsedText(
        users=users,
        subteams=subteams,
        channels=channels,
        tags=tags,
        plain=" ".join(plain.split()),
    )
