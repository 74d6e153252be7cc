"""The contribution ledger: what each member gave the community, over a period.

Breadth, not points: kudos received (and from how many people, in how many channels), kudos
given, lessons written and validated, reuse of their lessons by others, reviews done, peer
assists given, and the community roles they hold. `ledger` is the one entry point for every
surface (the profile, the report, `doughnut export contributions`, digests, community health);
`/doughnut report` is for a community's coordinators and sponsors only (`permissions`).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import permissions
from bot.core.communities import CommunityView, view_of
from bot.timezones import is_known_timezone
from storage import communities as community_queries
from storage import contributions as queries
from storage.contributions import LedgerScope, RoleHeld

if TYPE_CHECKING:
    from bot.unit_of_work import UnitOfWork

PROFILE_DAYS = 90
# `/doughnut report` with no period: the last calendar month.
DEFAULT_PERIOD = "last-month"
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})")
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


@dataclass(frozen=True)
class Period:
    """`[since, until)` in UTC (either end open when None), and how people call it."""

    since: datetime | None
    until: datetime | None
    label: str
    first_day: date | None = None
    last_day: date | None = None  # inclusive, as people say it


@dataclass(frozen=True)
class Contribution:
    """One member's figures over one period (zero where nothing counted)."""

    user_id: str
    name: str = ""
    kudos_received: int = 0
    kudos_givers: int = 0
    kudos_channels: int = 0
    kudos_given: int = 0
    lessons_written: int = 0
    lessons_validated: int = 0
    lesson_reuses: int = 0
    reviews: int = 0
    assists_given: int = 0
    roles: tuple[RoleHeld, ...] = ()

    @property
    def contributed(self) -> bool:
        """Lessons, reviews or assists: work others benefit from."""
        return bool(
            self.lessons_written or self.lessons_validated or self.reviews or self.assists_given
        )

    @property
    def unrecognised(self) -> bool:
        """The fairness signal: contributed in the period, yet no kudos for it."""
        return self.contributed and self.kudos_received == 0


# ---- periods --------------------------------------------------------------------------------


def _zone(timezone: str) -> ZoneInfo:
    return ZoneInfo(timezone if is_known_timezone(timezone) else "UTC")


