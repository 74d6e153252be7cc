"""The digests' SQL: a week's or a month's rows of one community, read by community and time.

Every query is bounded by a period `[start, end)` on an indexed time column (or by a small
status set), so a digest costs what the period holds, never the whole history. `public=True`
keeps what a channel may show: public kudos, lessons from public channels or published ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    distinct,
    exists,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.communities import not_paused
from storage.lessons import Viewer, visible_to
from storage.models import (
    AssistStatus,
    Community,
    DecisionKind,
    Gap,
    GapStatus,
    Kudos,
    KudosStatus,
    Lesson,
    LessonDecision,
    LessonStatus,
    LessonTag,
    LessonUse,
    Member,
    PeerAssist,
    Role,
    RoleName,
    Visibility,
    Workspace,
)


@dataclass(frozen=True)
class Scope:
    """One community's period: `[start, end)`."""

    workspace_id: int
    community_id: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class KudosRow:
    giver_id: str
    receiver_id: str
    reason: str
    channel_id: str | None
    permalink: str | None


@dataclass(frozen=True)
class LessonRow:
    id: int
    title: str
    author_id: str
    permalink: str | None
    count: int = 0  # reuses in the period, where that is what is counted


@dataclass(frozen=True)
class Breadth:
    kudos: int
    givers: int
    receivers: int
    channels: int


def _kudos_in(scope: Scope, public: bool) -> list[ColumnElement[bool]]:
    where = [
        Kudos.community_id == scope.community_id,
        Kudos.given_at >= scope.start,
        Kudos.given_at < scope.end,
        Kudos.status == KudosStatus.GIVEN,
        Kudos.workspace_id == scope.workspace_id,
    ]
    if public:
        where.append(Kudos.visibility == Visibility.PUBLIC)
    return where


def _seen_by_all(public: bool) -> ColumnElement[bool]:
    return visible_to(Viewer("")) if public else true()


async def kudos_of(
    session: AsyncSession, scope: Scope, *, public: bool = True, limit: int = 40
) -> list[KudosRow]:
    """The period's kudos, oldest first, at most `limit` (`breadth` counts them all)."""
    rows = await session.execute(
        select(Kudos.giver_id, Kudos.receiver_id, Kudos.reason, Kudos.channel_id, Kudos.permalink)
        .where(*_kudos_in(scope, public))
        .order_by(Kudos.given_at, Kudos.id)
        .limit(limit)
    )
    return [KudosRow(*row) for row in rows]


async def breadth(session: AsyncSession, scope: Scope, *, public: bool = True) -> Breadth:
    """How many kudos, from how many people, to how many, in how many channels."""
    row = (
        await session.execute(
            select(
                func.count(Kudos.id),
                func.count(distinct(Kudos.giver_id)),
                func.count(distinct(Kudos.receiver_id)),
                func.count(distinct(Kudos.channel_id)),
            ).where(*_kudos_in(scope, public))
        )
    ).one()
    return Breadth(*(int(n or 0) for n in row))


async def first_time_recognised(
    session: AsyncSession, scope: Scope, *, public: bool = True, limit: int = 20
) -> list[str]:
    """People recognised in the period who had never been before (anywhere in the workspace),
    in the order they were first thanked in the period.

    One probe per person recognised, answered from the (workspace, receiver, given_at) index
    alone: any earlier kudos row counts as "recognised before", even one taken back since (a
    rare case, and reading each row's status would cost a table read per person)."""
    week = (
        select(
            Kudos.workspace_id.label("workspace_id"),
            Kudos.receiver_id.label("receiver_id"),
            func.min(Kudos.given_at).label("first"),
        )
        .where(*_kudos_in(scope, public))
        .group_by(Kudos.workspace_id, Kudos.receiver_id)
        .subquery()
    )
    earlier = aliased(Kudos)
    before = exists().where(
        earlier.workspace_id == week.c.workspace_id,
        earlier.receiver_id == week.c.receiver_id,
        earlier.given_at < scope.start,
    )
    rows = await session.scalars(
        select(week.c.receiver_id)
        .where(~before)
        .order_by(week.c.first, week.c.receiver_id)
        .limit(limit)
    )
    return list(rows)


async def _counted(session: AsyncSession, query: Select, limit: int) -> tuple[list[LessonRow], int]:  # type: ignore[type-arg]
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = await session.execute(query.limit(limit))
    return [LessonRow(*row) for row in rows], int(total or 0)


async def lessons_captured(
    session: AsyncSession, scope: Scope, *, public: bool = True, limit: int = 5
) -> tuple[list[LessonRow], int]:
    """Lessons captured in the period, the first `limit`, and how many in all."""
    query = (
        select(Lesson.id, Lesson.title, Lesson.author_id, Lesson.permalink)
        .where(
            Lesson.community_id == scope.community_id,
            Lesson.created_at >= scope.start,
            Lesson.created_at < scope.end,
            Lesson.workspace_id == scope.workspace_id,
            Lesson.status != LessonStatus.RETIRED,
            _seen_by_all(public),
        )
        .order_by(Lesson.created_at, Lesson.id)
    )
    return await _counted(session, query, limit)


