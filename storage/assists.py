"""Queries for peer assists and the evidence that matches people to them; every one takes the
workspace. Evidence reads the book (`storage.lessons.search`), the review and reuse records, the
assists already given, and the kudos received (only `given` ones count)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import func, literal, or_, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AssistHelper,
    AssistLessonNotice,
    AssistStatus,
    DecisionKind,
    HelperState,
    Kudos,
    KudosSource,
    KudosStatus,
    KudosTag,
    LessonDecision,
    LessonUse,
    Member,
    PeerAssist,
)

OPEN_STATES = (AssistStatus.OPEN, AssistStatus.MATCHED)
# Those who offered help (and were not turned away); accepted ones are the helpers.
OFFERED = (HelperState.VOLUNTEERED, HelperState.ACCEPTED)
# Earlier assists compared with a new request: the most recent ones (similar topics recur).
PAST_ASSISTS_READ = 200


async def add_assist(session: AsyncSession, assist: PeerAssist) -> PeerAssist:
    session.add(assist)
    await session.flush()
    return assist


async def assist_by_id(
    session: AsyncSession, workspace_id: int, assist_id: int, *, for_update: bool = False
) -> PeerAssist | None:
    query = select(PeerAssist).where(
        PeerAssist.workspace_id == workspace_id, PeerAssist.id == assist_id
    )
    if for_update and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    return await session.scalar(query)


async def helpers_of(session: AsyncSession, assist_id: int) -> list[AssistHelper]:
    found = await session.scalars(
        select(AssistHelper).where(AssistHelper.assist_id == assist_id).order_by(AssistHelper.id)
    )
    return list(found)


async def helper(session: AsyncSession, assist_id: int, user_id: str) -> AssistHelper | None:
    return await session.scalar(
        select(AssistHelper).where(
            AssistHelper.assist_id == assist_id, AssistHelper.user_id == user_id
        )
    )


async def ensure_helper(
    session: AsyncSession,
    assist: PeerAssist,
    user_id: str,
    state: HelperState,
    now: datetime,
    evidence: str = "",
) -> tuple[AssistHelper, bool]:
    """The person's row on this request, and whether it was created now (in `state`); a
    concurrent click that created it first wins: the unique (assist, user) row is read back."""
    values = dict(
        workspace_id=assist.workspace_id, assist_id=assist.id, user_id=user_id, state=state,
        evidence=evidence, created_at=now, updated_at=now,
    )  # fmt: skip
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(AssistHelper)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["assist_id", "user_id"])
    )
    found = await helper(session, assist.id, user_id)
    assert found is not None
    return found, result.rowcount == 1  # type: ignore[attr-defined]


async def open_assists(
    session: AsyncSession,
    workspace_id: int,
    *,
    community_id: int | None = None,
    limit: int = 50,
) -> list[PeerAssist]:
    """Open and matched requests, newest first (of one community when given)."""
    query = select(PeerAssist).where(
        PeerAssist.workspace_id == workspace_id, PeerAssist.status.in_(OPEN_STATES)
    )
    if community_id is not None:
        query = query.where(PeerAssist.community_id == community_id)
    query = query.order_by(PeerAssist.created_at.desc(), PeerAssist.id.desc()).limit(limit)
    return list(await session.scalars(query))


async def requested_by(
    session: AsyncSession, workspace_id: int, user_id: str, limit: int = 20
) -> list[PeerAssist]:
    query = (
        select(PeerAssist)
        .where(
            PeerAssist.workspace_id == workspace_id,
            PeerAssist.requester_id == user_id,
            PeerAssist.status.in_(OPEN_STATES),
        )
        .order_by(PeerAssist.created_at.desc(), PeerAssist.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(query))


async def helping_with(
    session: AsyncSession, workspace_id: int, user_id: str, limit: int = 20
) -> list[PeerAssist]:
    """Open requests this person volunteered for or was accepted on."""
    query = (
        select(PeerAssist)
        .join(AssistHelper, AssistHelper.assist_id == PeerAssist.id)
        .where(
            AssistHelper.workspace_id == workspace_id,
            AssistHelper.user_id == user_id,
            AssistHelper.state.in_(OFFERED),
            PeerAssist.status.in_(OPEN_STATES),
        )
        .order_by(PeerAssist.created_at.desc(), PeerAssist.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(query))


async def set_helper_state(
    session: AsyncSession, row: AssistHelper, state: HelperState, now: datetime
) -> None:
    row.state, row.updated_at = state, now
    await session.flush()


async def accepted_count(session: AsyncSession, assist_id: int) -> int:
    return (
        await session.scalar(
            select(func.count()).where(
                AssistHelper.assist_id == assist_id, AssistHelper.state == HelperState.ACCEPTED
            )
        )
    ) or 0


async def assists_given(session: AsyncSession, workspace_id: int, user_id: str) -> int:
    """The ledger's "assists given": accepted on a request that is done."""
    return (
        await session.scalar(
            select(func.count())
            .select_from(AssistHelper)
            .join(PeerAssist, PeerAssist.id == AssistHelper.assist_id)
            .where(
                AssistHelper.workspace_id == workspace_id,
                AssistHelper.user_id == user_id,
                AssistHelper.state == HelperState.ACCEPTED,
                PeerAssist.status == AssistStatus.DONE,
            )
        )
    ) or 0


