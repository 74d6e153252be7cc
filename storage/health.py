"""Queries for community health: one query per figure set, grouped by community.

Every query takes the workspace and the communities asked about, and a half-open period
`[start, end)`; each is served by an index on (community or workspace, the instant it filters
on): see the models and migration 0010_health. Durations come back as pairs of instants, and
medians are taken in Python, the same way on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, and_, case, distinct, func, literal, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AssistHelper,
    AssistStatus,
    Community,
    DecisionKind,
    Gap,
    GapStatus,
    HelperState,
    Kudos,
    KudosStatus,
    Lesson,
    LessonDecision,
    LessonUse,
    Member,
    PeerAssist,
    Proposal,
    Role,
    SupportGrant,
)

# The decisions that count as reviewing a lesson (publishing it is its author's, not a review).
REVIEWS = (DecisionKind.VALIDATE, DecisionKind.NEEDS_WORK, DecisionKind.RETIRE)
# Helpers who took part in an assist (suggested or invited ones have not, yet).
ASSISTED = (HelperState.VOLUNTEERED, HelperState.ACCEPTED)


@dataclass
class LessonCounts:
    captured: int = 0
    validated: int = 0
    reused: int = 0
    # (captured at, first validated in the period) of each lesson validated in the period
    validations: list[tuple[datetime, datetime]] = field(default_factory=list)


@dataclass
class AssistCounts:
    requested: int = 0
    completed: int = 0
    matches: list[tuple[datetime, datetime]] = field(default_factory=list)


@dataclass
class GapCounts:
    opened: int = 0
    answered: int = 0


@dataclass
class ProposalCounts:
    answers: list[tuple[datetime, datetime]] = field(default_factory=list)


@dataclass
class Recognition:
    recognised: int = 0
    from_outside: int = 0


def _in(column: object, start: datetime, end: datetime) -> object:
    return and_(column >= start, column < end)  # type: ignore[operator]


async def active_members(
    session: AsyncSession,
    workspace_id: int,
    community_ids: Sequence[int],
    start: datetime,
    end: datetime,
) -> dict[int, int]:
    """Distinct people who captured, reviewed, used, assisted, recognised or raised a gap."""
    rows = await session.execute(
        select(
            (acts := _activity(workspace_id, community_ids, start, end).subquery()).c.community_id,
            func.count(distinct(acts.c.user_id)),
        ).group_by(acts.c.community_id)
    )
    return {community_id: count for community_id, count in rows.all()}


async def activity(
    session: AsyncSession,
    workspace_id: int,
    community_id: int,
    start: datetime,
    end: datetime,
) -> list[tuple[str, datetime]]:
    """Each contribution's (person, instant) in one community: the monthly chart buckets them."""
    acts = _activity(workspace_id, [community_id], start, end, with_time=True).subquery()
    rows = await session.execute(select(acts.c.user_id, acts.c.at))
    return [(user_id, at) for user_id, at in rows.all()]


def _activity(
    workspace_id: int,
    community_ids: Sequence[int],
    start: datetime,
    end: datetime,
    *,
    with_time: bool = False,
) -> Select[tuple[int, str]]:
    """One select per way of taking part: (community, person[, instant]), united."""

    def part(community: object, user: object, at: object, *where: object) -> Select:
        columns = [community.label("community_id"), user.label("user_id")]  # type: ignore[attr-defined]
        if with_time:
            columns.append(at.label("at"))  # type: ignore[attr-defined]
        return select(*columns).where(
            community.in_(community_ids),  # type: ignore[attr-defined]
            _in(at, start, end),
            *where,
        )

    parts = [
        part(Lesson.community_id, Lesson.author_id, Lesson.created_at,
             Lesson.workspace_id == workspace_id),
        part(Lesson.community_id, LessonDecision.by_user, LessonDecision.decided_at,
             LessonDecision.workspace_id == workspace_id, LessonDecision.kind.in_(REVIEWS),
             Lesson.id == LessonDecision.lesson_id),
        part(Lesson.community_id, LessonUse.user_id, LessonUse.used_at,
             LessonUse.workspace_id == workspace_id, Lesson.id == LessonUse.lesson_id),
        part(PeerAssist.community_id, AssistHelper.user_id, AssistHelper.updated_at,
             AssistHelper.workspace_id == workspace_id, AssistHelper.state.in_(ASSISTED),
             PeerAssist.id == AssistHelper.assist_id),
        part(Kudos.community_id, Kudos.giver_id, Kudos.given_at,
             Kudos.workspace_id == workspace_id, Kudos.status == KudosStatus.GIVEN),
        part(Gap.community_id, Gap.raised_by, Gap.created_at, Gap.workspace_id == workspace_id),
    ]  # fmt: skip
    # UNION (not ALL): the same person at the same instant counts once anyway.
    return union(*parts)  # type: ignore[return-value]


