"""Community rules: what a valid setup is, who may edit one, and saving it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.timezones import is_known_timezone, suggest_timezones
from storage import communities as queries
from storage.models import Community, RoleName

NAME_MAX = 80
DESCRIPTION_MAX = 1000


@dataclass(frozen=True)
class SetupForm:
    name: str
    description: str
    timezone: str
    coordinators: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    sponsors: list[str] = field(default_factory=list)


class SetupField:
    """Which field an error belongs to (the handler maps these to block ids)."""

    NAME = "name"
    DESCRIPTION = "description"
    TIMEZONE = "timezone"
    COORDINATORS = "coordinators"


def validate_setup(form: SetupForm) -> dict[str, str]:
    """Field errors, empty when the form is fine."""
    errors: dict[str, str] = {}
    if not form.name.strip():
        errors[SetupField.NAME] = "Give the community a name, e.g. “Site Reliability”."
    elif len(form.name.strip()) > NAME_MAX:
        errors[SetupField.NAME] = f"Keep the name under {NAME_MAX} characters."
    if len(form.description) > DESCRIPTION_MAX:
        errors[SetupField.DESCRIPTION] = f"Keep the description under {DESCRIPTION_MAX} characters."
    if not is_known_timezone(form.timezone.strip()):
        errors[SetupField.TIMEZONE] = timezone_error(form.timezone)
    if not form.coordinators:
        errors[SetupField.COORDINATORS] = "Pick at least one coordinator (you can pick yourself)."
    return errors


def timezone_error(typed: str) -> str:
    """Plain text (Slack shows field errors as typed): the closest names, never the input."""
    guesses = suggest_timezones(typed)
    if not guesses:
        return "Use a timezone name like Europe/Paris or America/New_York."
    if len(guesses) == 1:
        return f"Did you mean {guesses[0]}? Use a full timezone name like that."
    return f"Did you mean {', '.join(guesses[:-1])} or {guesses[-1]}? Use a full timezone name."


def may_edit(community: Community, user_id: str) -> bool:
    """Only a community's coordinators may change it."""
    return user_id in community.holders(RoleName.COORDINATOR)


class SetupVerdict(enum.Enum):
    CREATE = "create"
    EDIT = "edit"
    COORDINATORS_ONLY = "coordinators_only"
    ALREADY_A_COMMUNITY = "already_a_community"


def setup_verdict(existing: Community | None, user_id: str, *, editing: bool) -> SetupVerdict:
    """May this person set up the channel (`existing`: its community, if any)?

    `editing` says the form showed the existing community; a form for a new one must never
    overwrite a community it did not show.
    """
    if existing is None:
        return SetupVerdict.CREATE
    if not may_edit(existing, user_id):
        return SetupVerdict.COORDINATORS_ONLY
    return SetupVerdict.EDIT if editing else SetupVerdict.ALREADY_A_COMMUNITY


def apply_setup(
    session: AsyncSession,
    community: Community | None,
    *,
    workspace_id: int,
    channel_id: str,
    is_private: bool,
    form: SetupForm,
    by_user: str,
    now: datetime,
) -> Community:
    """Create the community or update it, with its roles replaced by the form's."""
    if community is None:
        community = Community(
            workspace_id=workspace_id,
            channel_id=channel_id,
            created_by=by_user,
            created_at=now,
            settings={},
            roles=[],
        )
        session.add(community)
    community.is_private = is_private
    community.name = form.name.strip()
    community.description = form.description.strip()
    community.timezone = form.timezone.strip()
    community.updated_at = now
    queries.set_roles(community, RoleName.COORDINATOR, form.coordinators)
    queries.set_roles(community, RoleName.REVIEWER, form.reviewers)
    queries.set_roles(community, RoleName.SPONSOR, form.sponsors)
    return community


def communities_for(
    user_id: str, communities: list[Community], member_of: set[str]
) -> tuple[list[Community], list[Community]]:
    """A member's communities (a role, or in the channel) and the public ones they could join.

    A private community is never shown to someone outside it.
    """
    mine = [
        c
        for c in communities
        if c.channel_id in member_of or any(r.user_id == user_id for r in c.roles)
    ]
    others = [c for c in communities if c not in mine and not c.is_private]
    return mine, others
