"""Communities: what a valid setup is, who may change one, saving it, and who sees which."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.timezones import is_known_timezone, suggest_timezones
from storage import communities as queries
from storage.models import Community, RoleName

if TYPE_CHECKING:
    from bot.unit_of_work import UnitOfWork

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


@dataclass(frozen=True)
class CommunityView:
    """A community as the surfaces show it (plain data: safe once the session is gone)."""

    id: int
    name: str
    channel_id: str
    description: str
    timezone: str
    is_private: bool
    coordinators: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    sponsors: tuple[str, ...] = ()
    # Why scheduled posts stopped here (channel archived, bot removed); None while active.
    paused_reason: str | None = None

    @property
    def paused(self) -> bool:
        return self.paused_reason is not None

    def roles_of(self, user_id: str) -> tuple[str, ...]:
        """The roles `user_id` holds here, by name, sorted."""
        held = (
            (RoleName.COORDINATOR, self.coordinators),
            (RoleName.REVIEWER, self.reviewers),
            (RoleName.SPONSOR, self.sponsors),
        )
        return tuple(sorted(role.value for role, holders in held if user_id in holders))

    @property
    def form(self) -> SetupForm:
        """The setup form prefilled with this community."""
        return SetupForm(
            name=self.name,
            description=self.description,
            timezone=self.timezone,
            coordinators=list(self.coordinators),
            reviewers=list(self.reviewers),
            sponsors=list(self.sponsors),
        )


def view_of(community: Community) -> CommunityView:
    return CommunityView(
        id=community.id,
        name=community.name,
        channel_id=community.channel_id,
        description=community.description,
        timezone=community.timezone,
        is_private=community.is_private,
        coordinators=tuple(community.holders(RoleName.COORDINATOR)),
        reviewers=tuple(community.holders(RoleName.REVIEWER)),
        sponsors=tuple(community.holders(RoleName.SPONSOR)),
        paused_reason=community.paused_reason if community.paused_at is not None else None,
    )


# ---- Rules -------------------------------------------------------------------------------------


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


def may_edit(community: CommunityView, user_id: str) -> bool:
    """Only a community's coordinators may change it."""
    return user_id in community.coordinators


class SetupVerdict(enum.Enum):
    CREATE = "create"
    EDIT = "edit"
    COORDINATORS_ONLY = "coordinators_only"
    ALREADY_A_COMMUNITY = "already_a_community"


def setup_verdict(existing: CommunityView | None, user_id: str, *, editing: bool) -> SetupVerdict:
    """May this person set up the channel (`existing`: its community, if any)?

    `editing` says the form showed the existing community; a form for a new one must never
    overwrite a community it did not show.
    """
    if existing is None:
        return SetupVerdict.CREATE
    if not may_edit(existing, user_id):
        return SetupVerdict.COORDINATORS_ONLY
    return SetupVerdict.EDIT if editing else SetupVerdict.ALREADY_A_COMMUNITY


def communities_for(
    user_id: str, communities: list[CommunityView], member_of: frozenset[str] | set[str]
) -> tuple[list[CommunityView], list[CommunityView]]:
    """A member's communities (a role, or in the channel) and the public ones they could join.

    A private community is never shown to someone outside it.
    """
    mine = [c for c in communities if c.channel_id in member_of or c.roles_of(user_id)]
    others = [c for c in communities if c not in mine and not c.is_private]
    return mine, others


# ---- Services ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupOpening:
    """What the setup form shows for a channel: `verdict` says whether it is a form at all."""

    verdict: SetupVerdict
    form: SetupForm
    community: CommunityView | None = None


async def open_setup(
    uow: UnitOfWork, user_id: str, channel_id: str, *, user_timezone: str | None
) -> SetupOpening:
    """The form for a channel: its community's, a new one's, or why this person can't."""
    async with uow.reading() as (session, workspace):
        found = None
        if workspace is not None:
            found = await queries.community_in_channel(session, workspace.id, channel_id)
        existing = view_of(found) if found is not None else None
    verdict = setup_verdict(existing, user_id, editing=existing is not None)
    if existing is not None:
        return SetupOpening(verdict, existing.form, existing)
    if not is_known_timezone(user_timezone):
        user_timezone = uow.deps.settings.doughnut_timezone
    form = SetupForm(name="", description="", timezone=user_timezone, coordinators=[user_id])
    return SetupOpening(verdict, form)


@dataclass(frozen=True)
class SetupSaved:
    """The outcome of a submitted form: created, edited, or refused (then `community` says why)."""

    verdict: SetupVerdict
    community: CommunityView

    @property
    def saved(self) -> bool:
        return self.verdict in (SetupVerdict.CREATE, SetupVerdict.EDIT)


