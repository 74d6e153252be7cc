"""The contribution ledger's queries: per member, over a period, optionally one community.

Each function answers one figure set with one grouped query, scoped by the workspace always;
the ledger service (`bot.core.contributions`), the digests and community health reuse them.
A `LedgerScope` says whose and when: `[since, until)` (either end open when None), one
community or all, everyone or some people. Only what counts is counted: kudos `given`, lessons
of any status, decisions that are reviews, uses by someone other than the author, helpers
accepted on a peer assist closed as done.

Indexes used: for a period, kudos and lessons by time per workspace or per community, decisions
by `decided_at` and uses by `used_at` per workspace, peer assists by `status`; for some people
(a profile), kudos by receiver or giver, lessons by author, decisions by reviewer (most from
migration 0010_ledger). SQLite plans without statistics, so the queries are written to leave it
one good index: `LedgerScope.home` and `_same_workspace`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AssistHelper,
    AssistStatus,
    Community,
    DecisionKind,
    HelperState,
    Kudos,
    KudosStatus,
    Lesson,
    LessonDecision,
    LessonUse,
    Member,
    PeerAssist,
    Role,
    RoleName,
)

# Decisions that are a review (publishing one's own private lesson is not).
REVIEWS = (DecisionKind.VALIDATE, DecisionKind.NEEDS_WORK, DecisionKind.RETIRE)
# Bound parameters per IN list (SQLite allows 32,766; PostgreSQL far more): people in chunks.
IN_CHUNK = 500


@dataclass(frozen=True)
class LedgerScope:
    """Whose contributions, when and where: `[since, until)`, one community or all of them."""

    workspace_id: int
    since: datetime | None = None
    until: datetime | None = None
    community_id: int | None = None
    user_ids: tuple[str, ...] | None = None  # None: everyone

    def during(self, column: Any) -> list[ColumnElement[bool]]:
        conditions = []
        if self.since is not None:
            conditions.append(column >= self.since)
        if self.until is not None:
            conditions.append(column < self.until)
        return conditions

    def people(self, column: Any) -> list[ColumnElement[bool]]:
        return [] if self.user_ids is None else [column.in_(self.user_ids)]

    def within(self, column: Any) -> list[ColumnElement[bool]]:
        return [] if self.community_id is None else [column == self.community_id]

    def home(self, column: Any) -> ColumnElement[bool]:
        """In the workspace. With a community, written `+ 0` (an expression SQLite does not
        index), so its planner, which has no statistics, starts from the community's index
        rather than from the whole workspace's period."""
        if self.community_id is not None:
            return (column + 0) == self.workspace_id
        return column == self.workspace_id

    @property
    def by_person(self) -> bool:
        """Some people only (a profile): queries start from them, not from the period."""
        return self.user_ids is not None


@dataclass(frozen=True)
class KudosReceived:
    """Breadth, not points: how many kudos, from how many people, in how many channels."""

    count: int
    givers: int
    channels: int


@dataclass(frozen=True)
class RoleHeld:
    """A community role a member holds, since when (None: from before roles kept it)."""

    community_id: int
    community: str
    channel_id: str
    role: RoleName
    since: datetime | None
    is_private: bool = False  # a private channel's community: shown only to those inside


def _counts(rows: Iterable[Any]) -> dict[str, int]:
    return {user_id: int(count) for user_id, count in rows}


def _same_workspace(scope: LedgerScope, column: Any) -> ColumnElement[bool]:
    """A row joined to its lesson is in the scope's workspace. For some people their lessons
    are found first (by author), so the row is tied to its lesson's workspace through `+ 0`:
    an expression, which SQLite's planner neither indexes nor turns into a constant, so it
    does not scan the workspace's rows by period instead (it has no statistics to know)."""
    if scope.by_person:
        return (column + 0) == Lesson.workspace_id
    return column == scope.workspace_id


async def kudos_received(session: AsyncSession, scope: LedgerScope) -> dict[str, KudosReceived]:
    """Per receiver: kudos given to them, distinct givers, distinct channels."""
    rows = await session.execute(
        select(
            Kudos.receiver_id,
            func.count(Kudos.id),
            func.count(distinct(Kudos.giver_id)),
            func.count(distinct(Kudos.channel_id)),
        )
        .where(
            scope.home(Kudos.workspace_id),
            Kudos.status == KudosStatus.GIVEN,
            *scope.during(Kudos.given_at),
            *scope.within(Kudos.community_id),
            *scope.people(Kudos.receiver_id),
        )
        .group_by(Kudos.receiver_id)
    )
    return {
        user_id: KudosReceived(int(count), int(givers), int(channels))
        for user_id, count, givers, channels in rows
    }


async def kudos_given(session: AsyncSession, scope: LedgerScope) -> dict[str, int]:
    """Per giver: kudos they gave."""
    rows = await session.execute(
        select(Kudos.giver_id, func.count(Kudos.id))
        .where(
            scope.home(Kudos.workspace_id),
            Kudos.status == KudosStatus.GIVEN,
            *scope.during(Kudos.given_at),
            *scope.within(Kudos.community_id),
            *scope.people(Kudos.giver_id),
        )
        .group_by(Kudos.giver_id)
    )
    return _counts(rows)


