"""Queries for community health: one query per figure set, for any number of periods.

Every query takes the workspace, the communities asked about, and the span `[start, end)`
covering the periods wanted (this period and the one before; twelve months for the chart), and
returns rows with their instants: the service counts them into each period. So a figure set is
read once whatever the periods, and medians are taken in Python, the same way on SQLite and
PostgreSQL. Each query is led by an index on the community (its lessons, assists, kudos, gaps,
proposals), never by one on the whole workspace: see `_scope`, the models and migration
0010_health.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import Select, and_, literal, or_, select, union
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
    SupportGrant,
)

# The decisions that count as reviewing a lesson (publishing it is its author's, not a review).
REVIEWS = (DecisionKind.VALIDATE, DecisionKind.NEEDS_WORK, DecisionKind.RETIRE)
# Helpers who took part in an assist (suggested or invited ones have not, yet).
ASSISTED = (HelperState.VOLUNTEERED, HelperState.ACCEPTED)


class Act(NamedTuple):
    """Someone took part in a community at an instant (captured, reviewed, used...)."""

    community_id: int
    user_id: str
    at: datetime


class Captured(NamedTuple):
    community_id: int
    lesson_id: int
    at: datetime


class Validation(NamedTuple):
    community_id: int
    lesson_id: int
    captured_at: datetime
    at: datetime


class Use(NamedTuple):
    community_id: int
    lesson_id: int
    at: datetime


class AssistRow(NamedTuple):
    community_id: int
    status: AssistStatus
    created_at: datetime
    matched_at: datetime | None
    closed_at: datetime | None


class GapRow(NamedTuple):
    community_id: int
    status: GapStatus
    created_at: datetime
    closed_at: datetime | None


class Answer(NamedTuple):
    """A sponsor's decision on a proposal."""

    community_id: int
    proposed_at: datetime
    at: datetime


class Recognised(NamedTuple):
    community_id: int
    receiver_id: str
    outside: bool  # given anywhere but the community's channel
    at: datetime


def _scope(column: object, workspace_id: int) -> object:
    """Only this workspace's rows, without letting the planner lead with a workspace index:
    an index on the community reads one community's rows, one on the workspace every
    community's (measured 5 to 20 times slower, bench/health.py). An expression over the
    column hides its indexes (`x + 0`, as SQLite's documentation suggests)."""
    return (column + 0) == workspace_id  # type: ignore[operator]


def _in(column: object, start: datetime, end: datetime) -> object:
    return and_(column >= start, column < end)  # type: ignore[operator]


async def activity(
    session: AsyncSession,
    workspace_id: int,
    community_ids: Sequence[int],
    start: datetime,
    end: datetime,
) -> list[Act]:
    """Who captured, reviewed, used, assisted (as a helper), recognised or raised a gap, when."""

    def part(community: object, user: object, at: object, *where: object) -> Select:
        return select(
            community.label("community_id"),  # type: ignore[attr-defined]
            user.label("user_id"),  # type: ignore[attr-defined]
            at.label("at"),  # type: ignore[attr-defined]
        ).where(community.in_(community_ids), _in(at, start, end), *where)  # type: ignore[attr-defined]

    parts = [
        part(Lesson.community_id, Lesson.author_id, Lesson.created_at,
             _scope(Lesson.workspace_id, workspace_id)),
        part(Lesson.community_id, LessonDecision.by_user, LessonDecision.decided_at,
             _scope(LessonDecision.workspace_id, workspace_id), LessonDecision.kind.in_(REVIEWS),
             Lesson.id == LessonDecision.lesson_id),
        part(Lesson.community_id, LessonUse.user_id, LessonUse.used_at,
             _scope(LessonUse.workspace_id, workspace_id), Lesson.id == LessonUse.lesson_id),
        part(PeerAssist.community_id, AssistHelper.user_id, AssistHelper.updated_at,
             _scope(AssistHelper.workspace_id, workspace_id), AssistHelper.state.in_(ASSISTED),
             PeerAssist.id == AssistHelper.assist_id),
        part(Kudos.community_id, Kudos.giver_id, Kudos.given_at,
             _scope(Kudos.workspace_id, workspace_id), Kudos.status == KudosStatus.GIVEN),
        part(Gap.community_id, Gap.raised_by, Gap.created_at,
             _scope(Gap.workspace_id, workspace_id)),
    ]  # fmt: skip
    # UNION (not ALL): the same person at the same instant counts once anyway.
    acts = union(*parts).subquery()
    rows = await session.execute(select(acts.c.community_id, acts.c.user_id, acts.c.at))
    return [Act(c, u, _aware(at)) for c, u, at in rows.all()]


