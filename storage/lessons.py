"""Queries for the book of knowledge; every one takes the workspace and, for reads, a viewer.

`visible_to` is the one privacy filter (search, the similar-lesson notice, answers, digests and
exports all go through it). `search` is the one full-text search: FTS5 with BM25 on SQLite,
`tsvector` with `ts_rank_cd` on PostgreSQL; both indexes are kept in step by the database
(triggers, a generated column), so writing the row is enough.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import reduce

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    column,
    delete,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    DecisionKind,
    Lesson,
    LessonDecision,
    LessonStatus,
    LessonTag,
    LessonUse,
    Visibility,
)
from storage.models.lessons import LessonNomination

# Words that say nothing about a lesson. FTS5 keeps every word, so an OR of a question's
# words would match nearly every lesson ("how do we…"); PostgreSQL's `english` drops these too.
STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves get got go let lets make may might must shall us ever anything something thing
    things way ways anyone someone""".split()  # noqa: SIM905 (a list literal: 150 lines)
)
MAX_TERMS = 16
_WORD = re.compile(r"\w+", re.UNICODE)

# bm25() weights, in the FTS5 table's column order (migration 0005): title and tags weigh more
# than the recommendation, which weighs more than the rest of the review.
FTS_WEIGHTS = (10.0, 8.0, 3.0, 1.0, 1.0, 1.0, 1.0)
# A validated practice outranks a captured lesson of nearly the same relevance.
VALIDATED_BOOST = 1.5
# SQLite ranks the matches by BM25 alone, in the FTS table, and reads only this many best
# ones from the lessons (filters, the validated boost); too few left after the filters: all.
FTS_CANDIDATES = 300
# A word in more lessons than this costs more to rank (BM25 reads each match's size) than it
# tells: with rarer words in the question, it only adds to the score of lessons they match.
COMMON_MATCHES = 5000
# PostgreSQL ranks at most this many matches (ts_rank_cd reads each one's vector); the most
# reused and newest go first when a query matches more.
PG_CANDIDATES = 2000

_fts = table("lessons_fts", column("rowid"))
_fts_match = literal_column("lessons_fts")


def search_terms(text: str) -> list[str]:
    """The words to search for: lower case, no stop words, no operators or quotes, deduplicated.

    A query made only of stop words keeps them (better a broad answer than none).
    """
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(text) if w.strip("_")))
    content = [w for w in words if w not in STOP_WORDS]
    return (content or words)[:MAX_TERMS]


@dataclass(frozen=True)
class Viewer:
    """Who is looking, and from which channel (None: the Home tab, a DM-less surface)."""

    user_id: str
    channel_id: str | None = None


@dataclass(frozen=True)
class Filters:
    tags: tuple[str, ...] = ()
    statuses: tuple[LessonStatus, ...] = ()  # none: captured and validated (not retired)
    authors: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    community_id: int | None = None


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """A lesson is seen by everyone if its source is public or its author published it;
    otherwise (private, DM, not known yet) only in its own channel and by its author."""
    seen_in_source = (
        Lesson.source_channel_id == viewer.channel_id if viewer.channel_id is not None else false()
    )
    return or_(
        Lesson.visibility == Visibility.PUBLIC,
        Lesson.published,
        Lesson.author_id == viewer.user_id,
        seen_in_source,
    )


def _filtered(
    query: Select[tuple[Lesson]], workspace_id: int, viewer: Viewer, filters: Filters
) -> Select[tuple[Lesson]]:
    statuses = filters.statuses or (LessonStatus.CAPTURED, LessonStatus.VALIDATED)
    query = query.where(
        Lesson.workspace_id == workspace_id, visible_to(viewer), Lesson.status.in_(statuses)
    )
    for tag in filters.tags:
        query = query.where(  # driven by the tag's index, not a scan of every lesson
            Lesson.id.in_(
                select(LessonTag.lesson_id).where(
                    LessonTag.workspace_id == workspace_id, LessonTag.tag == tag
                )
            )
        )
    if filters.authors:
        query = query.where(Lesson.author_id.in_(filters.authors))
    if filters.channels:
        query = query.where(Lesson.source_channel_id.in_(filters.channels))
    if filters.community_id is not None:
        query = query.where(Lesson.community_id == filters.community_id)
    return query


