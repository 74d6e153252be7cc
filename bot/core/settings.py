"""Workspace settings: the idea reaction (which emoji proposes a message as a lesson), and the
kudos emoji, daily allowance and whether a kudos needs a reason."""

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

KUDOS_EMOJI = "kudos_emoji"
DEFAULT_KUDOS_EMOJI = "doughnut"
KUDOS_ALLOWANCE = "kudos_allowance"
DEFAULT_KUDOS_ALLOWANCE = 5
MAX_KUDOS_ALLOWANCE = 50
KUDOS_REASON_REQUIRED = "kudos_reason_required"
BAD_ALLOWANCE = f"A whole number of kudos a day, from 1 to {MAX_KUDOS_ALLOWANCE}."
SAME_EMOJI = "The kudos emoji must differ from the idea reaction: one emoji, one meaning."


@dataclass(frozen=True)
class KudosSettings:
    """How kudos work in a workspace."""

    emoji: str = DEFAULT_KUDOS_EMOJI
    allowance: int = DEFAULT_KUDOS_ALLOWANCE
    reason_required: bool = True


@dataclass(frozen=True)
class SettingsForm:
    """The settings modal as typed: checked whole, stored whole."""

    idea_reaction: str
    kudos_emoji: str
    kudos_allowance: str
    reason_required: bool


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


def read_allowance(text: str) -> int | None:
    text = text.strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_KUDOS_ALLOWANCE:
        return None
    return int(text)


def _kudos_settings(stored: dict) -> KudosSettings:
    emoji = stored.get(KUDOS_EMOJI)
    allowance = stored.get(KUDOS_ALLOWANCE)
    required = stored.get(KUDOS_REASON_REQUIRED)
    return KudosSettings(
        emoji=emoji if isinstance(emoji, str) and emoji else DEFAULT_KUDOS_EMOJI,
        allowance=allowance
        if isinstance(allowance, int) and 1 <= allowance <= MAX_KUDOS_ALLOWANCE
        else DEFAULT_KUDOS_ALLOWANCE,
        reason_required=required if isinstance(required, bool) else True,
    )


async def kudos_settings(uow: UnitOfWork) -> KudosSettings:
    """The workspace's kudos emoji, daily allowance and reason rule (a read: no write lock)."""
    async with uow.reading() as (session, _):
        return _kudos_settings(await store.read_settings(session, uow.install_key))


async def kudos_settings_in_transaction(uow: UnitOfWork) -> KudosSettings:
    """The same, from the workspace the unit of work already loaded (no query of its own)."""
    return _kudos_settings(dict((await uow.workspace()).settings or {}))


async def kudos_emoji(uow: UnitOfWork) -> str:
    return (await kudos_settings(uow)).emoji


def check_form(form: SettingsForm) -> dict[str, str]:
    """Errors by field name (idea_reaction, kudos_emoji, kudos_allowance); empty when valid."""
    errors: dict[str, str] = {}
    idea, kudos = normalize_emoji(form.idea_reaction), normalize_emoji(form.kudos_emoji)
    if idea is None:
        errors["idea_reaction"] = BAD_EMOJI
    if kudos is None:
        errors["kudos_emoji"] = BAD_EMOJI
    elif kudos == idea:
        errors["kudos_emoji"] = SAME_EMOJI
    if read_allowance(form.kudos_allowance) is None:
        errors["kudos_allowance"] = BAD_ALLOWANCE
    return errors


async def save_settings(uow: UnitOfWork, form: SettingsForm, admin: Admin) -> dict[str, str]:
    """Store the whole form; the errors by field (nothing stored), or empty once stored."""
    if not admin.may_change:
        raise PermissionError(admin.user_id)
    errors = check_form(form)
    if errors:
        return errors
    workspace = await uow.workspace()
    store.put_setting(workspace, IDEA_REACTION, normalize_emoji(form.idea_reaction))
    store.put_setting(workspace, KUDOS_EMOJI, normalize_emoji(form.kudos_emoji))
    store.put_setting(workspace, KUDOS_ALLOWANCE, read_allowance(form.kudos_allowance))
    store.put_setting(workspace, KUDOS_REASON_REQUIRED, form.reason_required)
    return {}


async def set_idea_reaction(uow: UnitOfWork, text: str, admin: Admin) -> str | None:
    """Store the idea reaction; the error to show under the field, or None once stored."""
    if not admin.may_change:
        raise PermissionError(admin.user_id)
    name = normalize_emoji(text)
    if name is None:
        return BAD_EMOJI
    store.put_setting(await uow.workspace(), IDEA_REACTION, name)
    return None