# ---- Evidence ---------------------------------------------------------------------------------


VALIDATED, USED = "validated", "used"


async def validators_and_users(
    session: AsyncSession, workspace_id: int, lesson_ids: Sequence[int]
) -> list[tuple[str, str]]:
    """(who, VALIDATED or USED) for each validation and "I used this" of these lessons, in one
    round trip."""
    if not lesson_ids:
        return []
    validated = select(LessonDecision.by_user, literal(VALIDATED)).where(
        LessonDecision.workspace_id == workspace_id,
        LessonDecision.lesson_id.in_(lesson_ids),
        LessonDecision.kind == DecisionKind.VALIDATE,
    )
    used = select(LessonUse.user_id, literal(USED)).where(
        LessonUse.workspace_id == workspace_id, LessonUse.lesson_id.in_(lesson_ids)
    )
    rows = await session.execute(union_all(validated, used))
    return [(user, kind) for user, kind in rows]


async def past_helpers(
    session: AsyncSession, workspace_id: int, exclude_id: int | None = None
) -> list[tuple[str, str, str]]:
    """(title, tags, accepted helper) of the recent requests that got helpers (matched or
    done), to compare topics with; one round trip, columns only."""
    recent = select(PeerAssist.id).where(
        PeerAssist.workspace_id == workspace_id,
        PeerAssist.status.in_((AssistStatus.MATCHED, AssistStatus.DONE)),
    )
    if exclude_id is not None:
        recent = recent.where(PeerAssist.id != exclude_id)
    recent_ids = recent.order_by(PeerAssist.created_at.desc()).limit(PAST_ASSISTS_READ)
    rows = await session.execute(
        select(PeerAssist.title, PeerAssist.tags, AssistHelper.user_id)
        .join(AssistHelper, AssistHelper.assist_id == PeerAssist.id)
        .where(
            PeerAssist.id.in_(recent_ids.scalar_subquery()),
            AssistHelper.state == HelperState.ACCEPTED,
        )
    )
    return [(title, tags, user) for title, tags, user in rows]


async def kudos_by_tag(
    session: AsyncSession, workspace_id: int, tags: Sequence[str], limit: int = 200
) -> list[tuple[str, str, int]]:
    """(receiver, tag, how many) of the given kudos with these tags, most first."""
    if not tags:
        return []
    count = func.count().label("n")
    rows = await session.execute(
        select(Kudos.receiver_id, KudosTag.tag, count)
        .join(Kudos, Kudos.id == KudosTag.kudos_id)
        .where(
            KudosTag.workspace_id == workspace_id,
            KudosTag.tag.in_(tags),
            Kudos.status == KudosStatus.GIVEN,
        )
        .group_by(Kudos.receiver_id, KudosTag.tag)
        .order_by(count.desc())
        .limit(limit)
    )
    return [(receiver, tag, n) for receiver, tag, n in rows]


