"""Queries for knowledge gaps, proposals to sponsors and strategic priorities; every one takes
the workspace, so another workspace's rows are never read or counted."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Lesson, LessonStatus
from storage.models.gaps import (
    Gap,
    GapLesson,
    GapStatus,
    GapVote,
    Proposal,
    ProposalEvidence,
    ProposalStatus,
    StrategicPriority,
)

# How many open gaps a new lesson is compared with (the newest of its community first).
MATCH_CANDIDATES = 500
OPEN_PROPOSALS = (ProposalStatus.OPEN, ProposalStatus.ACKNOWLEDGED)


# ---- Gaps -------------------------------------------------------------------------------------


async def add_gap(session: AsyncSession, gap: Gap) -> Gap:
    session.add(gap)
    await session.flush()
    return gap


async def gap_by_id(session: AsyncSession, workspace_id: int, gap_id: int) -> Gap | None:
    return await session.scalar(
        select(Gap).where(Gap.workspace_id == workspace_id, Gap.id == gap_id)
    )


async def open_gaps(
    session: AsyncSession, workspace_id: int, community_ids: Sequence[int], *, limit: int
) -> list[Gap]:
    """Open gaps of these communities, most voted first, then the newest."""
    if not community_ids:
        return []
    result = await session.scalars(
        select(Gap)
        .where(
            Gap.workspace_id == workspace_id,
            Gap.community_id.in_(community_ids),
            Gap.status == GapStatus.OPEN,
        )
        .order_by(Gap.vote_count.desc(), Gap.created_at.desc(), Gap.id.desc())
        .limit(limit)
    )
    return list(result)


async def open_gap_count(
    session: AsyncSession, workspace_id: int, community_ids: Sequence[int]
) -> int:
    if not community_ids:
        return 0
    found = await session.scalar(
        select(func.count()).where(
            Gap.workspace_id == workspace_id,
            Gap.community_id.in_(community_ids),
            Gap.status == GapStatus.OPEN,
        )
    )
    return found or 0


@dataclass(frozen=True)
class Candidate:
    """What matching a lesson needs of an open gap (not the whole row: hundreds are read)."""

    id: int
    question: str
    tags: str
    votes: int


async def match_candidates(
    session: AsyncSession, workspace_id: int, community_id: int | None
) -> list[Candidate]:
    """The open gaps a lesson may answer: its community's (or, without one, the workspace's),
    newest first."""
    query = select(Gap.id, Gap.question, Gap.tags, Gap.vote_count).where(
        Gap.workspace_id == workspace_id, Gap.status == GapStatus.OPEN
    )
    if community_id is not None:
        query = query.where(Gap.community_id == community_id)
    query = query.order_by(Gap.created_at.desc(), Gap.id.desc()).limit(MATCH_CANDIDATES)
    return [Candidate(*row) for row in await session.execute(query)]


async def add_vote(session: AsyncSession, gap: Gap, user_id: str, now: datetime) -> bool:
    """+1 once per person: False when they had voted already (even a moment ago, elsewhere)."""
    if await session.get(GapVote, (gap.id, user_id)) is not None:
        return False
    try:
        async with session.begin_nested():  # a double click racing this one: one row wins
            session.add(
                GapVote(gap_id=gap.id, user_id=user_id, workspace_id=gap.workspace_id, voted_at=now)
            )
    except IntegrityError:
        return False
    # An increment in the database (not in Python): two voters at once both count.
    await session.execute(update(Gap).where(Gap.id == gap.id).values(vote_count=Gap.vote_count + 1))
    await session.refresh(gap, ["vote_count"])
    return True


async def voters(session: AsyncSession, gap_id: int) -> list[str]:
    result = await session.scalars(
        select(GapVote.user_id).where(GapVote.gap_id == gap_id).order_by(GapVote.voted_at)
    )
    return list(result)


async def gap_lesson(session: AsyncSession, gap_id: int, lesson_id: int) -> GapLesson | None:
    return await session.scalar(
        select(GapLesson).where(GapLesson.gap_id == gap_id, GapLesson.lesson_id == lesson_id)
    )


async def offered_gaps(session: AsyncSession, lesson_id: int, gap_ids: Sequence[int]) -> set[int]:
    """Which of these gaps this lesson was offered for (or linked to) already."""
    if not gap_ids:
        return set()
    result = await session.scalars(
        select(GapLesson.gap_id).where(
            GapLesson.lesson_id == lesson_id, GapLesson.gap_id.in_(gap_ids)
        )
    )
    return set(result)


async def add_gap_lesson(
    session: AsyncSession, workspace_id: int, gap_id: int, lesson_id: int, now: datetime
) -> GapLesson:
    row = GapLesson(workspace_id=workspace_id, gap_id=gap_id, lesson_id=lesson_id, offered_at=now)
    session.add(row)
    await session.flush()
    return row


async def validated_lessons(
    session: AsyncSession, workspace_id: int, lesson_ids: Iterable[int]
) -> list[Lesson]:
    ids = list(lesson_ids)
    if not ids:
        return []
    result = await session.scalars(
        select(Lesson).where(
            Lesson.workspace_id == workspace_id,
            Lesson.id.in_(ids),
            Lesson.status == LessonStatus.VALIDATED,
        )
    )
    return list(result)


# ---- Proposals --------------------------------------------------------------------------------


async def add_proposal(
    session: AsyncSession, proposal: Proposal, evidence: Iterable[tuple[str, int]]
) -> Proposal:
    session.add(proposal)
    await session.flush()
    for kind, item_id in dict.fromkeys(evidence):
        session.add(
            ProposalEvidence(
                proposal_id=proposal.id,
                kind=kind,
                item_id=item_id,
                workspace_id=proposal.workspace_id,
            )
        )
    await session.flush()
    return proposal


async def proposal_by_id(
    session: AsyncSession, workspace_id: int, proposal_id: int
) -> Proposal | None:
    return await session.scalar(
        select(Proposal).where(Proposal.workspace_id == workspace_id, Proposal.id == proposal_id)
    )


async def evidence_of(session: AsyncSession, proposal_id: int) -> list[ProposalEvidence]:
    result = await session.scalars(
        select(ProposalEvidence)
        .where(ProposalEvidence.proposal_id == proposal_id)
        .order_by(ProposalEvidence.kind, ProposalEvidence.item_id)
    )
    return list(result)


async def open_proposals(
    session: AsyncSession, workspace_id: int, community_ids: Sequence[int], *, limit: int = 50
) -> list[Proposal]:
    """Proposals not answered yet (open or acknowledged), oldest first: the sponsor's queue
    and the monthly digest."""
    if not community_ids:
        return []
    result = await session.scalars(
        select(Proposal)
        .where(
            Proposal.workspace_id == workspace_id,
            Proposal.community_id.in_(community_ids),
            Proposal.status.in_(OPEN_PROPOSALS),
        )
        .order_by(Proposal.created_at, Proposal.id)
        .limit(limit)
    )
    return list(result)


# ---- Strategic priorities ---------------------------------------------------------------------


async def priorities_of(
    session: AsyncSession, workspace_id: int, community_id: int
) -> list[StrategicPriority]:
    """A community's current priorities (not retired), in the order they were set."""
    result = await session.scalars(
        select(StrategicPriority)
        .where(
            StrategicPriority.workspace_id == workspace_id,
            StrategicPriority.community_id == community_id,
            StrategicPriority.retired_at.is_(None),
        )
        .order_by(StrategicPriority.id)
    )
    return list(result)


