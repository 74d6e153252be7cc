"""Workspace settings: the idea reaction (which emoji proposes a message as a lesson)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.unit_of_work import UnitOfWork
from storage import settings as store

IDEA_REACTION = "idea_reaction"
DEFAULT_IDEA_REACTION = "bulb"
MAX_EMOJI = 100
_EMOJI = re.compile(r"[a-z0-9_+'\-]+")

BAD_EMOJI = "An emoji name: letters, digits, _ - + ' only (like star or thumbsup), at most 100."


@dataclass(frozen=True)
class Admin:
    """What Slack says about someone: only workspace admins and owners may change settings."""

    user_id: str
    may_change: bool


def normalize_emoji(text: str) -> str | None:
    """`:Star:` → `star`; None when it is not an emoji name."""
    name = text.strip().strip(":").strip().lower()
    if not name or len(name) > MAX_EMOJI or not _EMOJI.fullmatch(name):
        return None
    return name


async def idea_reaction(uow: UnitOfWork) -> str:
    """The workspace's idea reaction (a read: takes no write lock)."""
    async with uow.reading() as (session, _):
        value = (await store.read_settings(session, uow.install_key)).get(IDEA_REACTION)
    return value if isinstance(value, str) and value else DEFAULT_IDEA_REACTION


async def set_idea_reaction(uow: UnitOfWork, text: str, admin: Admin) -> str | None:
    """Store the idea reaction; the error to show under the field, or None once stored."""
    if not admin.may_change:
        raise PermissionError(admin.user_id)
    name = normalize_emoji(text)
    if name is None:
        return BAD_EMOJI
    store.put_setting(await uow.workspace(), IDEA_REACTION, name)
    return None