async def lessons_validated(
    session: AsyncSession, scope: Scope, *, public: bool = True, limit: int = 5
) -> tuple[list[LessonRow], int]:
    """Lessons validated in the period (and still validated), the first `limit`, and the count."""
    query = (
        select(Lesson.id, Lesson.title, Lesson.author_id, Lesson.permalink)
        .join(LessonDecision, LessonDecision.lesson_id == Lesson.id)
        .where(
            LessonDecision.workspace_id == scope.workspace_id,
            LessonDecision.decided_at >= scope.start,
            LessonDecision.decided_at < scope.end,
            LessonDecision.kind == DecisionKind.VALIDATE,
            Lesson.community_id == scope.community_id,
            Lesson.status == LessonStatus.VALIDATED,
            _seen_by_all(public),
        )
        .group_by(Lesson.id, Lesson.title, Lesson.author_id, Lesson.permalink)
        .order_by(func.min(LessonDecision.decided_at), Lesson.id)
    )
    return await _counted(session, query, limit)


async def most_reused(
    session: AsyncSession, scope: Scope, *, public: bool = True, limit: int = 3
) -> tuple[list[LessonRow], int]:
    """The lessons reused most in the period (who said "I used this"), and all reuses.

    The period's uses are counted per lesson first, then joined to their lessons: the join
    reads the lessons reused this period, not the community's whole book."""
    counted = (
        select(LessonUse.lesson_id.label("lesson_id"), func.count().label("uses"))
        .where(
            LessonUse.workspace_id == scope.workspace_id,
            LessonUse.used_at >= scope.start,
            LessonUse.used_at < scope.end,
        )
        .group_by(LessonUse.lesson_id)
        .subquery()
    )
    query = (
        select(Lesson.id, Lesson.title, Lesson.author_id, Lesson.permalink, counted.c.uses)
        .join(counted, counted.c.lesson_id == Lesson.id)
        .where(
            Lesson.community_id == scope.community_id,
            Lesson.status != LessonStatus.RETIRED,
            _seen_by_all(public),
        )
    )
    rows = await session.execute(query.order_by(counted.c.uses.desc(), Lesson.id).limit(limit))
    total = await session.scalar(select(func.coalesce(func.sum(query.subquery().c.uses), 0)))
    return [LessonRow(*row) for row in rows], int(total or 0)


async def assists_completed(
    session: AsyncSession, scope: Scope, *, public: bool = True, limit: int = 5
) -> tuple[list[LessonRow], int]:
    """Peer assists done in the period (as rows: id, title, requester, permalink), and the count."""
    query = (
        select(PeerAssist.id, PeerAssist.title, PeerAssist.requester_id, PeerAssist.permalink)
        .where(
            PeerAssist.community_id == scope.community_id,
            PeerAssist.closed_at >= scope.start,
            PeerAssist.closed_at < scope.end,
            PeerAssist.status == AssistStatus.DONE,
            PeerAssist.workspace_id == scope.workspace_id,
        )
        .order_by(PeerAssist.closed_at, PeerAssist.id)
    )
    if public:
        query = query.where(PeerAssist.visibility == Visibility.PUBLIC)
    return await _counted(session, query, limit)


async def open_gaps(
    session: AsyncSession, workspace_id: int, community_id: int, *, public: bool = True,
    limit: int = 5,
) -> tuple[list[tuple[int, str, int, str | None]], int]:  # fmt: skip
    """The community's open gaps, most +1'd first (id, question, votes, permalink), the count."""
    where = [
        Gap.community_id == community_id,
        Gap.status == GapStatus.OPEN,
        Gap.workspace_id == workspace_id,
    ]
    if public:
        where.append(Gap.visibility == Visibility.PUBLIC)
    rows = await session.execute(
        select(Gap.id, Gap.question, Gap.vote_count, Gap.permalink)
        .where(*where)
        .order_by(Gap.vote_count.desc(), Gap.created_at, Gap.id)
        .limit(limit)
    )
    total = await session.scalar(select(func.count(Gap.id)).where(*where))
    return [tuple(row) for row in rows], int(total or 0)  # type: ignore[misc]


