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
- a median of an even count is the mean of the two middle values; none when nothing counted.
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


async def figures_for(
    session: AsyncSession, workspace_id: int, communities: Sequence[CommunityView], period: Period
) -> dict[int, Figures]:
    """Each community's figures over `period`: one query per figure set, for all of them."""
    ids = [c.id for c in communities]
    if not ids:
        return {}
    start, end = period.start, period.end
    active = await queries.active_members(session, workspace_id, ids, start, end)
    lessons = await queries.lesson_counts(session, workspace_id, ids, start, end)
    assists = await queries.assist_counts(session, workspace_id, ids, start, end)
    gaps = await queries.gap_counts(session, workspace_id, ids, start, end)
    proposals = await queries.proposal_answers(session, workspace_id, ids, start, end)
    channels = {c.id: c.channel_id for c in communities}
    kudos = await queries.recognition(session, workspace_id, channels, start, end)
    out = {}
    for community_id in ids:
        lesson = lessons.get(community_id, queries.LessonCounts())
        assist = assists.get(community_id, queries.AssistCounts())
        gap = gaps.get(community_id, queries.GapCounts())
        answers = proposals.get(community_id, queries.ProposalCounts()).answers
        recognised = kudos.get(community_id, queries.Recognition())
        out[community_id] = Figures(
            active_members=active.get(community_id, 0),
            lessons_captured=lesson.captured,
            lessons_validated=lesson.validated,
            lessons_reused=lesson.reused,
            median_time_to_validation=median(lesson.validations),
            assists_requested=assist.requested,
            assists_completed=assist.completed,
            median_time_to_match=median(assist.matches),
            gaps_opened=gap.opened,
            gaps_answered=gap.answered,
            proposals_answered=len(answers),
            median_time_to_answer=median(answers),
            people_recognised=recognised.recognised,
            recognised_from_outside=recognised.from_outside,
        )
    return out


async def health_of(
    session: AsyncSession, workspace_id: int, communities: Sequence[CommunityView], period: Period
) -> list[CommunityHealth]:
    """Each community's health over `period` against the one before (digests call this too)."""
    now = await figures_for(session, workspace_id, communities, period)
    before = await figures_for(session, workspace_id, communities, period.previous)
    return [
        CommunityHealth(c, period, now.get(c.id, Figures()), before.get(c.id, Figures()))
        for c in communities
    ]


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
    starts = month_starts(now)
    start, end = starts[0], starts[-1]
    captured, validated, used = await queries.monthly_lessons(
        session, workspace_id, community.id, start, end
    )
    acts = await queries.activity(session, workspace_id, community.id, start, end)

    def bucket(at: datetime) -> int:
        at = at.astimezone(UTC)
        return (at.year - start.year) * 12 + at.month - start.month

    counts = [0] * CHART_MONTHS
    for at in captured:
        counts[bucket(at)] += 1
    # Distinct lessons a month: validated twice (sent back between) or reused by many, once.
    valid: list[set[int]] = [set() for _ in range(CHART_MONTHS)]
    for lesson_id, at in validated:
        valid[bucket(at)].add(lesson_id)
    reused: list[set[int]] = [set() for _ in range(CHART_MONTHS)]
    for lesson_id, at in used:
        reused[bucket(at)].add(lesson_id)
    active: list[set[str]] = [set() for _ in range(CHART_MONTHS)]
    for user_id, at in acts:
        active[bucket(at)].add(user_id)
    return Monthly(
        community=community.name,
        months=tuple(f"{s.year}-{s.month:02d}" for s in starts[:-1]),
        captured=tuple(counts),
        validated=tuple(len(s) for s in valid),
        reused=tuple(len(s) for s in reused),
        active=tuple(len(s) for s in active),
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