async def save_setup(
    uow: UnitOfWork,
    user_id: str,
    channel_id: str,
    form: SetupForm,
    *,
    editing: bool,
    is_private: bool,
) -> SetupSaved:
    """Create or update the channel's community, if this person may (`validate_setup` first)."""
    workspace = await uow.workspace()
    session = await uow.session()
    found = await queries.community_in_channel(session, workspace.id, channel_id)
    existing = view_of(found) if found is not None else None
    verdict = setup_verdict(existing, user_id, editing=editing)
    if existing is not None and verdict not in (SetupVerdict.CREATE, SetupVerdict.EDIT):
        return SetupSaved(verdict, existing)
    community = apply_setup(
        session,
        found,
        workspace_id=workspace.id,
        channel_id=channel_id,
        is_private=is_private,
        form=form,
        by_user=user_id,
        now=uow.deps.clock.now(),
    )
    await session.flush()
    return SetupSaved(verdict, view_of(community))


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
    return queries.save_community(
        session,
        community,
        workspace_id=workspace_id,
        channel_id=channel_id,
        is_private=is_private,
        name=form.name.strip(),
        description=form.description.strip(),
        timezone=form.timezone.strip(),
        roles={
            RoleName.COORDINATOR: form.coordinators,
            RoleName.REVIEWER: form.reviewers,
            RoleName.SPONSOR: form.sponsors,
        },
        by_user=by_user,
        now=now,
    )


async def welcome_member(uow: UnitOfWork, channel_id: str) -> CommunityView | None:
    """The community a member just joined, if the channel is one (they are welcomed to it)."""
    workspace = await uow.workspace()
    found = await queries.community_in_channel(await uow.session(), workspace.id, channel_id)
    return view_of(found) if found is not None else None


@dataclass(frozen=True)
class HomeCommunities:
    """A member's communities and the public ones they could join, by name."""

    user_id: str
    mine: tuple[CommunityView, ...]
    others: tuple[CommunityView, ...]


async def home_for(uow: UnitOfWork, user_id: str, member_of: frozenset[str]) -> HomeCommunities:
    """What a member's Home tab lists (`member_of`: their channels, as far as Slack said)."""
    workspace = await uow.workspace()
    found = await queries.communities_of_workspace(await uow.session(), workspace.id)
    mine, others = communities_for(user_id, [view_of(c) for c in found], member_of)
    return HomeCommunities(user_id, tuple(mine), tuple(others))


# ---- Paused communities: the channel is archived, or the bot was removed ---------------------

ARCHIVED = "the channel was archived"
REMOVED = "Doughnut was removed from the channel"


def is_paused(community: Community | CommunityView) -> bool:
    """No scheduled posts for a paused community (the scheduler and every job ask this)."""
    if isinstance(community, CommunityView):
        return community.paused
    return community.paused_at is not None


async def pause(uow: UnitOfWork, channel_id: str, reason: str) -> CommunityView | None:
    """Pause the channel's community; the view when it was active until now (tell its
    coordinators once), None when there is none or it was paused already."""
    workspace = await uow.workspace()
    return await pause_in(
        await uow.session(), workspace.id, channel_id, reason, uow.deps.clock.now()
    )


async def pause_in(
    session: AsyncSession, workspace_id: int, channel_id: str, reason: str, now: datetime
) -> CommunityView | None:
    """`pause` in a given transaction (the scheduler's, when a post bounced off an archive)."""
    community = await queries.community_in_channel(session, workspace_id, channel_id)
    if community is None or is_paused(community):
        return None
    community.paused_reason, community.paused_at = reason, now
    # Posts still queued for the channel stop too, with the reason.
    await queries.stop_deliveries(session, workspace_id, channel_id, f"paused: {reason}")
    return view_of(community)


@dataclass(frozen=True)
class Bounced:
    """A post Slack refused because the channel is archived (its delivery id, for a watermark)."""

    delivery_id: int
    workspace_id: int
    channel_id: str


async def bounced_off_archives(
    session: AsyncSession, after_id: int, since: datetime
) -> list[Bounced]:
    """Posts to active communities' channels that failed with `is_archived` since the last look
    (`channel_archive` may never come: a missed event, an archive while the bot was away)."""
    rows = await queries.archived_post_failures(session, after_id, since)
    return [Bounced(*row) for row in rows]


async def resume(uow: UnitOfWork, channel_id: str, reason: str) -> CommunityView | None:
    """Lift a pause for `reason` (unarchived, invited back); the view when it was lifted."""
    workspace = await uow.workspace()
    session = await uow.session()
    community = await queries.community_in_channel(session, workspace.id, channel_id)
    if community is None or community.paused_reason != reason:
        return None
    community.paused_reason, community.paused_at = None, None
    community.updated_at = uow.deps.clock.now()
    return view_of(community)


async def paused_for(uow: UnitOfWork, user_id: str) -> tuple[CommunityView, ...]:
    """The paused communities `user_id` coordinates (shown on their Home tab)."""
    workspace = await uow.workspace()
    found = await queries.paused_communities(await uow.session(), workspace.id)
    views = [view_of(c) for c in found]
    return tuple(v for v in views if user_id in v.coordinators)