async def lessons_written(session: AsyncSession, scope: LedgerScope) -> dict[str, int]:
    """Per author: lessons captured in the period (whatever became of them since)."""
    rows = await session.execute(
        select(Lesson.author_id, func.count(Lesson.id))
        .where(
            scope.home(Lesson.workspace_id),
            *scope.during(Lesson.created_at),
            *scope.within(Lesson.community_id),
            *scope.people(Lesson.author_id),
        )
        .group_by(Lesson.author_id)
    )
    return _counts(rows)


async def lessons_validated(session: AsyncSession, scope: LedgerScope) -> dict[str, int]:
    """Per author: their lessons a reviewer validated in the period (each lesson once)."""
    rows = await session.execute(
        select(Lesson.author_id, func.count(distinct(Lesson.id)))
        .join(LessonDecision, LessonDecision.lesson_id == Lesson.id)
        .where(
            _same_workspace(scope, LessonDecision.workspace_id),
            LessonDecision.kind == DecisionKind.VALIDATE,
            *scope.during(LessonDecision.decided_at),
            Lesson.workspace_id == scope.workspace_id,
            *scope.within(Lesson.community_id),
            *scope.people(Lesson.author_id),
        )
        .group_by(Lesson.author_id)
    )
    return _counts(rows)


async def lesson_reuse(session: AsyncSession, scope: LedgerScope) -> dict[str, int]:
    """Per author: "I used this" on their lessons by someone else, in the period."""
    rows = await session.execute(
        select(Lesson.author_id, func.count(LessonUse.id))
        .join(Lesson, Lesson.id == LessonUse.lesson_id)
        .where(
            _same_workspace(scope, LessonUse.workspace_id),
            *scope.during(LessonUse.used_at),
            Lesson.workspace_id == scope.workspace_id,
            LessonUse.user_id != Lesson.author_id,
            *scope.within(Lesson.community_id),
            *scope.people(Lesson.author_id),
        )
        .group_by(Lesson.author_id)
    )
    return _counts(rows)


async def reviews_done(session: AsyncSession, scope: LedgerScope) -> dict[str, int]:
    """Per reviewer: validate, needs-work and retire decisions they made in the period."""
    query = select(LessonDecision.by_user, func.count(LessonDecision.id)).where(
        LessonDecision.workspace_id == scope.workspace_id,
        LessonDecision.kind.in_(REVIEWS),
        *scope.during(LessonDecision.decided_at),
        *scope.people(LessonDecision.by_user),
    )
    if scope.community_id is not None:
        query = query.join(Lesson, Lesson.id == LessonDecision.lesson_id).where(
            Lesson.community_id == scope.community_id
        )
    rows = await session.execute(query.group_by(LessonDecision.by_user))
    return _counts(rows)


async def assists_given(session: AsyncSession, scope: LedgerScope) -> dict[str, int]:
    """Per helper: peer assists they were accepted on, closed as done in the period."""
    rows = await session.execute(
        select(AssistHelper.user_id, func.count(distinct(PeerAssist.id)))
        .join(PeerAssist, PeerAssist.id == AssistHelper.assist_id)
        .where(
            PeerAssist.workspace_id == scope.workspace_id,
            PeerAssist.status == AssistStatus.DONE,
            *scope.during(PeerAssist.closed_at),
            *scope.within(PeerAssist.community_id),
            AssistHelper.workspace_id == scope.workspace_id,
            AssistHelper.state == HelperState.ACCEPTED,
            *scope.people(AssistHelper.user_id),
        )
        .group_by(AssistHelper.user_id)
    )
    return _counts(rows)


async def roles_held(session: AsyncSession, scope: LedgerScope) -> dict[str, list[RoleHeld]]:
    """Per member: the community roles they hold (taken before the period ends), by community."""
    conditions = [Role.workspace_id == scope.workspace_id, *scope.people(Role.user_id)]
    conditions += scope.within(Role.community_id)
    if scope.until is not None:
        conditions.append(Role.since.is_(None) | (Role.since < scope.until))
    rows = await session.execute(
        select(
            Role.user_id,
            Role.role,
            Role.since,
            Community.id,
            Community.name,
            Community.channel_id,
            Community.is_private,
        )
        .join(Community, Community.id == Role.community_id)
        .where(*conditions, Community.workspace_id == scope.workspace_id)
        .order_by(Community.name, Community.id, Role.role)
    )
    held: dict[str, list[RoleHeld]] = {}
    for user_id, role, since, community_id, name, channel_id, is_private in rows:
        held.setdefault(user_id, []).append(
            RoleHeld(community_id, name, channel_id, role, since, is_private)
        )
    return held


async def member_names(
    session: AsyncSession, workspace_id: int, user_ids: Collection[str]
) -> dict[str, str]:
    """The cached display names of these people (the member cache), where known."""
    names: dict[str, str] = {}
    wanted = sorted(user_ids)
    for start in range(0, len(wanted), IN_CHUNK):
        chunk: Sequence[str] = wanted[start : start + IN_CHUNK]
        rows = await session.execute(
            select(Member.user_id, Member.name).where(
                Member.workspace_id == workspace_id, Member.user_id.in_(chunk)
            )
        )
        names.update({user_id: name or "" for user_id, name in rows})
    return names
