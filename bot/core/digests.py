"""The scheduled digests and prompts: what each one says, read from one period's rows.

Each compose function takes a session and a `Scope` (one community's period) and returns a
frozen dataclass; the views turn it into Block Kit. Channel digests read public content only
(`public=True`): nothing from a private channel or a DM ever reaches a channel this way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.communities import view_of as community_view
from bot.core.contributions import Period as ContributionPeriod
from bot.core.contributions import ledger
from bot.core.health import CommunityHealth, community_health
from bot.core.health import Period as HealthPeriod
from bot.unit_of_work import UnitOfWork
from scheduler.registry import Schedule
from storage import digests as queries
from storage import gaps as gaps_store
from storage.communities import community_in_channel
from storage.digests import Breadth, KudosRow, LessonRow, Scope
from storage.models import Community, RoleName

# The jobs (their names key the runs, the switches and the schedules in community.settings).
WEEKLY = "weekly-digest"
SNAPSHOT = "project-snapshot"
REVIEW_NUDGE = "review-nudge"
WHERE_NEXT = "where-next"
SPONSOR = "sponsor-digest"
COORDINATOR = "coordinator-digest"

JOB_TITLES: dict[str, str] = {
    WEEKLY: "Weekly recognition digest",
    SNAPSHOT: "Project snapshot prompt",
    REVIEW_NUDGE: "Review nudge",
    WHERE_NEXT: "Where do we go now?",
    SPONSOR: "Sponsor digest",
    COORDINATOR: "Coordinator digest",
}
DEFAULT_SCHEDULES: dict[str, Schedule] = {
    WEEKLY: Schedule(hour=15, minute=0, day_of_week="fri"),
    SNAPSHOT: Schedule(hour=10, minute=0, day_of_week="tue"),  # owed every second week
    REVIEW_NUDGE: Schedule(hour=9, minute=0, day_of_week="mon"),  # the reviewer's time
    WHERE_NEXT: Schedule(hour=10, minute=0, day="1st mon"),
    SPONSOR: Schedule(hour=9, minute=0, day="1st mon"),
    COORDINATOR: Schedule(hour=9, minute=0, day="1st mon"),
}

# Off until a coordinator turns it on (and lists the channels it asks in).
OFF_BY_DEFAULT = frozenset({SNAPSHOT})

# community.settings keys (besides "jobs" and "schedules", the scheduler's)
SNAPSHOT_CHANNELS = "snapshot_channels"
SNAPSHOT_ANCHOR = "snapshot_anchor"
KUDOS_TO_CHANNEL = "kudos_to_channel"  # the kudos capability reads it

REVIEW_WAIT = timedelta(days=3)
UNRECOGNISED_SHOWN = 10
PROPOSALS_SHOWN = 5
PROPOSALS_READ = 100  # "and N more" counts up to this many
STALE_AFTER = timedelta(days=365)
WEEK = timedelta(days=7)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")


# ---- What each digest holds ---------------------------------------------------------------


@dataclass(frozen=True)
class Counted:
    """The first rows of a list, and how many it has in all."""

    rows: tuple[LessonRow, ...]
    total: int

    @classmethod
    def of(cls, found: tuple[list[LessonRow], int]) -> Counted:
        return cls(tuple(found[0]), found[1])


@dataclass(frozen=True)
class WeeklyDigest:
    community: str
    start: datetime
    end: datetime
    kudos: tuple[KudosRow, ...]
    breadth: Breadth
    first_time: tuple[str, ...]
    captured: Counted
    validated: Counted
    reused: Counted
    assists: Counted

    @property
    def quiet(self) -> bool:
        return not (
            self.breadth.kudos
            or self.captured.total
            or self.validated.total
            or self.reused.total
            or self.assists.total
        )


@dataclass(frozen=True)
class Gaps:
    rows: tuple[tuple[int, str, int, str | None], ...]  # id, question, +1s, permalink
    total: int


@dataclass(frozen=True)
class WhereNext:
    community: str
    month: str
    gaps: Gaps
    tags: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class SponsorDigest:
    community: str
    month: str
    validated: Counted
    proposals: tuple[tuple[int, str, str], ...]  # id, proposal, by
    proposals_total: int
    gaps: Gaps
    health: CommunityHealth


@dataclass(frozen=True)
class CoordinatorDigest:
    community: str
    month: str
    health: CommunityHealth
    unrecognised: tuple[str, ...]
    unrecognised_total: int
    stale: Counted


@dataclass(frozen=True)
class ReviewNudge:
    reviewer_id: str
    lessons: tuple[tuple[LessonRow, str], ...]  # the lesson, its community's name
    total: int


# ---- Composing, from one period's rows ---------------------------------------------------


async def weekly_digest(session: AsyncSession, scope: Scope, community: str) -> WeeklyDigest:
    """The week's recognition digest for a community channel: public content only."""
    return WeeklyDigest(
        community=community,
        start=scope.start,
        end=scope.end,
        kudos=tuple(await queries.kudos_of(session, scope)),
        breadth=await queries.breadth(session, scope),
        first_time=tuple(await queries.first_time_recognised(session, scope)),
        captured=Counted.of(await queries.lessons_captured(session, scope)),
        validated=Counted.of(await queries.lessons_validated(session, scope)),
        reused=Counted.of(await queries.most_reused(session, scope)),
        assists=Counted.of(await queries.assists_completed(session, scope)),
    )


