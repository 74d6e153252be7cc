"""Community health: what a community did over a period, against the period before.

`health_of(session, workspace_id, communities, period)` is the one entry for every surface
(`/doughnut stats`, the Home tab, the digests): plain ids and a `Period` in, a frozen
`CommunityHealth` per community out. The figures, precisely (every instant in `[start, end)`):

- active members: distinct people who, in the community, captured a lesson, reviewed one
  (validate, needs work, retire), said they used one, took part in a peer assist as a helper
  (volunteered or accepted), gave kudos, or raised a knowledge gap;
- lessons captured (created), validated (a validate decision in the period, each lesson once),
  reused (distinct lessons someone said they used);
- median time to validation: from a lesson's capture to its first validation in the period;
- assists requested (created), completed (done, closed in the period), median time to match
  (from the request to its match, for those matched in the period);
- gaps opened, gaps answered (closed as answered in the period);
- proposals answered (a sponsor's decision in the period), median time to answer (from the
  proposal to the decision);
- recognition breadth: the distinct people recognised (kudos given in the community in the
  period), and the share of them recognised at least once outside their own channel, i.e. by a
  kudos given anywhere but the community's channel (another channel, a DM);
- a median of an even count is the mean of the two middle values; none when nothing counted;
- quiet: fewer than `QUIET_BELOW` (3) active members in the period; `missing_roles`: the
  roles (coordinator, reviewer, sponsor) nobody holds.

`figures_over` counts the same figures into any periods (the chart's twelve months, say),
reading each figure set once.
"""

from __future__ import annotations

import enum
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import permissions
from bot.core.communities import CommunityView, view_of
from bot.core.roles import support_of
from storage import communities as community_queries
from storage import health as queries
from storage.models import AssistStatus, GapStatus

if TYPE_CHECKING:
    from bot.unit_of_work import UnitOfWork

DEFAULT_DAYS = 30
MAX_DAYS = 366
# A community with fewer active members than this over the period is quiet.
QUIET_BELOW = 3
CHART_MONTHS = 12


@dataclass(frozen=True)
class Period:
    """A half-open span of time `[start, end)`."""

    start: datetime
    end: datetime

    @classmethod
    def last(cls, days: int, now: datetime) -> Period:
        return cls(now - timedelta(days=days), now)

    @property
    def days(self) -> int:
        return round((self.end - self.start) / timedelta(days=1))

    @property
    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - (self.end - self.start), self.start)


def median(spans: Sequence[tuple[datetime, datetime]]) -> timedelta | None:
    if not spans:
        return None
    return timedelta(seconds=statistics.median((b - a).total_seconds() for a, b in spans))


@dataclass(frozen=True)
class Figures:
    """One community over one period (see the module docstring for each definition)."""

    active_members: int = 0
    lessons_captured: int = 0
    lessons_validated: int = 0
    lessons_reused: int = 0
    median_time_to_validation: timedelta | None = None
    assists_requested: int = 0
    assists_completed: int = 0
    median_time_to_match: timedelta | None = None
    gaps_opened: int = 0
    gaps_answered: int = 0
    proposals_answered: int = 0
    median_time_to_answer: timedelta | None = None
    people_recognised: int = 0
    recognised_from_outside: int = 0

    @property
    def outside_share(self) -> float | None:
        """Of the people recognised, the share recognised outside their own channel."""
        if not self.people_recognised:
            return None
        return self.recognised_from_outside / self.people_recognised


@dataclass(frozen=True)
class CommunityHealth:
    community: CommunityView
    period: Period
    current: Figures
    previous: Figures

    @property
    def quiet(self) -> bool:
        return self.current.active_members < QUIET_BELOW

    @property
    def missing_roles(self) -> tuple[str, ...]:
        """The roles nobody holds: every community needs a coordinator, reviewer and sponsor."""
        held = (
            ("coordinator", self.community.coordinators),
            ("reviewer", self.community.reviewers),
            ("sponsor", self.community.sponsors),
        )
        return tuple(role for role, holders in held if not holders)