_validated_first = case((Lesson.status == LessonStatus.VALIDATED, 0), else_=1)
_boost = case((Lesson.status == LessonStatus.VALIDATED, VALIDATED_BOOST), else_=1.0)


async def search(
    session: AsyncSession,
    workspace_id: int,
    terms: Sequence[str],
    viewer: Viewer,
    filters: Filters = Filters(),
    *,
    limit: int = 5,
    offset: int = 0,
    exclude_id: int | None = None,
    candidates: int | None = None,
) -> list[Lesson]:
    """Lessons the viewer may see matching ANY of `terms` (from `search_terms`), best first:
    relevance (title and tags weigh most, validated boosted), then validated, then reuse.
    No terms: validated first, then the most reused, then the newest. `candidates`: how many
    matches to rank at most (fewer than the book's default: faster, for a caller that needs
    only the best few, such as peer-assist matching)."""
    query = _filtered(select(Lesson), workspace_id, viewer, filters)
    if exclude_id is not None:
        query = query.where(Lesson.id != exclude_id)
    if not terms:
        query = query.order_by(
            _validated_first, Lesson.use_count.desc(), Lesson.created_at.desc(), Lesson.id.desc()
        )
    elif session.bind.dialect.name == "postgresql":
        query = _postgres_ranked(query, terms, candidates or PG_CANDIDATES)
    else:
        match = await _fts_query(session, terms)
        cap = max(candidates or FTS_CANDIDATES, 4 * (limit + offset))
        found = list(
            await session.scalars(_sqlite_ranked(query, match, cap).limit(limit).offset(offset))
        )
        if len(found) == limit:
            return found
        query = _sqlite_ranked(query, match, None)  # the filters left too few: rank them all
    return list(await session.scalars(query.limit(limit).offset(offset)))


async def _fts_query(session: AsyncSession, terms: Sequence[str]) -> str:
    """An FTS5 query matching any of the terms. Each is quoted, so FTS5 reads it as a word
    whatever it is (NOT, NEAR, a `*`). Common words only weigh on lessons a rarer one matched."""
    quoted = [f'"{term}"' for term in terms]
    if len(terms) == 1:
        return quoted[0]
    counted = [
        select(func.count())
        .select_from(
            select(_fts.c.rowid)
            .where(_fts_match.op("MATCH")(q))
            .limit(COMMON_MATCHES + 1)
            .subquery()
        )
        .scalar_subquery()
        for q in quoted
    ]
    counts = (await session.execute(select(*counted))).one()
    rare = [q for q, n in zip(quoted, counts, strict=True) if n <= COMMON_MATCHES]
    common = [q for q, n in zip(quoted, counts, strict=True) if n > COMMON_MATCHES]
    if not rare or not common:
        return " OR ".join(quoted)
    any_rare = f"({' OR '.join(rare)})"
    return f"{any_rare} OR ({any_rare} AND ({' OR '.join(common)}))"


def _sqlite_ranked(
    query: Select[tuple[Lesson]], match: str, cap: int | None
) -> Select[tuple[Lesson]]:
    """BM25 first, in the FTS table alone (top `cap`), then the filters and the boost."""
    # bm25() is lower for better matches.
    score = func.bm25(_fts_match, *FTS_WEIGHTS).label("score")
    ranked = select(_fts.c.rowid.label("id"), score).where(_fts_match.op("MATCH")(match))
    if cap is not None:
        ranked = ranked.order_by(score).limit(cap)
    best = ranked.subquery("best")
    relevance = -best.c.score * _boost
    return query.join(best, best.c.id == Lesson.id).order_by(
        relevance.desc(), _validated_first, Lesson.use_count.desc(), Lesson.id.desc()
    )