def _aware(value: datetime | str) -> datetime:
    """A column of a UNION loses its type on SQLite: make it an aware UTC instant again."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def lessons(
    session: AsyncSession,
    workspace_id: int,
    community_ids: Sequence[int],
    start: datetime,
    end: datetime,
) -> tuple[list[Captured], list[Validation], list[Use]]:
    """The lessons figure set: captured, each validate decision, each reuse, in the span.

    One statement, one pass over the community's lessons (a UNION ALL of the three kinds):
    their reviews and reuses are found through the lesson, by its id."""
    captured = select(
        Lesson.community_id, Lesson.id, Lesson.created_at, Lesson.created_at.label("at"),
        _label("c"),
    ).where(
        _scope(Lesson.workspace_id, workspace_id),
        Lesson.community_id.in_(community_ids),
        _in(Lesson.created_at, start, end),
    )  # fmt: skip
    validated = select(
        Lesson.community_id, Lesson.id, Lesson.created_at, LessonDecision.decided_at, _label("v")
    ).where(
        _scope(LessonDecision.workspace_id, workspace_id),
        Lesson.id == LessonDecision.lesson_id,
        Lesson.community_id.in_(community_ids),
        LessonDecision.kind == DecisionKind.VALIDATE,
        _in(LessonDecision.decided_at, start, end),
    )
    used = select(
        Lesson.community_id, Lesson.id, Lesson.created_at, LessonUse.used_at, _label("u")
    ).where(
        _scope(LessonUse.workspace_id, workspace_id),
        Lesson.id == LessonUse.lesson_id,
        Lesson.community_id.in_(community_ids),
        _in(LessonUse.used_at, start, end),
    )
    rows = await session.execute(captured.union_all(validated, used))
    out: tuple[list[Captured], list[Validation], list[Use]] = ([], [], [])
    for community_id, lesson_id, created_at, at, what in rows.all():
        created_at, at = _aware(created_at), _aware(at)
        if what == "c":
            out[0].append(Captured(community_id, lesson_id, at))
        elif what == "v":
            out[1].append(Validation(community_id, lesson_id, created_at, at))
        else:
            out[2].append(Use(community_id, lesson_id, at))
    return out


def _label(kind: str) -> object:
    return literal(kind).label("kind")


async def assists(
    session: AsyncSession,
    workspace_id: int,
    community_ids: Sequence[int],
    start: datetime,
    end: datetime,
) -> list[AssistRow]:
    """Assists requested, matched or closed in the span."""
    rows = await session.execute(
        select(
            PeerAssist.community_id,
            PeerAssist.status,
            PeerAssist.created_at,
            PeerAssist.matched_at,
            PeerAssist.closed_at,
        ).where(
            _scope(PeerAssist.workspace_id, workspace_id),
            PeerAssist.community_id.in_(community_ids),
            PeerAssist.created_at < end,
            or_(
                PeerAssist.created_at >= start,
                _in(PeerAssist.matched_at, start, end),
                _in(PeerAssist.closed_at, start, end),
            ),
        )
    )
    return [AssistRow(*row) for row in rows.all()]


async def gaps(
    session: AsyncSession,
    workspace_id: int,
    community_ids: Sequence[int],
    start: datetime,
    end: datetime,
) -> list[GapRow]:
    """Gaps opened or closed in the span."""
    rows = await session.execute(
        select(Gap.community_id, Gap.status, Gap.created_at, Gap.closed_at).where(
            _scope(Gap.workspace_id, workspace_id),
            Gap.community_id.in_(community_ids),
            or_(_in(Gap.created_at, start, end), _in(Gap.closed_at, start, end)),
        )
    )
    return [GapRow(*row) for row in rows.all()]


async def answers(
    session: AsyncSession,
    workspace_id: int,
    community_ids: Sequence[int],
    start: datetime,
    end: datetime,
) -> list[Answer]:
    """Proposals a sponsor decided on in the span: when proposed, when answered."""
    rows = await session.execute(
        select(Proposal.community_id, Proposal.created_at, Proposal.decided_at).where(
            _scope(Proposal.workspace_id, workspace_id),
            Proposal.community_id.in_(community_ids),
            Proposal.decision.is_not(None),
            _in(Proposal.decided_at, start, end),
        )
    )
    return [Answer(*row) for row in rows.all()]


async def recognitions(
    session: AsyncSession,
    workspace_id: int,
    community_ids: Sequence[int],
    start: datetime,
    end: datetime,
) -> list[Recognised]:
    """Kudos given in the span (only those that count): who, and whether outside the
    community's own channel."""
    rows = await session.execute(
        select(Kudos.community_id, Kudos.receiver_id, Kudos.channel_id, Community.channel_id,
               Kudos.given_at)
        .join(Community, Community.id == Kudos.community_id)
        .where(
            _scope(Kudos.workspace_id, workspace_id),
            Kudos.community_id.in_(community_ids),
            Kudos.status == KudosStatus.GIVEN,
            _in(Kudos.given_at, start, end),
        )
    )  # fmt: skip
    return [
        Recognised(community_id, receiver, given_in != home, at)
        for community_id, receiver, given_in, home, at in rows.all()
    ]


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