def _which(periods: Sequence[Period], at: datetime) -> int | None:
    """The index of the period holding `at`, if one does."""
    for i, period in enumerate(periods):
        if period.start <= at < period.end:
            return i
    return None


async def figures_over(
    session: AsyncSession,
    workspace_id: int,
    communities: Sequence[CommunityView],
    periods: Sequence[Period],
) -> list[dict[int, Figures]]:
    """Each community's figures in each period (one dict per period): one query per figure
    set over the span of all the periods, whatever their number."""
    ids = [c.id for c in communities]
    if not ids or not periods:
        return [{} for _ in periods]
    start, end = min(p.start for p in periods), max(p.end for p in periods)
    acts = await queries.activity(session, workspace_id, ids, start, end)
    captured, validations, uses = await queries.lessons(session, workspace_id, ids, start, end)
    assists = await queries.assists(session, workspace_id, ids, start, end)
    gaps = await queries.gaps(session, workspace_id, ids, start, end)
    answers = await queries.answers(session, workspace_id, ids, start, end)
    kudos = await queries.recognitions(session, workspace_id, ids, start, end)

    tally = [{c: _Tally() for c in ids} for _ in periods]

    def into(community_id: int, at: datetime | None) -> _Tally | None:
        i = None if at is None else _which(periods, at)
        return None if i is None else tally[i][community_id]

    for act in acts:
        if (t := into(act.community_id, act.at)) is not None:
            t.active.add(act.user_id)
    for lesson in captured:
        if (t := into(lesson.community_id, lesson.at)) is not None:
            t.captured += 1
    # Each lesson counts once a period, at its first validation in it.
    for v in sorted(validations, key=lambda v: v.at):
        if (t := into(v.community_id, v.at)) is not None and v.lesson_id not in t.validated:
            t.validated[v.lesson_id] = (v.captured_at, v.at)
    for use in uses:
        if (t := into(use.community_id, use.at)) is not None:
            t.reused.add(use.lesson_id)
    for a in assists:
        if (t := into(a.community_id, a.created_at)) is not None:
            t.requested += 1
        done = a.status == AssistStatus.DONE
        if done and (t := into(a.community_id, a.closed_at)) is not None:
            t.completed += 1
        if a.matched_at is not None and (t := into(a.community_id, a.matched_at)) is not None:
            t.matches.append((a.created_at, a.matched_at))
    for g in gaps:
        if (t := into(g.community_id, g.created_at)) is not None:
            t.opened += 1
        answered = g.status == GapStatus.ANSWERED
        if answered and (t := into(g.community_id, g.closed_at)) is not None:
            t.answered += 1
    for answer in answers:
        if (t := into(answer.community_id, answer.at)) is not None:
            t.answers.append((answer.proposed_at, answer.at))
    for k in kudos:
        if (t := into(k.community_id, k.at)) is not None:
            t.recognised.add(k.receiver_id)
            if k.outside:
                t.outside.add(k.receiver_id)
    return [{c: t.figures() for c, t in period.items()} for period in tally]


@dataclass
class _Tally:
    """One community's counts in one period, while the rows are read."""

    active: set[str] = field(default_factory=set)
    captured: int = 0
    validated: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)
    reused: set[int] = field(default_factory=set)
    requested: int = 0
    completed: int = 0
    matches: list[tuple[datetime, datetime]] = field(default_factory=list)
    opened: int = 0
    answered: int = 0
    answers: list[tuple[datetime, datetime]] = field(default_factory=list)
    recognised: set[str] = field(default_factory=set)
    outside: set[str] = field(default_factory=set)

    def figures(self) -> Figures:
        return Figures(
            active_members=len(self.active),
            lessons_captured=self.captured,
            lessons_validated=len(self.validated),
            lessons_reused=len(self.reused),
            median_time_to_validation=median(list(self.validated.values())),
            assists_requested=self.requested,
            assists_completed=self.completed,
            median_time_to_match=median(self.matches),
            gaps_opened=self.opened,
            gaps_answered=self.answered,
            proposals_answered=len(self.answers),
            median_time_to_answer=median(self.answers),
            people_recognised=len(self.recognised),
            recognised_from_outside=len(self.outside),
        )