async def lesson_counts(
    session: AsyncSession,
    workspace_id: int,
    community_ids: Sequence[int],
    start: datetime,
    end: datetime,
) -> dict[int, LessonCounts]:
    """Lessons captured, validated (first validation in the period) and reused in the period."""
    out: dict[int, LessonCounts] = defaultdict(LessonCounts)
    captured = await session.execute(
        select(Lesson.community_id, func.count())
        .where(
            Lesson.workspace_id == workspace_id,
            Lesson.community_id.in_(community_ids),
            _in(Lesson.created_at, start, end),
        )
        .group_by(Lesson.community_id)
    )
    for community_id, count in captured.all():
        out[community_id].captured = count
    # A lesson validated twice in the period (validated, sent back, validated again) counts
    # once, at its first validation in the period.
    first = func.min(LessonDecision.decided_at)
    validated = await session.execute(
        select(Lesson.community_id, Lesson.created_at, first)
        .join(Lesson, Lesson.id == LessonDecision.lesson_id)
        .where(
            LessonDecision.workspace_id == workspace_id,
            LessonDecision.kind == DecisionKind.VALIDATE,
            _in(LessonDecision.decided_at, start, end),
            Lesson.community_id.in_(community_ids),
        )
        .group_by(Lesson.id, Lesson.community_id, Lesson.created_at)
    )
    for community_id, created_at, decided_at in validated.all():
        out[community_id].validated += 1
        out[community_id].validations.append((created_at, _aware(decided_at, created_at)))
    reused = await session.execute(
        select(Lesson.community_id, func.count(distinct(LessonUse.lesson_id)))
        .join(Lesson, Lesson.id == LessonUse.lesson_id)
        .where(
            LessonUse.workspace_id == workspace_id,
            _in(LessonUse.used_at, start, end),
            Lesson.community_id.in_(community_ids),
        )
        .group_by(Lesson.community_id)
    )
    for community_id, count in reused.all():
        out[community_id].reused = count
    return dict(out)