def days_period(first: date, last: date, timezone: str = "UTC") -> Period:
    """From the start of `first` to the end of `last` (inclusive), local midnights in `timezone`."""
    zone = _zone(timezone)
    since = datetime.combine(first, time(), zone)
    until = datetime.combine(last + timedelta(days=1), time(), zone)
    return Period(since, until, f"{first.isoformat()}..{last.isoformat()}", first, last)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def parse_period(text: str, now: datetime, timezone: str = "UTC") -> Period | None:
    """`last-month`, `last-quarter` (calendar, before today in `timezone`), or
    `YYYY-MM-DD..YYYY-MM-DD` (both days included); None when it is none of them."""
    words = text.strip().lower() or DEFAULT_PERIOD
    today = now.astimezone(_zone(timezone)).date()
    if words == "last-month":
        this_month = _month_start(today)
        first = _month_start(this_month - timedelta(days=1))
        return days_period(first, this_month - timedelta(days=1), timezone)
    if words == "last-quarter":
        quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        last = quarter_start - timedelta(days=1)
        first = date(last.year, 3 * ((last.month - 1) // 3) + 1, 1)
        return days_period(first, last, timezone)
    found = _RANGE.fullmatch(words)
    if found is None:
        return None
    try:
        first, last = (date.fromisoformat(d) for d in found.groups())
    except ValueError:
        return None
    if last < first:
        return None
    return days_period(first, last, timezone)


def last_days(now: datetime, days: int = PROFILE_DAYS) -> Period:
    return Period(now - timedelta(days=days), now, f"last {days} days")


ALL_TIME = Period(None, None, "all time")


# ---- the ledger ------------------------------------------------------------------------------


async def ledger(
    session: AsyncSession,
    workspace_id: int,
    period: Period,
    *,
    community_id: int | None = None,
    user_ids: tuple[str, ...] | None = None,
) -> tuple[Contribution, ...]:
    """Every member with a figure or a role in the scope (or just `user_ids`, zeros included),
    by name then id: one grouped query per figure set."""
    scope = LedgerScope(workspace_id, period.since, period.until, community_id, user_ids)
    received = await queries.kudos_received(session, scope)
    given = await queries.kudos_given(session, scope)
    written = await queries.lessons_written(session, scope)
    validated = await queries.lessons_validated(session, scope)
    reused = await queries.lesson_reuse(session, scope)
    reviews = await queries.reviews_done(session, scope)
    assists = await queries.assists_given(session, scope)
    roles = await queries.roles_held(session, scope)
    people = set(user_ids or ())
    for figures in (received, given, written, validated, reused, reviews, assists, roles):
        people.update(figures)
    names = await queries.member_names(session, workspace_id, people)
    rows = []
    for user_id in people:
        kudos = received.get(user_id)
        rows.append(
            Contribution(
                user_id=user_id,
                name=names.get(user_id, ""),
                kudos_received=kudos.count if kudos else 0,
                kudos_givers=kudos.givers if kudos else 0,
                kudos_channels=kudos.channels if kudos else 0,
                kudos_given=given.get(user_id, 0),
                lessons_written=written.get(user_id, 0),
                lessons_validated=validated.get(user_id, 0),
                lesson_reuses=reused.get(user_id, 0),
                reviews=reviews.get(user_id, 0),
                assists_given=assists.get(user_id, 0),
                roles=tuple(roles.get(user_id, ())),
            )
        )
    return tuple(sorted(rows, key=lambda r: (r.name.casefold() or "\uffff", r.user_id)))


# ---- the profile -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """A member's contributions over the last days and all time, and the roles they hold."""

    user_id: str
    recent: Contribution
    all_time: Contribution
    days: int = PROFILE_DAYS

    @property
    def roles(self) -> tuple[RoleHeld, ...]:
        return self.all_time.roles


def parse_member(text: str) -> str | None:
    """The one member named by `<@U…|name>` or `<@U…>` (as Slack escapes a mention)."""
    found = _USER.fullmatch(text.strip())
    return found.group(1) if found else None


async def profile(
    uow: UnitOfWork, user_id: str, viewer_id: str, days: int = PROFILE_DAYS
) -> Profile:
    """`user_id`'s contributions across the workspace, as `viewer_id` may see them: the last
    `days` days and all time; a role in a private community only to someone who holds one
    there too (the figures are counts: they tell nothing of where)."""
    now = uow.deps.clock.now()
    async with uow.reading() as (session, workspace):
        if workspace is None:
            empty = Contribution(user_id)
            return Profile(user_id, empty, empty, days)
        (recent,) = await ledger(session, workspace.id, last_days(now, days), user_ids=(user_id,))
        (all_time,) = await ledger(session, workspace.id, ALL_TIME, user_ids=(user_id,))
        if viewer_id != user_id and any(r.is_private for r in all_time.roles):
            scope = LedgerScope(workspace.id, user_ids=(viewer_id,))
            held = (await queries.roles_held(session, scope)).get(viewer_id, [])
            inside = {r.community_id for r in held}
            shown = tuple(r for r in all_time.roles if not r.is_private or r.community_id in inside)
            all_time = replace(all_time, roles=shown)
    return Profile(user_id, recent, all_time, days)


async def recent(uow: UnitOfWork, user_id: str, days: int = PROFILE_DAYS) -> Contribution:
    """`user_id`'s own figures over the last `days` days (the Home tab's line)."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return Contribution(user_id)
        period = last_days(uow.deps.clock.now(), days)
        (figures,) = await ledger(session, workspace.id, period, user_ids=(user_id,))
    return figures


# ---- the report ------------------------------------------------------------------------------


class ReportVerdict(enum.Enum):
    READY = "ready"
    BAD_PERIOD = "bad_period"
    NOT_A_COMMUNITY = "not_a_community"
    LEADS_ONLY = "leads_only"


@dataclass(frozen=True)
class Report:
    """The ledger of a community for a period, or why there is none for this person."""

    verdict: ReportVerdict
    community: CommunityView | None = None
    period: Period | None = None
    rows: tuple[Contribution, ...] = ()


async def report(uow: UnitOfWork, user_id: str, channel_id: str, text: str) -> Report:
    """The channel's community's ledger for the period in `text`, for its coordinators and
    sponsors; others are refused (nothing is read for them)."""
    async with uow.reading() as (session, workspace):
        found = None
        if workspace is not None:
            found = await community_queries.community_in_channel(session, workspace.id, channel_id)
        if workspace is None or found is None:
            return Report(ReportVerdict.NOT_A_COMMUNITY)
        community = view_of(found)
        if not permissions.may_see_ledger(community, user_id):
            return Report(ReportVerdict.LEADS_ONLY, community)
        period = parse_period(text, uow.deps.clock.now(), community.timezone)
        if period is None:
            return Report(ReportVerdict.BAD_PERIOD, community)
        rows = await ledger(session, workspace.id, period, community_id=community.id)
    return Report(ReportVerdict.READY, community, period, rows)


def short_summary(figures: Contribution) -> str:
    """One plain line for the Home tab (numbers only: nothing typed by anyone)."""
    people = "person" if figures.kudos_givers == 1 else "people"
    lessons = "lesson" if figures.lessons_written == 1 else "lessons"
    reviews = "review" if figures.reviews == 1 else "reviews"
    return (
        f"{figures.kudos_received} kudos from {figures.kudos_givers} {people}, "
        f"{figures.lessons_written} {lessons} written, {figures.lesson_reuses} reused by others, "
        f"{figures.reviews} {reviews}, {figures.assists_given} peer assists given"
    )