async def _health(session: AsyncSession, scope: Scope) -> CommunityHealth:
    """The community's health over the period against the one before, as `/doughnut stats`
    shows it (one definition of each figure, in bot/core/health.py)."""
    community = await session.get(Community, scope.community_id)
    assert community is not None and community.workspace_id == scope.workspace_id
    period = HealthPeriod(scope.start, scope.end)
    return await community_health(session, scope.workspace_id, community_view(community), period)


def month_label(start: datetime, end: datetime, zone: tzinfo) -> str:
    """`7 Nov – 7 Dec 2026`: the month a monthly digest looks back on."""
    first, last = start.astimezone(zone), end.astimezone(zone)
    return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"


async def where_next(
    session: AsyncSession, scope: Scope, community: str, zone: tzinfo
) -> WhereNext:
    """Open gaps and the month's top tags, for the community channel (public content only)."""
    gaps, total = await queries.open_gaps(session, scope.workspace_id, scope.community_id)
    return WhereNext(
        community=community,
        month=month_label(scope.start, scope.end, zone),
        gaps=Gaps(tuple(gaps), total),
        tags=tuple(await queries.top_tags(session, scope)),
    )


async def sponsor_digest(
    session: AsyncSession, scope: Scope, community: str, zone: tzinfo
) -> SponsorDigest:
    """For the community's sponsors (by DM): practices, proposals awaiting them, gaps, health.
    What it quotes is public (a DM is not where a private channel's words go); its figures
    count everything."""
    # The sponsors' queue, as the gaps capability keeps it (open or acknowledged, oldest first).
    waiting = await gaps_store.open_proposals(
        session, scope.workspace_id, [scope.community_id], limit=PROPOSALS_READ
    )
    proposals = [(p.id, p.proposal, p.proposed_by) for p in waiting[:PROPOSALS_SHOWN]]
    proposals_total = len(waiting)
    gaps, gaps_total = await queries.open_gaps(session, scope.workspace_id, scope.community_id)
    return SponsorDigest(
        community=community,
        month=month_label(scope.start, scope.end, zone),
        validated=Counted.of(await queries.lessons_validated(session, scope)),
        proposals=tuple(proposals),
        proposals_total=proposals_total,
        gaps=Gaps(tuple(gaps), gaps_total),
        health=await _health(session, scope),
    )


async def coordinator_digest(
    session: AsyncSession, scope: Scope, community: str, zone: tzinfo
) -> CoordinatorDigest:
    """For the community's coordinators (by DM): health, who to thank, what to confirm again."""
    # Who contributed in the month and was not thanked: the ledger's fairness signal.
    period = ContributionPeriod(
        scope.start, scope.end, label=month_label(scope.start, scope.end, zone)
    )
    rows = await ledger(session, scope.workspace_id, period, community_id=scope.community_id)
    unthanked = [row.user_id for row in rows if row.unrecognised]
    stale = await queries.stale_lessons(
        session, scope.workspace_id, scope.community_id, scope.end - STALE_AFTER
    )
    return CoordinatorDigest(
        community=community,
        month=month_label(scope.start, scope.end, zone),
        health=await _health(session, scope),
        unrecognised=tuple(unthanked[:UNRECOGNISED_SHOWN]),
        unrecognised_total=len(unthanked),
        stale=Counted.of(stale),
    )