async def health_of(
    session: AsyncSession, workspace_id: int, communities: Sequence[CommunityView], period: Period
) -> list[CommunityHealth]:
    """Each community's health over `period` against the one before (digests call this too)."""
    before, now = await figures_over(session, workspace_id, communities, [period.previous, period])
    return [
        CommunityHealth(c, period, now.get(c.id, Figures()), before.get(c.id, Figures()))
        for c in communities
    ]


async def community_health(
    session: AsyncSession, workspace_id: int, community: CommunityView, period: Period
) -> CommunityHealth:
    """One community's health over `period` against the one before (what a digest shows)."""
    [found] = await health_of(session, workspace_id, [community], period)
    return found


# ---- The chart's data: twelve months -----------------------------------------------------------


@dataclass(frozen=True)
class Monthly:
    """Per calendar month (UTC), oldest first: what the chart draws."""

    community: str
    months: tuple[str, ...]  # "2026-01"
    captured: tuple[int, ...]
    validated: tuple[int, ...]  # distinct lessons validated that month
    reused: tuple[int, ...]  # distinct lessons reused that month
    active: tuple[int, ...]  # distinct active members that month


def month_starts(now: datetime, count: int = CHART_MONTHS) -> list[datetime]:
    """The first instant of each of the last `count` months (this one included), and the next."""
    year, month = now.astimezone(UTC).year, now.astimezone(UTC).month
    starts = []
    for back in range(count - 1, -2, -1):
        y, m = divmod(year * 12 + month - 1 - back, 12)
        starts.append(datetime(y, m + 1, 1, tzinfo=UTC))
    return starts


async def monthly(
    session: AsyncSession, workspace_id: int, community: CommunityView, now: datetime
) -> Monthly:
    """The last twelve months (this one included) of one community, as the figures count."""
    starts = month_starts(now)
    months = [Period(a, b) for a, b in zip(starts, starts[1:], strict=False)]
    each = [f[community.id] for f in await figures_over(session, workspace_id, [community], months)]
    return Monthly(
        community=community.name,
        months=tuple(f"{p.start.year}-{p.start.month:02d}" for p in months),
        captured=tuple(f.lessons_captured for f in each),
        validated=tuple(f.lessons_validated for f in each),
        reused=tuple(f.lessons_reused for f in each),
        active=tuple(f.active_members for f in each),
    )


# ---- `/doughnut stats`: who may see what --------------------------------------------------------


class StatsVerdict(enum.Enum):
    SHOWN = "shown"
    NO_COMMUNITY = "no_community"  # the channel is not a community, and none was named
    UNKNOWN_COMMUNITY = "unknown_community"  # no community by that name (or not visible)
    NOT_ALLOWED = "not_allowed"  # not a coordinator or sponsor of it, nor on the support team
    SUPPORT_ONLY = "support_only"  # `all` without being on the support team


@dataclass(frozen=True)
class StatsRequest:
    """What `/doughnut stats [all|community] [Nd]` asked for."""

    everything: bool = False
    community: str | None = None  # a name, or a channel id from `<#C…>`
    days: int = DEFAULT_DAYS


_DAYS = re.compile(r"(?<!\S)(\d{1,4})\s*d(?:ays?)?(?!\S)", re.IGNORECASE)
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>")


def parse_stats(args: str) -> StatsRequest | None:
    """`all`, a community (name or #channel), a period (`90d`); None when it makes no sense."""
    days = DEFAULT_DAYS
    found = _DAYS.search(args)
    if found:
        days = int(found.group(1))
        args = (args[: found.start()] + args[found.end() :]).strip()
        if not 1 <= days <= MAX_DAYS:
            return None
    words = args.strip()
    if words.lower() == "all":
        return StatsRequest(everything=True, days=days)
    channel = _CHANNEL.fullmatch(words)
    if channel:
        return StatsRequest(community=channel.group(1), days=days)
    return StatsRequest(community=words.lstrip("#").strip() or None, days=days)


