"""Knowledge gaps and the community's strategic priorities: the rules.

A gap is a question the community cannot answer yet. It is raised in a community (`open`),
gets +1s (one per person), and ends `answered` (a lesson linked as its answer, or a coordinator
closing it) or `out_of_scope`. A lesson captured or validated that matches an open gap is offered
to its author once per (gap, lesson); linking it tells the raiser and the voters once: that is
the only gap notification. Priorities are a few short statements a community's sponsors set;
gaps, lessons and proposals link to one, suggested from their tags and words.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core import permissions
from bot.core.communities import CommunityView
from bot.core.communities import view_of as community_view
from bot.core.lessons import LessonView, readable
from bot.core.lessons import view_of as lesson_view
from storage import communities as community_queries
from storage import gaps as queries
from storage import lessons as lesson_queries
from storage.lessons import Filters, Viewer, search_terms
from storage.models import Community, Lesson, LessonStatus, Visibility
from storage.models.gaps import (
    STATEMENT_MAX,
    Gap,
    GapStatus,
    StrategicPriority,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.unit_of_work import UnitOfWork

QUESTION_MAX = 1000
NOTE_MAX = 1000
LIST_SIZE = 10
PRIORITIES_MAX = 5
# A lesson answers a gap when it covers this share of the gap's content words (a shared tag
# counts as much as `TAG_WEIGHT` of them).
MATCH_THRESHOLD = 0.5
TAG_WEIGHT = 0.3
# A lesson is offered for its best few matching gaps, not for every one.
OFFERS_MAX = 3

_CHANNEL_TAG = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
_TAG = re.compile(r"(?<![\w#])#([\w][\w-]{0,63})", re.UNICODE)


@dataclass(frozen=True)
class GapView:
    """A gap as the surfaces show it (plain data)."""

    id: int
    question: str
    tags: tuple[str, ...]
    raised_by: str
    community_id: int | None
    status: GapStatus
    votes: int
    permalink: str | None
    priority_id: int | None
    answer_lesson_id: int | None
    closed_by: str | None
    close_note: str | None
    created_at: datetime


def gap_view(gap: Gap) -> GapView:
    return GapView(
        id=gap.id, question=gap.question, tags=tuple(gap.tags.split()), raised_by=gap.raised_by,
        community_id=gap.community_id, status=gap.status, votes=gap.vote_count,
        permalink=gap.permalink, priority_id=gap.priority_id,
        answer_lesson_id=gap.answer_lesson_id, closed_by=gap.closed_by,
        close_note=gap.close_note, created_at=gap.created_at,
    )  # fmt: skip


@dataclass(frozen=True)
class PriorityView:
    id: int
    community_id: int
    statement: str
    tags: tuple[str, ...]
    set_by: str


def priority_view(priority: StrategicPriority) -> PriorityView:
    return PriorityView(priority.id, priority.community_id, priority.statement,
                        tuple(priority.tags.split()), priority.set_by)  # fmt: skip


# ---- Reading what people typed ----------------------------------------------------------------


@dataclass(frozen=True)
class GapText:
    question: str
    tags: tuple[str, ...]


def read_gap_text(text: str) -> GapText:
    """`/doughnut gap` text, unescaped by the router: `#tags` out (a `#name` of a channel
    arrives as a link), mentions as a person reads them; the question kept as typed."""
    tags = _CHANNEL_TAG.findall(text)
    text = _CHANNEL_TAG.sub(" ", text)
    tags += _TAG.findall(text)
    question = " ".join(_TAG.sub(" ", readable(text)).split())
    return GapText(question, tuple(lesson_queries.normal_tags(tags)))


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


@functools.lru_cache(maxsize=8192)
def _words(text: str) -> frozenset[str]:
    """A text's content words, roughly stemmed (kept: the same open gaps are compared with
    every new lesson)."""
    return frozenset(_stem(w) for w in search_terms(text) if w not in lesson_queries.STOP_WORDS)


def _lesson_words(lesson: LessonView) -> frozenset[str]:
    text = " ".join((lesson.title, lesson.next_time, lesson.expected, lesson.happened,
                     lesson.why, " ".join(lesson.tags)))  # fmt: skip
    return _words(text)


def _asked(question: str, tags: tuple[str, ...]) -> frozenset[str]:
    return _words(question) | {_stem(t) for t in tags}


def answer_score(question: str, tags: tuple[str, ...], lesson: LessonView) -> float:
    """How well a lesson answers a gap: the share of the gap's words it covers, plus a bonus
    when they share a tag (full text and tags, as the issue asks)."""
    return _score(_asked(question, tags), tags, _lesson_words(lesson), lesson.tags)


def _score(
    asked: frozenset[str],
    tags: tuple[str, ...],
    covers: frozenset[str],
    lesson_tags: tuple[str, ...],
) -> float:
    if not asked:
        return 0.0
    covered = len(asked & covers) / len(asked)
    return covered + (TAG_WEIGHT if set(tags) & set(lesson_tags) else 0.0)


def suggest_priority(
    priorities: tuple[PriorityView, ...], text: str, tags: tuple[str, ...]
) -> int | None:
    """The priority whose tags and words a text shares most (a shared tag weighs most)."""
    words = _words(text)
    best: tuple[float, int] | None = None
    for priority in priorities:
        score = 2.0 * len(set(tags) & set(priority.tags))
        score += len(words & (_words(priority.statement) | {_stem(t) for t in priority.tags}))
        if score > 0 and (best is None or score > best[0]):
            best = (score, priority.id)
    return best[1] if best else None


# ---- Raising a gap ----------------------------------------------------------------------------


class Problem(enum.Enum):
    EMPTY = "empty"
    NO_COMMUNITY = "no_community"
    TOO_LONG = "too_long"


@dataclass(frozen=True)
class Raised:
    """A gap raised (or why not); `known` is the validated lesson that answered it at once."""

    gap: GapView | None
    problem: Problem | None = None
    known: LessonView | None = None
    community: CommunityView | None = None


@dataclass(frozen=True)
class GapSource:
    """Where a gap came from: a slash command in a channel, or a message (shortcut)."""

    user_id: str
    channel_id: str | None
    message_ts: str | None = None
    permalink: str | None = None


async def raise_gap(
    uow: UnitOfWork,
    question: str,
    tags: tuple[str, ...],
    source: GapSource,
    *,
    community_id: int | None = None,
    priority_id: int | None = None,
) -> Raised:
    """Record a gap in a community (the channel's, unless one is given). When a validated lesson
    the asker may see already answers it, the gap is answered on the spot with that lesson."""
    question = question.strip()
    if not question:
        return Raised(None, Problem.EMPTY)
    if len(question) > QUESTION_MAX:
        return Raised(None, Problem.TOO_LONG)
    workspace = await uow.workspace()
    session = await uow.session()
    community = await _community(session, workspace.id, community_id, source.channel_id)
    if community is None:
        return Raised(None, Problem.NO_COMMUNITY)
    now = uow.deps.clock.now()
    priorities = await _priorities(session, workspace.id, community.id)
    if priority_id not in {p.id for p in priorities}:
        priority_id = suggest_priority(priorities, question, tags)
    gap = await queries.add_gap(
        session,
        Gap(
            workspace_id=workspace.id, community_id=community.id, question=question,
            tags=" ".join(tags), raised_by=source.user_id, source_channel_id=source.channel_id,
            source_ts=source.message_ts, permalink=source.permalink,
            visibility=Visibility.PRIVATE if community.is_private else Visibility.PUBLIC,
            status=GapStatus.OPEN, vote_count=0, priority_id=priority_id, created_at=now,
        ),
    )  # fmt: skip
    known = await _already_known(session, workspace.id, gap_view(gap), source)
    if known is not None:
        gap.status = GapStatus.ANSWERED
        gap.answer_lesson_id = known.id
        gap.closed_at = now
        row = await queries.add_gap_lesson(session, workspace.id, gap.id, known.id, now)
        row.linked_at = now
        await session.flush()
    return Raised(gap_view(gap), known=known, community=community_view(community))


async def _community(
    session: AsyncSession, workspace_id: int, community_id: int | None, channel_id: str | None
) -> Community | None:
    if community_id is not None:
        found = await session.get(Community, community_id)
        return found if found is not None and found.workspace_id == workspace_id else None
    if channel_id is None:
        return None
    return await community_queries.community_in_channel(session, workspace_id, channel_id)


async def _already_known(
    session: AsyncSession, workspace_id: int, gap: GapView, source: GapSource
) -> LessonView | None:
    """The best validated lesson the asker may see there that answers the question."""
    terms = search_terms(" ".join((gap.question, *gap.tags)))
    found = await lesson_queries.search(
        session,
        workspace_id,
        terms,
        Viewer(source.user_id, source.channel_id),
        Filters(statuses=(LessonStatus.VALIDATED,)),
        limit=5,
    )
    scored = [(answer_score(gap.question, gap.tags, v), v) for v in map(lesson_view, found)]
    scored = [pair for pair in scored if pair[0] >= MATCH_THRESHOLD]
    scored.sort(key=lambda pair: -pair[0])
    return scored[0][1] if scored else None


# ---- Listing, +1, closing ---------------------------------------------------------------------


@dataclass(frozen=True)
class GapList:
    community: CommunityView | None
    gaps: tuple[GapView, ...] = ()
    total: int = 0
    may_close: bool = False


async def list_gaps(uow: UnitOfWork, channel_id: str | None, user_id: str) -> GapList:
    """The open gaps of the channel's community, most voted first."""
    async with uow.reading() as (session, workspace):
        if workspace is None or channel_id is None:
            return GapList(None)
        community = await community_queries.community_in_channel(session, workspace.id, channel_id)
        if community is None:
            return GapList(None)
        found = await queries.open_gaps(session, workspace.id, [community.id], limit=LIST_SIZE)
        total = await queries.open_gap_count(session, workspace.id, [community.id])
        view = community_view(community)
        return GapList(
            view, tuple(map(gap_view, found)), total, permissions.may_close_gap(view, user_id)
        )


class Verdict(enum.Enum):
    DONE = "done"
    ALREADY = "already"
    NOT_FOUND = "not_found"
    CLOSED = "closed"  # the gap is answered or out of scope
    NOT_ALLOWED = "not_allowed"
    NOTE_REQUIRED = "note_required"
    NOTE_TOO_LONG = "note_too_long"


@dataclass(frozen=True)
class GapOutcome:
    verdict: Verdict
    gap: GapView | None = None


async def vote(uow: UnitOfWork, gap_id: int, user_id: str) -> GapOutcome:
    """+1, once per person (twice: ALREADY, counted once)."""
    workspace = await uow.workspace()
    session = await uow.session()
    gap = await queries.gap_by_id(session, workspace.id, gap_id)
    if gap is None:
        return GapOutcome(Verdict.NOT_FOUND)
    if gap.status is not GapStatus.OPEN:
        return GapOutcome(Verdict.CLOSED, gap_view(gap))
    added = await queries.add_vote(session, gap, user_id, uow.deps.clock.now())
    return GapOutcome(Verdict.DONE if added else Verdict.ALREADY, gap_view(gap))


async def _gap_and_community(
    session: AsyncSession, workspace_id: int, gap_id: int
) -> tuple[Gap | None, CommunityView | None]:
    gap = await queries.gap_by_id(session, workspace_id, gap_id)
    if gap is None or gap.community_id is None:
        return gap, None
    community = await session.get(Community, gap.community_id)
    return gap, community_view(community) if community is not None else None


async def may_close(uow: UnitOfWork, gap_id: int, user_id: str) -> GapOutcome:
    """Whether this person may close this gap (asked when Close is clicked; checked again)."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return GapOutcome(Verdict.NOT_FOUND)
        gap, community = await _gap_and_community(session, workspace.id, gap_id)
        if gap is None:
            return GapOutcome(Verdict.NOT_FOUND)
        if not permissions.may_close_gap(community, user_id):
            return GapOutcome(Verdict.NOT_ALLOWED, gap_view(gap))
        if gap.status is not GapStatus.OPEN:
            return GapOutcome(Verdict.CLOSED, gap_view(gap))
        return GapOutcome(Verdict.DONE, gap_view(gap))


async def close_gap(
    uow: UnitOfWork, gap_id: int, user_id: str, status: GapStatus, note: str
) -> GapOutcome:
    """A coordinator closes a gap as answered or out of scope, with a note."""
    workspace = await uow.workspace()
    session = await uow.session()
    gap, community = await _gap_and_community(session, workspace.id, gap_id)
    if gap is None:
        return GapOutcome(Verdict.NOT_FOUND)
    if not permissions.may_close_gap(community, user_id):
        return GapOutcome(Verdict.NOT_ALLOWED, gap_view(gap))
    if not note.strip():
        return GapOutcome(Verdict.NOTE_REQUIRED, gap_view(gap))
    if len(note) > NOTE_MAX:
        return GapOutcome(Verdict.NOTE_TOO_LONG, gap_view(gap))
    if gap.status is not GapStatus.OPEN or status is GapStatus.OPEN:
        return GapOutcome(Verdict.CLOSED, gap_view(gap))
    gap.status = status
    gap.closed_by = user_id
    gap.closed_at = uow.deps.clock.now()
    gap.close_note = note.strip()
    await session.flush()
    return GapOutcome(Verdict.DONE, gap_view(gap))


async def get_gap(uow: UnitOfWork, gap_id: int) -> GapView | None:
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return None
        gap = await queries.gap_by_id(session, workspace.id, gap_id)
        return gap_view(gap) if gap is not None else None


# ---- A lesson that answers a gap --------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """A lesson offered to its author as the answer to an open gap."""

    gap: GapView
    lesson: LessonView
    community: str | None = None


def _shareable(lesson: Lesson) -> bool:
    """Only a lesson everyone may see is offered: linking shows it to the gap's voters."""
    return lesson.visibility is Visibility.PUBLIC or lesson.published


async def offer_answers(uow: UnitOfWork, lesson_id: int) -> tuple[Offer, ...]:
    """A lesson was captured or validated: the open gaps it answers, each offered once per
    (gap, lesson). Also links the lesson to its community's best priority, if it has none."""
    workspace = await uow.workspace()
    session = await uow.session()
    lesson = await lesson_queries.lesson_by_id(session, workspace.id, lesson_id)
    if lesson is None or lesson.status is LessonStatus.RETIRED:
        return ()
    view = lesson_view(lesson)
    if lesson.priority_id is None and lesson.community_id is not None:
        priorities = await _priorities(session, workspace.id, lesson.community_id)
        text = " ".join((view.title, view.next_time, view.why))
        lesson.priority_id = suggest_priority(priorities, text, view.tags)
    if not _shareable(lesson):
        return ()
    now = uow.deps.clock.now()
    community = None
    if lesson.community_id is not None:
        community = await session.get(Community, lesson.community_id)
    name = community.name if community is not None else None
    covers = _lesson_words(view)  # once: compared with every candidate
    scored = []
    for found in await queries.match_candidates(session, workspace.id, lesson.community_id):
        tags = tuple(found.tags.split())
        score = _score(_asked(found.question, tags), tags, covers, view.tags)
        if score >= MATCH_THRESHOLD:
            scored.append((score, found.votes, found.id))
    scored.sort(reverse=True)  # the best match first, then the most wanted, then the newest
    offered = await queries.offered_gaps(session, lesson.id, [gap_id for *_, gap_id in scored])
    offers = []
    for *_, gap_id in scored:
        if gap_id in offered:
            continue  # offered (or linked) before: once per (gap, lesson)
        if len(offers) == OFFERS_MAX:
            break
        gap = await queries.gap_by_id(session, workspace.id, gap_id)
        assert gap is not None  # just read, in this transaction
        await queries.add_gap_lesson(session, workspace.id, gap_id, lesson.id, now)
        offers.append(Offer(gap_view(gap), view, name))
    return tuple(offers)


@dataclass(frozen=True)
class Linked:
    """A lesson linked as a gap's answer; `told`: who to tell (empty when linked before)."""

    verdict: Verdict
    gap: GapView | None = None
    lesson: LessonView | None = None
    told: tuple[str, ...] = ()


async def link_answer(uow: UnitOfWork, gap_id: int, lesson_id: int, user_id: str) -> Linked:
    """The lesson's author links it as the gap's answer: the gap is answered, and its raiser
    and voters are to be told, once per (gap, lesson)."""
    workspace = await uow.workspace()
    session = await uow.session()
    gap = await queries.gap_by_id(session, workspace.id, gap_id)
    lesson = await lesson_queries.lesson_by_id(session, workspace.id, lesson_id)
    if gap is None or lesson is None:
        return Linked(Verdict.NOT_FOUND)
    if lesson.author_id != user_id:
        return Linked(Verdict.NOT_ALLOWED, gap_view(gap), lesson_view(lesson))
    now = uow.deps.clock.now()
    row = await queries.gap_lesson(session, gap.id, lesson.id)
    if row is None:
        row = await queries.add_gap_lesson(session, workspace.id, gap.id, lesson.id, now)
    if row.linked_at is not None:
        return Linked(Verdict.ALREADY, gap_view(gap), lesson_view(lesson))
    row.linked_by = user_id
    row.linked_at = now
    if gap.status is GapStatus.OPEN:
        gap.status = GapStatus.ANSWERED
        gap.closed_at = now
        gap.answer_lesson_id = lesson.id
    elif gap.answer_lesson_id is None:
        gap.answer_lesson_id = lesson.id
    await session.flush()
    people = dict.fromkeys([gap.raised_by, *await queries.voters(session, gap.id)])
    people.pop(user_id, None)  # the linker knows
    return Linked(Verdict.DONE, gap_view(gap), lesson_view(lesson), tuple(people))


# ---- Strategic priorities ---------------------------------------------------------------------


async def _priorities(
    session: AsyncSession, workspace_id: int, community_id: int
) -> tuple[PriorityView, ...]:
    return tuple(map(priority_view, await queries.priorities_of(session, workspace_id,
                                                                 community_id)))  # fmt: skip


@dataclass(frozen=True)
class PriorityBoard:
    community: CommunityView | None
    priorities: tuple[PriorityView, ...] = ()
    may_edit: bool = False


async def priority_board(uow: UnitOfWork, channel_id: str | None, user_id: str) -> PriorityBoard:
    """The channel's community's priorities, and whether this person may set them."""
    async with uow.reading() as (session, workspace):
        if workspace is None or channel_id is None:
            return PriorityBoard(None)
        community = await community_queries.community_in_channel(session, workspace.id, channel_id)
        if community is None:
            return PriorityBoard(None)
        view = community_view(community)
        found = await _priorities(session, workspace.id, community.id)
        return PriorityBoard(view, found, permissions.may_set_priorities(view, user_id))


async def community_priorities(uow: UnitOfWork, community_id: int) -> tuple[PriorityView, ...]:
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return ()
        return await _priorities(session, workspace.id, community_id)


@dataclass(frozen=True)
class PriorityLine:
    statement: str
    tags: tuple[str, ...]


def read_priorities(text: str) -> tuple[tuple[PriorityLine, ...], str | None]:
    """One priority a line, `#tags` in it; the lines, or what is wrong with them."""
    lines = []
    for raw in text.splitlines():
        tags = tuple(lesson_queries.normal_tags(_TAG.findall(raw)))
        statement = " ".join(_TAG.sub(" ", raw).split())
        if not statement:
            continue
        if len(statement) > STATEMENT_MAX:
            return (), f"Keep each priority under {STATEMENT_MAX} characters."
        lines.append(PriorityLine(statement, tags))
    if len(lines) > PRIORITIES_MAX:
        return (), f"A few priorities keep the focus: {PRIORITIES_MAX} at most."
    return tuple(lines), None


async def set_priorities(
    uow: UnitOfWork, community_id: int, user_id: str, lines: tuple[PriorityLine, ...]
) -> tuple[Verdict, tuple[PriorityView, ...]]:
    """A sponsor sets the community's priorities: unchanged lines keep their links, the others
    are retired (what linked to them keeps the link, for history)."""
    workspace = await uow.workspace()
    session = await uow.session()
    community = await session.get(Community, community_id)
    if community is None or community.workspace_id != workspace.id:
        return Verdict.NOT_FOUND, ()
    if not permissions.may_set_priorities(community_view(community), user_id):
        return Verdict.NOT_ALLOWED, ()
    now = uow.deps.clock.now()
    current = await queries.priorities_of(session, workspace.id, community_id)
    wanted = {(line.statement, " ".join(line.tags)): line for line in lines}
    for priority in current:
        if wanted.pop((priority.statement, priority.tags), None) is None:
            priority.retired_at = now
    for line in lines:
        if (line.statement, " ".join(line.tags)) in wanted:
            session.add(
                StrategicPriority(
                    workspace_id=workspace.id, community_id=community_id,
                    statement=line.statement, tags=" ".join(line.tags), set_by=user_id,
                    created_at=now,
                )
            )  # fmt: skip
    await session.flush()
    return Verdict.DONE, await _priorities(session, workspace.id, community_id)


@dataclass(frozen=True)
class PrioritySummary:
    """Per priority: what the community learned, what is still a gap, what was proposed."""

    priority: PriorityView
    learned: tuple[LessonView, ...]
    gaps: tuple[GapView, ...]
    proposals: tuple[tuple[int, str, str], ...]  # (id, insight, status)


async def priority_summary(
    session: AsyncSession, workspace_id: int, community_id: int, *, limit: int = 5
) -> tuple[PrioritySummary, ...]:
    """For the stats and the sponsor digest: each current priority with its linked work."""
    summaries = []
    for priority in await _priorities(session, workspace_id, community_id):
        learned = await queries.linked_lessons(session, workspace_id, priority.id, limit=limit)
        gaps = await queries.linked_gaps(session, workspace_id, priority.id, limit=limit)
        proposed = await queries.linked_proposals(session, workspace_id, priority.id, limit=limit)
        summaries.append(
            PrioritySummary(
                priority,
                tuple(map(lesson_view, learned)),
                tuple(map(gap_view, gaps)),
                tuple((p.id, p.insight, p.status.value) for p in proposed),
            )
        )
    return tuple(summaries)


async def priorities_summary(uow: UnitOfWork, community_id: int) -> tuple[PrioritySummary, ...]:
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return ()
        return await priority_summary(session, workspace.id, community_id)


# ---- The Home tab -----------------------------------------------------------------------------


async def home_gaps(
    uow: UnitOfWork, member_of: frozenset[str], *, shown: int = 5
) -> tuple[tuple[GapView, ...], int]:
    """The open gaps of the communities whose channels this person is in."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return (), 0
        found = await community_queries.communities_of_workspace(session, workspace.id)
        ids = [c.id for c in found if c.channel_id in member_of]
        gaps = await queries.open_gaps(session, workspace.id, ids, limit=shown)
        return tuple(map(gap_view, gaps)), await queries.open_gap_count(session, workspace.id, ids)