def _aware(value: datetime | str, like: datetime) -> datetime:
    """An aggregate (min) skips the column type on SQLite: make it an aware instant again."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=like.tzinfo)


async def assist_counts(
    session: AsyncSession,
    workspace_id: int,
    community_ids: Sequence[int],
    start: datetime,
    end: datetime,
) -> dict[int, AssistCounts]:
    """Assists requested, completed (done) and matched in the period, one pass over them."""
    out: dict[int, AssistCounts] = defaultdict(AssistCounts)
    rows = await session.execute(
        select(
            PeerAssist.community_id,
            PeerAssist.status,
            PeerAssist.created_at,
            PeerAssist.matched_at,
            PeerAssist.closed_at,
        ).where(
            PeerAssist.workspace_id == workspace_id,
            PeerAssist.community_id.in_(community_ids),
            # Only those that could count: created, matched or closed in the period.
            PeerAssist.created_at < end,
            (PeerAssist.created_at >= start)
            | _in(PeerAssist.matched_at, start, end)  # type: ignore[operator]
            | _in(PeerAssist.closed_at, start, end),
        )
    )
    for community_id, status, created_at, matched_at, closed_at in rows.all():
        counts = out[community_id]
        if start <= created_at < end:
            counts.requested += 1
        if status == AssistStatus.DONE and closed_at is not None and start <= closed_at < end:
            counts.completed += 1
        if matched_at is not None and start <= matched_at < end:
            counts.matches.append((created_at, matched_at))
    return dict(out)


async def gap_counts(
    session: AsyncSession,
    workspace_id: int,
    community_ids: Sequence[int],
    start: datetime,
    end: datetime,
) -> dict[int, GapCounts]:
    """Gaps opened in the period, and gaps answered (closed as answered) in it."""
    out: dict[int, GapCounts] = defaultdict(GapCounts)
    opened = func.sum(_flag(_in(Gap.created_at, start, end)))
    answered = func.sum(
        _flag(and_(Gap.status == GapStatus.ANSWERED, _in(Gap.closed_at, start, end)))
    )
    rows = await session.execute(
        select(Gap.community_id, opened, answered)
        .where(
            Gap.workspace_id == workspace_id,
            Gap.community_id.in_(community_ids),
            _in(Gap.created_at, start, end) | _in(Gap.closed_at, start, end),  # type: ignore[operator]
        )
        .group_by(Gap.community_id)
    )
    for community_id, opened_count, answered_count in rows.all():
        out[community_id] = GapCounts(int(opened_count or 0), int(answered_count or 0))
    return dict(out)


def _flag(condition: object) -> object:
    return case((condition, literal(1)), else_=literal(0))  # type: ignore[arg-type]


async def proposal_answers(
    session: AsyncSession,
    workspace_id: int,
    community_ids: Sequence[int],
    start: datetime,
    end: datetime,
) -> dict[int, ProposalCounts]:
    """Proposals a sponsor answered (decided) in the period: when made, when answered."""
    out: dict[int, ProposalCounts] = defaultdict(ProposalCounts)
    rows = await session.execute(
        select(Proposal.community_id, Proposal.created_at, Proposal.decided_at).where(
            Proposal.workspace_id == workspace_id,
            Proposal.community_id.in_(community_ids),
            Proposal.decision.is_not(None),
            _in(Proposal.decided_at, start, end),
        )
    )
    for community_id, created_at, decided_at in rows.all():
        out[community_id].answers.append((created_at, decided_at))
    return dict(out)


async def recognition(
    session: AsyncSession,
    workspace_id: int,
    communities: dict[int, str],
    start: datetime,
    end: datetime,
) -> dict[int, Recognition]:
    """Distinct people recognised (given kudos) in each community, and how many of them were
    recognised at least once somewhere other than the community's channel (`communities`:
    id → channel id)."""
    out: dict[int, Recognition] = defaultdict(Recognition)
    if not communities:
        return {}
    rows = await session.execute(
        select(Kudos.community_id, Kudos.receiver_id, Community.channel_id, Kudos.channel_id)
        .join(Community, Community.id == Kudos.community_id)
        .where(
            Kudos.workspace_id == workspace_id,
            Kudos.community_id.in_(list(communities)),
            Kudos.status == KudosStatus.GIVEN,
            _in(Kudos.given_at, start, end),
        )
        .distinct()
    )
    outside: dict[int, set[str]] = defaultdict(set)
    everyone: dict[int, set[str]] = defaultdict(set)
    for community_id, receiver_id, home_channel, given_in in rows.all():
        everyone[community_id].add(receiver_id)
        if given_in != home_channel:
            outside[community_id].add(receiver_id)
    for community_id, people in everyone.items():
        out[community_id] = Recognition(len(people), len(outside[community_id]))
    return dict(out)


async def monthly_lessons(
    session: AsyncSession, workspace_id: int, community_id: int, start: datetime, end: datetime
) -> tuple[list[datetime], list[tuple[int, datetime]], list[tuple[int, datetime]]]:
    """For the chart: when each lesson was captured; validated and reused (lesson, instant)."""
    captured = await session.scalars(
        select(Lesson.created_at).where(
            Lesson.workspace_id == workspace_id,
            Lesson.community_id == community_id,
            _in(Lesson.created_at, start, end),
        )
    )
    validated = await session.execute(
        select(LessonDecision.lesson_id, LessonDecision.decided_at)
        .join(Lesson, Lesson.id == LessonDecision.lesson_id)
        .where(
            LessonDecision.workspace_id == workspace_id,
            LessonDecision.kind == DecisionKind.VALIDATE,
            Lesson.community_id == community_id,
            _in(LessonDecision.decided_at, start, end),
        )
    )
    used = await session.execute(
        select(LessonUse.lesson_id, LessonUse.used_at)
        .join(Lesson, Lesson.id == LessonUse.lesson_id)
        .where(
            LessonUse.workspace_id == workspace_id,
            Lesson.community_id == community_id,
            _in(LessonUse.used_at, start, end),
        )
    )
    return (
        list(captured),
        [(i, at) for i, at in validated.all()],
        [(i, at) for i, at in used.all()],
    )


# ---- The support team -------------------------------------------------------------------------


async def member_flags(session: AsyncSession, workspace_id: int, user_id: str) -> Member | None:
    return await session.scalar(
        select(Member).where(Member.workspace_id == workspace_id, Member.user_id == user_id)
    )


async def support_grant(
    session: AsyncSession, workspace_id: int, user_id: str
) -> SupportGrant | None:
    return await session.scalar(
        select(SupportGrant).where(
            SupportGrant.workspace_id == workspace_id, SupportGrant.user_id == user_id
        )
    )


async def support_grants(session: AsyncSession, workspace_id: int) -> list[SupportGrant]:
    result = await session.scalars(
        select(SupportGrant)
        .where(SupportGrant.workspace_id == workspace_id)
        .order_by(SupportGrant.granted_at, SupportGrant.user_id)
    )
    return list(result)


async def workspace_admins(session: AsyncSession, workspace_id: int) -> list[str]:
    """Admins and owners in the member cache (they hold the support team anyway)."""
    result = await session.scalars(
        select(Member.user_id)
        .where(
            Member.workspace_id == workspace_id,
            Member.is_admin | Member.is_owner,
            ~Member.deleted,
            ~Member.is_bot,
        )
        .order_by(Member.user_id)
    )
    return list(result)


async def roles_of_workspace(session: AsyncSession, workspace_id: int) -> list[Role]:
    result = await session.scalars(
        select(Role).where(Role.workspace_id == workspace_id).order_by(Role.since, Role.id)
    )
    return list(result)