@dataclass(frozen=True)
class Stats:
    verdict: StatsVerdict
    health: tuple[CommunityHealth, ...] = ()
    community: CommunityView | None = None  # the one asked about (refusals name it)
    asked: str = ""  # what was typed, for "no community named …"
    choices: tuple[str, ...] = field(default_factory=tuple)  # names the person may ask about


async def stats(uow: UnitOfWork, user_id: str, channel_id: str, request: StatsRequest) -> Stats:
    """One community's health (the channel's, or the one named), or every community's."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return Stats(StatsVerdict.NO_COMMUNITY)
        found = [
            view_of(c)
            for c in await community_queries.communities_of_workspace(session, workspace.id)
        ]
        support = await support_of(session, workspace.id, user_id)
        period = Period.last(request.days, uow.deps.clock.now())
        if request.everything:
            if not permissions.may_see_all_health(support):
                return Stats(StatsVerdict.SUPPORT_ONLY)
            return Stats(
                StatsVerdict.SHOWN, tuple(await health_of(session, workspace.id, found, period))
            )
        choices = tuple(c.name for c in found if permissions.may_see_health(c, user_id, support))
        community = _pick(found, request.community, channel_id, user_id, support)
        if community is None:
            verdict = (
                StatsVerdict.UNKNOWN_COMMUNITY if request.community else (StatsVerdict.NO_COMMUNITY)
            )
            return Stats(verdict, asked=request.community or "", choices=choices)
        if not permissions.may_see_health(community, user_id, support):
            return Stats(StatsVerdict.NOT_ALLOWED, community=community)
        health = await health_of(session, workspace.id, [community], period)
        return Stats(StatsVerdict.SHOWN, tuple(health), community)


def _pick(
    found: list[CommunityView],
    asked: str | None,
    channel_id: str,
    user_id: str,
    support: permissions.Support,
) -> CommunityView | None:
    """The community asked about; a private one only for those who hold a role in it (or
    support): nobody else learns it exists."""
    if asked is None:
        return next((c for c in found if c.channel_id == channel_id), None)
    wanted = asked.casefold()
    for c in found:
        if c.channel_id == asked or c.name.casefold() == wanted:
            if c.is_private and not (c.roles_of(user_id) or permissions.is_support(support)):
                return None
            return c
    return None


async def sees_everything(uow: UnitOfWork, user_id: str) -> bool:
    """May this person see every community's health (`/doughnut stats all`)?"""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return False
        return permissions.may_see_all_health(await support_of(session, workspace.id, user_id))


async def chart_data(uow: UnitOfWork, community_id: int) -> Monthly | None:
    """The twelve months the chart of `/doughnut stats` draws (read after the ack)."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return None
        found = [
            view_of(c)
            for c in await community_queries.communities_of_workspace(session, workspace.id)
            if c.id == community_id
        ]
        if not found:
            return None
        return await monthly(session, workspace.id, found[0], uow.deps.clock.now())


@dataclass(frozen=True)
class HomeHealth:
    """The communities a person leads (coordinator or sponsor), with their health."""

    health: tuple[CommunityHealth, ...] = ()


HOME_COMMUNITIES = 3


async def home_health(uow: UnitOfWork, user_id: str) -> HomeHealth:
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return HomeHealth()
        led = [
            view_of(c)
            for c in await community_queries.communities_of_workspace(session, workspace.id)
        ]
        led = [c for c in led if permissions.leads(c, user_id)][:HOME_COMMUNITIES]
        if not led:
            return HomeHealth()
        period = Period.last(DEFAULT_DAYS, uow.deps.clock.now())
        return HomeHealth(tuple(await health_of(session, workspace.id, led, period)))