async def priority_by_id(
    session: AsyncSession, workspace_id: int, priority_id: int
) -> StrategicPriority | None:
    return await session.scalar(
        select(StrategicPriority).where(
            StrategicPriority.workspace_id == workspace_id, StrategicPriority.id == priority_id
        )
    )


async def linked_lessons(
    session: AsyncSession, workspace_id: int, priority_id: int, *, limit: int
) -> list[Lesson]:
    """Validated lessons linked to a priority, newest first: what the community learned."""
    result = await session.scalars(
        select(Lesson)
        .where(
            Lesson.workspace_id == workspace_id,
            Lesson.priority_id == priority_id,
            Lesson.status == LessonStatus.VALIDATED,
        )
        .order_by(Lesson.updated_at.desc(), Lesson.id.desc())
        .limit(limit)
    )
    return list(result)


async def linked_gaps(
    session: AsyncSession, workspace_id: int, priority_id: int, *, limit: int
) -> list[Gap]:
    """Open gaps linked to a priority, most voted first: what is still a gap."""
    result = await session.scalars(
        select(Gap)
        .where(
            Gap.workspace_id == workspace_id,
            Gap.priority_id == priority_id,
            Gap.status == GapStatus.OPEN,
        )
        .order_by(Gap.vote_count.desc(), Gap.id.desc())
        .limit(limit)
    )
    return list(result)


async def linked_proposals(
    session: AsyncSession, workspace_id: int, priority_id: int, *, limit: int
) -> list[Proposal]:
    result = await session.scalars(
        select(Proposal)
        .where(Proposal.workspace_id == workspace_id, Proposal.priority_id == priority_id)
        .order_by(Proposal.created_at.desc(), Proposal.id.desc())
        .limit(limit)
    )
    return list(result)