def _postgres_ranked(
    query: Select[tuple[Lesson]], terms: Sequence[str], candidates: int
) -> Select[tuple[Lesson]]:
    vector = literal_column("lessons.search_vector")
    tsquery = reduce(
        lambda a, b: a.op("||")(b), [func.plainto_tsquery("english", term) for term in terms]
    )
    candidates = (
        query.with_only_columns(Lesson.id)
        .where(vector.op("@@")(tsquery))
        .order_by(Lesson.use_count.desc(), Lesson.id.desc())
        .limit(candidates)
    )
    relevance = func.ts_rank_cd(vector, tsquery) * _boost
    return (
        select(Lesson)
        .where(Lesson.id.in_(candidates.scalar_subquery()))
        .order_by(relevance.desc(), _validated_first, Lesson.use_count.desc(), Lesson.id.desc())
    )


async def recent_validated(
    session: AsyncSession, workspace_id: int, viewer: Viewer, *, limit: int, offset: int = 0
) -> list[Lesson]:
    filters = Filters(statuses=(LessonStatus.VALIDATED,))
    query = _filtered(select(Lesson), workspace_id, viewer, filters)
    query = query.order_by(Lesson.created_at.desc(), Lesson.id.desc())
    return list(await session.scalars(query.limit(limit).offset(offset)))


async def most_reused(
    session: AsyncSession, workspace_id: int, viewer: Viewer, *, limit: int
) -> list[Lesson]:
    query = _filtered(select(Lesson), workspace_id, viewer, Filters()).where(Lesson.use_count > 0)
    query = query.order_by(Lesson.use_count.desc(), Lesson.channel_count.desc(), Lesson.id.desc())
    return list(await session.scalars(query.limit(limit)))


async def lesson_by_id(session: AsyncSession, workspace_id: int, lesson_id: int) -> Lesson | None:
    return await session.scalar(
        select(Lesson).where(Lesson.workspace_id == workspace_id, Lesson.id == lesson_id)
    )


def normal_tags(tags: Iterable[str]) -> list[str]:
    """Lower case, without `#`, deduplicated, in order."""
    cleaned = (t.strip().lstrip("#").lower() for t in tags)
    return list(dict.fromkeys(t for t in cleaned if t))


async def add_lesson(session: AsyncSession, lesson: Lesson, tags: Iterable[str]) -> Lesson:
    """Store a new lesson with its tags (the search index follows by itself)."""
    wanted = normal_tags(tags)
    lesson.tags = " ".join(wanted)
    session.add(lesson)
    await session.flush()
    session.add_all(
        LessonTag(lesson_id=lesson.id, tag=tag, workspace_id=lesson.workspace_id) for tag in wanted
    )
    await session.flush()
    return lesson


async def record_decision(
    session: AsyncSession,
    lesson: Lesson,
    kind: DecisionKind,
    *,
    by_user: str,
    note: str,
    now: datetime,
) -> LessonDecision:
    decision = LessonDecision(
        workspace_id=lesson.workspace_id,
        lesson_id=lesson.id,
        kind=kind,
        by_user=by_user,
        note=note,
        decided_at=now,
    )
    session.add(decision)
    if kind is not DecisionKind.PUBLISH:
        lesson.review_kind, lesson.reviewed_by = kind, by_user
        lesson.reviewed_at, lesson.review_note = now, note
    await session.flush()
    return decision


async def decisions_of(
    session: AsyncSession, workspace_id: int, lesson_id: int
) -> list[LessonDecision]:
    result = await session.scalars(
        select(LessonDecision)
        .where(LessonDecision.workspace_id == workspace_id, LessonDecision.lesson_id == lesson_id)
        .order_by(LessonDecision.decided_at, LessonDecision.id)
    )
    return list(result)


async def people_behind(
    session: AsyncSession, workspace_id: int, lesson_ids: Sequence[int]
) -> list[str]:
    """Who validated or used these lessons (their authors are known already), in that order."""
    validated = select(LessonDecision.by_user).where(
        LessonDecision.workspace_id == workspace_id,
        LessonDecision.lesson_id.in_(lesson_ids),
        LessonDecision.kind == DecisionKind.VALIDATE,
    )
    used = select(LessonUse.user_id).where(
        LessonUse.workspace_id == workspace_id, LessonUse.lesson_id.in_(lesson_ids)
    )
    people = list(await session.scalars(validated)) + list(await session.scalars(used))
    return list(dict.fromkeys(people))