async def top_tags(
    session: AsyncSession, scope: Scope, *, public: bool = True, limit: int = 5
) -> list[tuple[str, int]]:
    """The tags of the lessons captured in the period, most used first."""
    uses = func.count(LessonTag.lesson_id)
    rows = await session.execute(
        select(LessonTag.tag, uses)
        .join(Lesson, Lesson.id == LessonTag.lesson_id)
        .where(
            Lesson.community_id == scope.community_id,
            Lesson.created_at >= scope.start,
            Lesson.created_at < scope.end,
            Lesson.workspace_id == scope.workspace_id,
            _seen_by_all(public),
        )
        .group_by(LessonTag.tag)
        .order_by(uses.desc(), LessonTag.tag)
        .limit(limit)
    )
    return [(tag, int(n)) for tag, n in rows]


async def stale_lessons(
    session: AsyncSession, workspace_id: int, community_id: int, before: datetime, *,
    limit: int = 5,
) -> tuple[list[LessonRow], int]:  # fmt: skip
    """Validated lessons last reviewed before `before` (a year ago): to confirm again."""
    query = (
        select(Lesson.id, Lesson.title, Lesson.author_id, Lesson.permalink)
        .where(
            Lesson.community_id == community_id,
            Lesson.status == LessonStatus.VALIDATED,
            Lesson.reviewed_at < before,
            Lesson.workspace_id == workspace_id,
            _seen_by_all(True),  # quoted in a DM: never a private channel's lesson
        )
        .order_by(Lesson.reviewed_at, Lesson.id)
    )
    return await _counted(session, query, limit)


# ---- Review nudges: per reviewer, in the reviewer's timezone ----------------------------------


async def reviewers(session: AsyncSession) -> list[tuple[int, str, str | None, str]]:
    """Every reviewer of an active community of an installed workspace, once per workspace, with
    their own timezone (the member cache) and their first community's: (workspace, user, own
    timezone or None, community timezone)."""
    rows = await session.execute(
        select(Role.workspace_id, Role.user_id, Member.timezone, Community.timezone)
        .join(Community, Community.id == Role.community_id)
        .join(Workspace, Workspace.id == Role.workspace_id)
        .outerjoin(
            Member, and_(Member.workspace_id == Role.workspace_id, Member.user_id == Role.user_id)
        )
        .where(
            Role.role == RoleName.REVIEWER,
            Workspace.uninstalled_at.is_(None),
            not_paused(),
            or_(Member.id.is_(None), Member.deleted.is_(False)),
        )
        .order_by(Role.workspace_id, Role.user_id, Community.id)
    )
    found: dict[tuple[int, str], tuple[str | None, str]] = {}
    for workspace_id, user_id, own, community_zone in rows:
        found.setdefault((workspace_id, user_id), (own or None, community_zone))
    return [(ws, user_id, own, other) for (ws, user_id), (own, other) in found.items()]


async def reviewed_by(
    session: AsyncSession, workspace_id: int, reviewer_id: str
) -> list[tuple[int, dict[str, Any]]]:
    """The active communities this person reviews for: (id, settings)."""
    rows = await session.execute(
        select(Community.id, Community.settings)
        .join(Role, Role.community_id == Community.id)
        .where(
            Role.workspace_id == workspace_id,
            Role.user_id == reviewer_id,
            Role.role == RoleName.REVIEWER,
            not_paused(),
        )
        .order_by(Community.id)
    )
    return [(community_id, settings or {}) for community_id, settings in rows]


async def waiting_for(
    session: AsyncSession, workspace_id: int, reviewer_id: str, community_ids: list[int],
    before: datetime, *, limit: int = 10,
) -> tuple[list[tuple[LessonRow, str]], int]:  # fmt: skip
    """Captured lessons of these communities waiting since before `before`, that the reviewer
    may see and did not write, oldest first: (lesson, community name)."""
    where = [
        Lesson.workspace_id == workspace_id,
        Lesson.status == LessonStatus.CAPTURED,
        Lesson.created_at < before,
        Lesson.community_id.in_(community_ids),
        Lesson.author_id != reviewer_id,
        visible_to(Viewer(reviewer_id)),
    ]
    query = (
        select(Lesson.id, Lesson.title, Lesson.author_id, Lesson.permalink, Community.name)
        .join(Community, Community.id == Lesson.community_id)
        .where(*where)
    )
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(query.order_by(Lesson.created_at, Lesson.id).limit(limit))
    return [(LessonRow(i, t, a, p), name) for i, t, a, p, name in rows], int(total or 0)


async def community_roles(
    session: AsyncSession, workspace_id: int, community_id: int, role: RoleName
) -> list[str]:
    rows = await session.scalars(
        select(Role.user_id)
        .where(
            Role.workspace_id == workspace_id,
            Role.community_id == community_id,
            Role.role == role,
        )
        .order_by(Role.user_id)
    )
    return list(rows)


async def community_name(session: AsyncSession, workspace_id: int, community_id: int) -> str:
    name = await session.scalar(
        select(Community.name).where(
            Community.workspace_id == workspace_id, Community.id == community_id
        )
    )
    return name or ""