async def review_nudge(
    session: AsyncSession, workspace_id: int, reviewer_id: str, now: datetime
) -> ReviewNudge:
    """The lessons waiting for this reviewer for longer than three days, oldest first, in the
    communities that keep the nudge on."""
    found = await queries.reviewed_by(session, workspace_id, reviewer_id)
    communities = [c for c, settings in found if job_on(settings, REVIEW_NUDGE)]
    if not communities:
        return ReviewNudge(reviewer_id, (), 0)
    rows, total = await queries.waiting_for(
        session, workspace_id, reviewer_id, communities, now - REVIEW_WAIT
    )
    return ReviewNudge(reviewer_id, tuple(rows), total)


# ---- Periods -------------------------------------------------------------------------------


def week_before(end: datetime) -> tuple[datetime, datetime]:
    return end - WEEK, end


def month_before(end: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """From the same local day and time a month earlier (the 31st → the month's last day)."""
    local = end.astimezone(zone)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    day = local.day
    while True:
        try:
            start = local.replace(year=year, month=month, day=day)
            break
        except ValueError:
            day -= 1
    return start.astimezone(UTC), end


def fortnight_owed(anchor: date, local_day: date) -> bool:
    """Every second week counted from the anchor: weeks 0, 2, 4… after it (and before it)."""
    return ((local_day - anchor).days // 7) % 2 == 0


def snapshot_anchor(settings: Mapping[str, Any], created: datetime | None) -> date:
    stored = settings.get(SNAPSHOT_ANCHOR)
    if isinstance(stored, str):
        try:
            return date.fromisoformat(stored)
        except ValueError:
            pass
    return (created or datetime(2026, 1, 5, tzinfo=UTC)).date()


def snapshot_channels(settings: Mapping[str, Any], community_channel: str | None) -> list[str]:
    stored = settings.get(SNAPSHOT_CHANNELS)
    if isinstance(stored, list):
        found = [c for c in stored if isinstance(c, str) and _CHANNEL_ID.fullmatch(c)]
        if found:
            return found
    return [community_channel] if community_channel else []


# ---- The community's settings: read, checked, stored -------------------------------------


@dataclass(frozen=True)
class CommunitySettings:
    """What a coordinator sets with `/doughnut settings` in the community's channel."""

    community_id: int
    name: str
    channel_id: str
    timezone: str
    digest_day: str
    digest_time: str  # HH:MM
    jobs_on: frozenset[str]
    snapshot_channels: tuple[str, ...]
    snapshot_anchor: date
    kudos_to_channel: bool


@dataclass(frozen=True)
class SettingsForm:
    timezone: str
    digest_day: str
    digest_time: str
    jobs_on: frozenset[str]
    snapshot_channels: tuple[str, ...]
    snapshot_anchor: date | None
    kudos_to_channel: bool


class SettingsField:
    TIMEZONE = "timezone"
    DAY = "day"
    TIME = "time"
    ANCHOR = "anchor"


BAD_TIMEZONE = "Not a timezone I know: use a name like Europe/Berlin or America/New_York."
BAD_TIME = "A time of day as HH:MM, like 15:00 or 09:30."
BAD_DAY = "Pick a day of the week."
BAD_ANCHOR = "Pick the Tuesday (or any day) of a week the snapshot should be asked."


def job_on(settings: Mapping[str, Any], job: str) -> bool:
    default = job not in OFF_BY_DEFAULT
    switches = settings.get("jobs")
    return bool(switches.get(job, default)) if isinstance(switches, Mapping) else default


def settings_of(community: Community) -> CommunitySettings:
    stored = community.settings or {}
    weekly = Schedule.read((stored.get("schedules") or {}).get(WEEKLY), DEFAULT_SCHEDULES[WEEKLY])
    return CommunitySettings(
        community_id=community.id,
        name=community.name,
        channel_id=community.channel_id,
        timezone=community.timezone,
        digest_day=weekly.day_of_week or "fri",
        digest_time=f"{int(weekly.hour):02d}:{int(weekly.minute):02d}",
        jobs_on=frozenset(j for j in JOB_TITLES if job_on(stored, j)),
        snapshot_channels=tuple(snapshot_channels(stored, community.channel_id)),
        snapshot_anchor=snapshot_anchor(stored, community.created_at),
        kudos_to_channel=bool(stored.get(KUDOS_TO_CHANNEL, False)),
    )


def read_time(text: str) -> tuple[int, int] | None:
    match = _TIME.fullmatch(text.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def validate_settings(form: SettingsForm) -> dict[str, str]:
    """Field → what is wrong; empty when the form can be stored."""
    errors: dict[str, str] = {}
    try:
        ZoneInfo(form.timezone.strip())
        if not form.timezone.strip():
            raise ValueError
    except (ZoneInfoNotFoundError, ValueError):
        errors[SettingsField.TIMEZONE] = BAD_TIMEZONE
    if read_time(form.digest_time) is None:
        errors[SettingsField.TIME] = BAD_TIME
    if form.digest_day not in DAYS:
        errors[SettingsField.DAY] = BAD_DAY
    return errors


async def coordinated_community(uow: UnitOfWork, user_id: str, channel_id: str) -> Community | None:
    """The community of this channel, when this person coordinates it (a read)."""
    async with uow.reading() as (session, workspace):
        if workspace is None or not channel_id:
            return None
        community = await community_in_channel(session, workspace.id, channel_id)
        if community is None or user_id not in community.holders(RoleName.COORDINATOR):
            return None
        session.expunge(community)
        return community


async def community_settings(
    uow: UnitOfWork, user_id: str, channel_id: str
) -> CommunitySettings | None:
    community = await coordinated_community(uow, user_id, channel_id)
    return None if community is None else settings_of(community)


async def save_settings(
    uow: UnitOfWork, user_id: str, community_id: int, form: SettingsForm
) -> dict[str, str] | CommunitySettings:
    """Store a coordinator's settings; the field errors instead when the form is not valid,
    and PermissionError when they do not coordinate the community (any more)."""
    errors = validate_settings(form)
    if errors:
        return errors
    workspace = await uow.workspace()
    session = await uow.session()
    community = await session.get(Community, community_id)
    if (
        community is None
        or community.workspace_id != workspace.id
        or user_id not in community.holders(RoleName.COORDINATOR)
    ):
        raise PermissionError(user_id)
    hour, minute = read_time(form.digest_time) or (15, 0)
    stored = dict(community.settings or {})
    schedules = dict(stored.get("schedules") or {})
    schedules[WEEKLY] = {"day_of_week": form.digest_day, "hour": hour, "minute": minute}
    stored["schedules"] = schedules
    stored["jobs"] = {**(stored.get("jobs") or {}), **{j: j in form.jobs_on for j in JOB_TITLES}}
    stored[SNAPSHOT_CHANNELS] = list(form.snapshot_channels)
    if form.snapshot_anchor is not None:
        stored[SNAPSHOT_ANCHOR] = form.snapshot_anchor.isoformat()
    stored[KUDOS_TO_CHANNEL] = form.kudos_to_channel
    # A new dict, so the change is seen: the JSON column does not track nested edits.
    community.settings = stored
    community.timezone = form.timezone.strip()
    community.updated_at = uow.deps.clock.now()
    return settings_of(community)


# ---- The preview: this week so far, claiming nothing -------------------------------------


@dataclass(frozen=True)
class Preview:
    digest: WeeklyDigest | None  # None: this channel is no community


async def preview(uow: UnitOfWork, channel_id: str) -> Preview:
    """This channel's community's digest for the last seven days, as it would be posted now."""
    async with uow.reading() as (session, workspace):
        if workspace is None or not channel_id:
            return Preview(None)
        community = await community_in_channel(session, workspace.id, channel_id)
        if community is None:
            return Preview(None)
        # The seven days up to now, now included.
        start, end = week_before(uow.deps.clock.now() + timedelta(microseconds=1))
        scope = Scope(workspace.id, community.id, start, end)
        return Preview(await weekly_digest(session, scope, community.name))