async def add_use(
    session: AsyncSession,
    lesson: Lesson,
    *,
    user_id: str,
    channel_id: str | None,
    note: str,
    now: datetime,
) -> bool:
    """Record "I used this"; False when this person already had (one per person per lesson)."""
    already = await session.scalar(
        select(LessonUse.id).where(LessonUse.lesson_id == lesson.id, LessonUse.user_id == user_id)
    )
    if already is not None:
        return False
    session.add(
        LessonUse(
            workspace_id=lesson.workspace_id,
            lesson_id=lesson.id,
            user_id=user_id,
            channel_id=channel_id,
            note=note,
            used_at=now,
        )
    )
    await session.flush()
    await count_uses(session, lesson)
    return True


async def remove_use(session: AsyncSession, lesson: Lesson, *, user_id: str) -> bool:
    """Take back "I used this"; False when there was none."""
    result = await session.execute(
        delete(LessonUse).where(
            LessonUse.workspace_id == lesson.workspace_id,
            LessonUse.lesson_id == lesson.id,
            LessonUse.user_id == user_id,
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await count_uses(session, lesson)
    return True


async def count_uses(session: AsyncSession, lesson: Lesson) -> None:
    """Recount distinct people and channels (counted, not incremented: always true)."""
    people, channels = (
        await session.execute(
            select(
                func.count(func.distinct(LessonUse.user_id)),
                func.count(func.distinct(LessonUse.channel_id)),
            ).where(LessonUse.workspace_id == lesson.workspace_id, LessonUse.lesson_id == lesson.id)
        )
    ).one()
    lesson.use_count = people
    lesson.channel_count = channels
    await session.flush()


async def resolve_visibility(
    session: AsyncSession, workspace_id: int, channel_id: str, visibility: Visibility
) -> int:
    """Slack said what the channel is: lessons from it that were waiting take that visibility."""
    result = await session.execute(
        update(Lesson)
        .where(
            and_(
                Lesson.workspace_id == workspace_id,
                Lesson.source_channel_id == channel_id,
                Lesson.visibility == Visibility.UNKNOWN,
            )
        )
        .values(visibility=visibility)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def delete_lesson(session: AsyncSession, lesson: Lesson) -> None:
    """Remove a lesson and its tags, decisions and uses (the search index follows by itself)."""
    # Explicit: SQLite enforces ON DELETE CASCADE only with its foreign_keys pragma on.
    for model in (LessonTag, LessonDecision, LessonUse):
        await session.execute(delete(model).where(model.lesson_id == lesson.id))
    await session.delete(lesson)
    await session.flush()


async def set_tags(session: AsyncSession, lesson: Lesson, tags: Iterable[str]) -> None:
    """Replace a lesson's tags."""
    wanted = normal_tags(tags)
    await session.execute(delete(LessonTag).where(LessonTag.lesson_id == lesson.id))
    lesson.tags = " ".join(wanted)
    session.add_all(
        LessonTag(lesson_id=lesson.id, tag=tag, workspace_id=lesson.workspace_id) for tag in wanted
    )
    await session.flush()


async def known_visibility(session: AsyncSession, workspace_id: int, channel_id: str) -> Visibility:
    """What Slack said about a channel for an earlier lesson from it (UNKNOWN if never asked)."""
    found = await session.scalar(
        select(Lesson.visibility)
        .where(
            Lesson.workspace_id == workspace_id,
            Lesson.source_channel_id == channel_id,
            Lesson.visibility != Visibility.UNKNOWN,
        )
        .order_by(Lesson.id.desc())
        .limit(1)
    )
    return found if found is not None else Visibility.UNKNOWN


async def add_nomination(
    session: AsyncSession,
    workspace_id: int,
    *,
    channel_id: str,
    message_ts: str,
    author_id: str,
    nominated_by: str,
    now: datetime,
) -> LessonNomination | None:
    """Record a message nominated as a lesson; None when it already was (ask its author once)."""
    already = await session.scalar(
        select(LessonNomination.id).where(
            LessonNomination.workspace_id == workspace_id,
            LessonNomination.channel_id == channel_id,
            LessonNomination.message_ts == message_ts,
        )
    )
    if already is not None:
        return None
    nomination = LessonNomination(
        workspace_id=workspace_id, channel_id=channel_id, message_ts=message_ts,
        author_id=author_id, nominated_by=nominated_by, created_at=now,
    )  # fmt: skip
    session.add(nomination)
    await session.flush()
    return nomination


async def nomination_by_id(
    session: AsyncSession, workspace_id: int, nomination_id: int
) -> LessonNomination | None:
    return await session.scalar(
        select(LessonNomination).where(
            LessonNomination.workspace_id == workspace_id, LessonNomination.id == nomination_id
        )
    )


async def known_tags(session: AsyncSession, workspace_id: int, limit: int = 100) -> list[str]:
    """The workspace's tags, most used first (what the capture form offers to pick)."""
    result = await session.scalars(
        select(LessonTag.tag)
        .where(LessonTag.workspace_id == workspace_id)
        .group_by(LessonTag.tag)
        .order_by(func.count().desc(), LessonTag.tag)
        .limit(limit)
    )
    return list(result)


async def _with_total(
    session: AsyncSession, query: Select[tuple[Lesson]], *, limit: int
) -> tuple[list[Lesson], int]:
    """The first `limit` lessons of an ordered query, and how many it has in all."""
    total = await session.scalar(
        select(func.count()).select_from(
            query.order_by(None).with_only_columns(Lesson.id).subquery()
        )
    )
    return list(await session.scalars(query.limit(limit))), int(total or 0)


async def authored(
    session: AsyncSession, workspace_id: int, author_id: str, *, limit: int
) -> tuple[list[Lesson], int]:
    """A person's own lessons (they see all of them), the latest changed first, and the count."""
    query = (
        select(Lesson)
        .where(Lesson.workspace_id == workspace_id, Lesson.author_id == author_id)
        .order_by(Lesson.updated_at.desc(), Lesson.id.desc())
    )
    return await _with_total(session, query, limit=limit)


async def awaiting_review(
    session: AsyncSession,
    workspace_id: int,
    community_ids: Iterable[int],
    viewer: Viewer,
    *,
    limit: int,
) -> tuple[list[Lesson], int]:
    """Captured lessons of these communities the viewer may see, oldest first (a queue)."""
    filters = Filters(statuses=(LessonStatus.CAPTURED,))
    query = _filtered(select(Lesson), workspace_id, viewer, filters)
    query = query.where(Lesson.community_id.in_(list(community_ids)))
    query = query.order_by(Lesson.created_at, Lesson.id)
    return await _with_total(session, query, limit=limit)


async def validated_count(session: AsyncSession, workspace_id: int, viewer: Viewer) -> int:
    filters = Filters(statuses=(LessonStatus.VALIDATED,))
    query = _filtered(select(func.count(Lesson.id)), workspace_id, viewer, filters)  # type: ignore[arg-type]
    return int(await session.scalar(query) or 0)


async def exportable(
    session: AsyncSession,
    workspace_id: int,
    *,
    statuses: Sequence[LessonStatus],
    community_id: int | None = None,
    include_private: bool = False,
) -> list[Lesson]:
    """What an export writes, oldest first: what anyone may see (public or published; a viewer
    who is nobody, in no channel), or everything with `include_private`."""
    query = select(Lesson).where(Lesson.workspace_id == workspace_id, Lesson.status.in_(statuses))
    if not include_private:
        query = query.where(visible_to(Viewer("")))
    if community_id is not None:
        query = query.where(Lesson.community_id == community_id)
    return list(await session.scalars(query.order_by(Lesson.created_at, Lesson.id)))


async def validations_of(session: AsyncSession, workspace_id: int) -> dict[int, LessonDecision]:
    """Each lesson's latest validation (who said where it applies), by lesson id."""
    found = await session.scalars(
        select(LessonDecision)
        .where(
            LessonDecision.workspace_id == workspace_id,
            LessonDecision.kind == DecisionKind.VALIDATE,
        )
        .order_by(LessonDecision.decided_at, LessonDecision.id)
    )
    return {decision.lesson_id: decision for decision in found}