async def not_people(session: AsyncSession, workspace_id: int, user_ids: Iterable[str]) -> set[str]:
    """Of these, the ones the member cache knows as bots or deleted (unknown ones pass)."""
    wanted = list(user_ids)
    if not wanted:
        return set()
    found = await session.scalars(
        select(Member.user_id).where(
            Member.workspace_id == workspace_id,
            Member.user_id.in_(wanted),
            or_(Member.is_bot, Member.deleted),
        )
    )
    return set(found)


# ---- Kudos to helpers (routed through the kudos service at merge) ------------------------------


async def assist_kudos_exists(
    session: AsyncSession, workspace_id: int, giver_id: str, receiver_id: str, marker: str
) -> bool:
    found = await session.scalar(
        select(Kudos.id).where(
            Kudos.workspace_id == workspace_id,
            Kudos.giver_id == giver_id,
            Kudos.receiver_id == receiver_id,
            Kudos.source == KudosSource.ASSIST,
            Kudos.message_ts == marker,
        )
    )
    return found is not None


async def add_kudos(session: AsyncSession, kudos: Kudos, tags: Sequence[str]) -> None:
    session.add(kudos)
    await session.flush()
    session.add_all(
        KudosTag(kudos_id=kudos.id, tag=t, workspace_id=kudos.workspace_id) for t in tags
    )
    await session.flush()


# ---- Follow-ups (jobs, digests) ----------------------------------------------------------------


async def without_helper_since(
    session: AsyncSession, workspace_id: int, before: datetime, limit: int = 100
) -> list[PeerAssist]:
    """Open requests made before `before` that nobody offered to help with, not nudged yet."""
    offered = select(AssistHelper.id).where(
        AssistHelper.assist_id == PeerAssist.id, AssistHelper.state.in_(OFFERED)
    )
    query = (
        select(PeerAssist)
        .where(
            PeerAssist.workspace_id == workspace_id,
            PeerAssist.status == AssistStatus.OPEN,
            PeerAssist.created_at <= before,
            PeerAssist.no_helper_nudged_at.is_(None),
            ~offered.exists(),
        )
        .order_by(PeerAssist.created_at, PeerAssist.id)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def overdue(
    session: AsyncSession, workspace_id: int, today: date, limit: int = 100
) -> list[PeerAssist]:
    """Open or matched requests past their needed-by date, the requester not asked yet."""
    query = (
        select(PeerAssist)
        .where(
            PeerAssist.workspace_id == workspace_id,
            PeerAssist.status.in_(OPEN_STATES),
            PeerAssist.needed_by < today,
            PeerAssist.overdue_nudged_at.is_(None),
        )
        .order_by(PeerAssist.needed_by, PeerAssist.id)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def claim_nudge(session: AsyncSession, assist_id: int, column: str, now: datetime) -> bool:
    """Mark a follow-up as sent, only if it was not (two schedulers: one wins)."""
    field = getattr(PeerAssist, column)
    result = await session.execute(
        update(PeerAssist)
        .where(PeerAssist.id == assist_id, field.is_(None))
        .values({column: now})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


# ---- Loop closing ------------------------------------------------------------------------------


async def claim_lesson_notice(
    session: AsyncSession, workspace_id: int, assist_id: int, lesson_id: int, now: datetime
) -> bool:
    """Record that a requester is told about a lesson; False when they were already."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(AssistLessonNotice)
        .values(
            assist_id=assist_id, lesson_id=lesson_id, workspace_id=workspace_id, notified_at=now
        )  # fmt: skip
        .on_conflict_do_nothing(index_elements=["assist_id", "lesson_id"])
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
