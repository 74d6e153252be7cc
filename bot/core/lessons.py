"""Lessons: what a valid lesson is, capturing one, finding them, their lifecycle and reuse.

`captured` → `validated` → `retired`; "needs work" sends a lesson back to `captured`. Only the
reviewers and coordinators of the lesson's community decide, and each decision is stored with
who, when and why. What came from a private channel or a DM is seen only there (and by its
author) until the author publishes it: every read goes through `storage.lessons.visible_to`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.text import unescape
from storage import communities as community_queries
from storage import lessons as queries
from storage.communities import communities_of_workspace
from storage.lessons import Filters, Viewer, search_terms
from storage.models import (
    Community,
    DecisionKind,
    Lesson,
    LessonStatus,
    RoleName,
    Visibility,
)
from storage.models.lessons import FIELD_MAX, TITLE_MAX, USE_NOTE_MAX

if TYPE_CHECKING:
    from bot.unit_of_work import UnitOfWork

__all__ = ["Filters", "Viewer"]

PAGE_SIZE = 5
NOTE_MAX = FIELD_MAX
# How alike two lessons' titles, recommendations and tags must be to be called similar
# (shared content words over all content words, after a rough stemming).
SIMILAR_THRESHOLD = 0.4
SIMILAR_SHOWN = 3


@dataclass(frozen=True)
class LessonForm:
    """What a person typed: the four AAR answers, tags, community, optional project."""

    title: str
    next_time: str
    expected: str = ""
    happened: str = ""
    why: str = ""
    tags: tuple[str, ...] = ()
    community_id: int | None = None
    project: str = ""


@dataclass(frozen=True)
class LessonSource:
    """Where the lesson came from. `visibility`: what Slack says the channel is, or UNKNOWN."""

    author_id: str
    channel_id: str | None = None
    visibility: Visibility = Visibility.UNKNOWN
    message_ts: str | None = None
    thread_ts: str | None = None
    permalink: str | None = None
    assist_id: int | None = None  # the peer assist it came out of (its Capture button)


@dataclass(frozen=True)
class Review:
    """Who reviewed a lesson last, when, and why (its applicability, note or reason)."""

    kind: DecisionKind
    by_user: str
    at: datetime
    note: str


@dataclass(frozen=True)
class LessonView:
    """A lesson as the surfaces show it (plain data, safe once the session is gone)."""

    id: int
    title: str
    next_time: str
    expected: str
    happened: str
    why: str
    project: str
    tags: tuple[str, ...]
    status: LessonStatus
    author_id: str
    community_id: int | None
    source_channel_id: str | None
    permalink: str | None
    visibility: Visibility
    published: bool
    used_by: int  # distinct people who reused it
    used_in: int  # distinct channels they reused it in
    review: Review | None = None  # the last review: who decided, when and why

    @property
    def recommendation(self) -> str:
        return self.next_time


def view_of(lesson: Lesson) -> LessonView:
    return LessonView(
        id=lesson.id,
        title=lesson.title,
        next_time=lesson.next_time,
        expected=lesson.expected,
        happened=lesson.happened,
        why=lesson.why,
        project=lesson.project,
        tags=tuple(lesson.tags.split()),
        status=lesson.status,
        author_id=lesson.author_id,
        community_id=lesson.community_id,
        source_channel_id=lesson.source_channel_id,
        permalink=lesson.permalink,
        visibility=lesson.visibility,
        published=lesson.published,
        used_by=lesson.use_count,
        used_in=lesson.channel_count,
        review=(
            Review(
                lesson.review_kind, lesson.reviewed_by, lesson.reviewed_at, lesson.review_note or ""
            )
            if lesson.review_kind and lesson.reviewed_by and lesson.reviewed_at
            else None
        ),
    )


# ---- Rules -------------------------------------------------------------------------------------


class LessonField:
    """Which field an error belongs to (the handler maps these to block ids)."""

    TITLE = "title"
    EXPECTED = "expected"
    HAPPENED = "happened"
    WHY = "why"
    NEXT_TIME = "next_time"
    PROJECT = "project"
    TAGS = "tags"


def validate_lesson(form: LessonForm) -> dict[str, str]:
    """Field errors, empty when the form is fine. Text is kept as typed (escaped on echo)."""
    errors: dict[str, str] = {}
    if not form.title.strip():
        errors[LessonField.TITLE] = "Give the lesson a title, e.g. “Confirm the rollback plan”."
    elif len(form.title.strip()) > TITLE_MAX:
        errors[LessonField.TITLE] = f"Keep the title under {TITLE_MAX} characters."
    if not form.next_time.strip():
        errors[LessonField.NEXT_TIME] = "Say what we will do next time: that is the lesson."
    for name in (LessonField.NEXT_TIME, LessonField.EXPECTED, LessonField.HAPPENED,
                 LessonField.WHY, LessonField.PROJECT):  # fmt: skip
        if name not in errors and len(getattr(form, name)) > FIELD_MAX:
            errors[name] = f"Keep this under {FIELD_MAX} characters."
    if any(len(tag) > 64 for tag in queries.normal_tags(form.tags)):
        errors[LessonField.TAGS] = "Keep each tag under 64 characters."
    return errors


class Verdict(enum.Enum):
    DONE = "done"
    NOT_FOUND = "not_found"  # no such lesson, or not one this person may see
    NOT_ALLOWED = "not_allowed"  # not a reviewer or coordinator of its community (or not author)
    NO_COMMUNITY = "no_community"  # nobody can review a lesson outside a community
    NOTE_REQUIRED = "note_required"
    NOTE_TOO_LONG = "note_too_long"
    ALREADY = "already"  # nothing to change: already in that state (or already used)


# Where each review decision may start from, and where it leads.
TRANSITIONS: dict[DecisionKind, tuple[frozenset[LessonStatus], LessonStatus]] = {
    DecisionKind.VALIDATE: (frozenset({LessonStatus.CAPTURED}), LessonStatus.VALIDATED),
    DecisionKind.NEEDS_WORK: (
        frozenset({LessonStatus.CAPTURED, LessonStatus.VALIDATED}),
        LessonStatus.CAPTURED,
    ),
    DecisionKind.RETIRE: (
        frozenset({LessonStatus.CAPTURED, LessonStatus.VALIDATED}),
        LessonStatus.RETIRED,
    ),
}


def may_review(community: Community | None, user_id: str) -> bool:
    """Only the reviewers and coordinators of the lesson's community decide on it."""
    if community is None:
        return False
    roles = (RoleName.REVIEWER, RoleName.COORDINATOR)
    return any(user_id in community.holders(role) for role in roles)


def review_verdict(
    lesson: LessonView, community: Community | None, user_id: str, kind: DecisionKind, note: str
) -> Verdict:
    if community is None:
        return Verdict.NO_COMMUNITY
    if not may_review(community, user_id):
        return Verdict.NOT_ALLOWED
    if not note.strip():
        return Verdict.NOTE_REQUIRED
    if len(note) > NOTE_MAX:
        return Verdict.NOTE_TOO_LONG
    sources, _ = TRANSITIONS[kind]
    return Verdict.DONE if lesson.status in sources else Verdict.ALREADY


# ---- Search queries ----------------------------------------------------------------------------

_STATUS = re.compile(r"(?<!\S)status:(\S*)", re.IGNORECASE)
_BY = re.compile(r"(?<!\S)by:\s*<@([UW][A-Z0-9]+)(?:\|[^>]*)?>", re.IGNORECASE)
_IN = re.compile(r"(?<!\S)in:\s*<#([CG][A-Z0-9]+)(?:\|[^>]*)?>", re.IGNORECASE)
_CHANNEL_TAG = re.compile(r"<#[CG][A-Z0-9]+(?:\|([^>]*))?>")
_TAG = re.compile(r"(?<![\w#])#([\w][\w-]{0,63})", re.UNICODE)
_BARE_FILTER = re.compile(r"(?<!\S)(by|in):\S*", re.IGNORECASE)
_MENTION = re.compile(r"<[@!][^>]*>")


@dataclass(frozen=True)
class SearchQuery:
    """A parsed `/lessons` text: the words and the filters; `problem` says what was not
    understood (the search still runs on the rest)."""

    words: str = ""
    tags: tuple[str, ...] = ()
    statuses: tuple[LessonStatus, ...] = ()
    authors: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    problem: str | None = None

    @property
    def terms(self) -> list[str]:
        """The words full-text search looks for."""
        return search_terms(self.words)

    @property
    def is_empty(self) -> bool:
        """Nothing to search by (`!!!` neither): show recent and most reused lessons."""
        return not (self.terms or self.tags or self.statuses or self.authors or self.channels)

    @property
    def filters(self) -> Filters:
        return Filters(
            tags=self.tags, statuses=self.statuses, authors=self.authors, channels=self.channels
        )


def parse_query(text: str) -> SearchQuery:
    """Read `/lessons` text as Slack sends it with should_escape: mentions as `<@U…|name>`,
    channels as `<#C…|name>` (a `#tag` that names a channel arrives so: read back as the tag),
    and `&`, `<`, `>` typed by the person as entities."""
    problems: list[str] = []
    statuses: list[LessonStatus] = []
    for match in _STATUS.finditer(text):
        try:
            statuses.append(LessonStatus(match.group(1).lower()))
        except ValueError:
            problems.append("Use status:validated, status:captured or status:retired.")
    text = _STATUS.sub(" ", text)
    authors = list(dict.fromkeys(_BY.findall(text)))
    text = _BY.sub(" ", text)
    channels = list(dict.fromkeys(_IN.findall(text)))
    text = _IN.sub(" ", text)
    if _BARE_FILTER.search(text):
        problems.append("Pick a person for by: (by:@ana) and a channel for in: (in:#deploys).")
        text = _BARE_FILTER.sub(" ", text)
    tags = [name for name in _CHANNEL_TAG.findall(text) if name]
    text = _CHANNEL_TAG.sub(" ", text)
    text = _MENTION.sub(" ", text)  # any other mention or link is not a search word
    text = unescape(text)
    tags += _TAG.findall(text)
    words = " ".join(_TAG.sub(" ", text).split())
    return SearchQuery(
        words=words,
        tags=tuple(queries.normal_tags(tags)),
        statuses=tuple(dict.fromkeys(statuses)),
        authors=tuple(authors),
        channels=tuple(channels),
        problem=" ".join(dict.fromkeys(problems)) or None,
    )


# ---- Services ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Captured:
    """A captured lesson, and the closely matching lessons already in the book (to link)."""

    lesson: LessonView | None
    errors: dict[str, str] = field(default_factory=dict)
    similar: tuple[LessonView, ...] = ()

    @property
    def saved(self) -> bool:
        return self.lesson is not None


async def capture_lesson(uow: UnitOfWork, form: LessonForm, source: LessonSource) -> Captured:
    """Store a new `captured` lesson (nothing when the form has errors), with similar ones."""
    errors = validate_lesson(form)
    if errors:
        return Captured(None, errors)
    workspace = await uow.workspace()
    session = await uow.session()
    now = uow.deps.clock.now()
    # A lesson from nowhere in particular (a global shortcut) has no channel to keep it in.
    visibility = source.visibility if source.channel_id else Visibility.PUBLIC
    lesson = await queries.add_lesson(
        session,
        Lesson(
            workspace_id=workspace.id,
            community_id=form.community_id,
            title=form.title.strip(),
            expected=form.expected.strip(),
            happened=form.happened.strip(),
            why=form.why.strip(),
            next_time=form.next_time.strip(),
            project=form.project.strip(),
            author_id=source.author_id,
            source_channel_id=source.channel_id,
            source_ts=source.message_ts,
            source_thread_ts=source.thread_ts,
            permalink=source.permalink,
            assist_id=await _assist_link(session, workspace.id, source.assist_id),
            visibility=visibility,
            published=False,
            status=LessonStatus.CAPTURED,
            use_count=0,
            channel_count=0,
            created_at=now,
            updated_at=now,
        ),
        form.tags,
    )
    view = view_of(lesson)
    viewer = Viewer(source.author_id, source.channel_id)
    similar = await _similar(session, workspace.id, view, viewer)
    return Captured(view, similar=similar)


async def _assist_link(
    session: AsyncSession, workspace_id: int, assist_id: int | None
) -> int | None:
    """The peer assist a lesson is linked to, if it is one of this workspace's."""
    if assist_id is None:
        return None
    from storage.assists import assist_by_id  # noqa: PLC0415 (assists reads lessons)

    return assist_id if await assist_by_id(session, workspace_id, assist_id) else None


def _stem(word: str) -> str:
    """A rough stem, enough to compare two lessons' words (the index does the real stemming)."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _gist(lesson: LessonView) -> set[str]:
    text = " ".join((lesson.title, lesson.next_time, " ".join(lesson.tags)))
    return {_stem(w) for w in search_terms(text) if w not in queries.STOP_WORDS}


def similarity(a: LessonView, b: LessonView) -> float:
    """Shared content words of title, recommendation and tags, over all of them (0 to 1)."""
    mine, theirs = _gist(a), _gist(b)
    if not mine or not theirs:
        return 0.0
    return len(mine & theirs) / len(mine | theirs)


async def _similar(
    session: AsyncSession, workspace_id: int, lesson: LessonView, viewer: Viewer
) -> tuple[LessonView, ...]:
    terms = search_terms(" ".join((lesson.title, lesson.next_time, " ".join(lesson.tags))))
    found = await queries.search(
        session,
        workspace_id,
        terms,
        viewer,
        Filters(),
        limit=10,
        exclude_id=lesson.id,
    )
    close = [(similarity(lesson, other), other) for other in map(view_of, found)]
    close = [pair for pair in close if pair[0] >= SIMILAR_THRESHOLD]
    close.sort(key=lambda pair: -pair[0])
    return tuple(other for _, other in close[:SIMILAR_SHOWN])


async def similar_lessons(
    uow: UnitOfWork, form: LessonForm, viewer: Viewer
) -> tuple[LessonView, ...]:
    """Lessons the viewer may see that closely match a draft (before it is saved)."""
    draft = LessonView(
        id=0, title=form.title, next_time=form.next_time, expected="", happened="", why="",
        project="", tags=tuple(queries.normal_tags(form.tags)), status=LessonStatus.CAPTURED,
        author_id=viewer.user_id, community_id=form.community_id,
        source_channel_id=viewer.channel_id, permalink=None, visibility=Visibility.UNKNOWN,
        published=False, used_by=0, used_in=0,
    )  # fmt: skip
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return ()
        return await _similar(session, workspace.id, draft, viewer)


@dataclass(frozen=True)
class SearchPage:
    """One page of answers. With no query: `lessons` are the recent validated practices and
    `most_reused` the most reused lessons; `next_offset` is None on the last page."""

    query: SearchQuery
    lessons: tuple[LessonView, ...]
    offset: int = 0
    next_offset: int | None = None
    most_reused: tuple[LessonView, ...] = ()


async def find_lessons(
    uow: UnitOfWork, text: str, viewer: Viewer, *, offset: int = 0
) -> SearchPage:
    """Search the book of knowledge for `/lessons` text (as Slack sent it), as `viewer` sees it."""
    query = parse_query(text)
    offset = max(0, offset)
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return SearchPage(query, ())
        most: list[Lesson] = []
        if query.is_empty:
            found = await queries.recent_validated(
                session, workspace.id, viewer, limit=PAGE_SIZE + 1, offset=offset
            )
            if offset == 0:
                most = await queries.most_reused(session, workspace.id, viewer, limit=PAGE_SIZE)
        else:
            found = await queries.search(
                session,
                workspace.id,
                query.terms,
                viewer,
                query.filters,
                limit=PAGE_SIZE + 1,
                offset=offset,
            )
    more = len(found) > PAGE_SIZE
    return SearchPage(
        query,
        tuple(view_of(lesson) for lesson in found[:PAGE_SIZE]),
        offset=offset,
        next_offset=offset + PAGE_SIZE if more else None,
        most_reused=tuple(view_of(lesson) for lesson in most),
    )


async def get_lesson(uow: UnitOfWork, lesson_id: int, viewer: Viewer) -> LessonView | None:
    """One lesson, if it exists in this workspace and the viewer may see it."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return None
        lesson = await queries.lesson_by_id(session, workspace.id, lesson_id)
        if lesson is None or not _sees(lesson, viewer):
            return None
        return view_of(lesson)


def _sees(lesson: Lesson, viewer: Viewer) -> bool:
    """`storage.lessons.visible_to` for one loaded lesson."""
    return (
        lesson.visibility == Visibility.PUBLIC
        or lesson.published
        or lesson.author_id == viewer.user_id
        or (viewer.channel_id is not None and lesson.source_channel_id == viewer.channel_id)
    )


@dataclass(frozen=True)
class Decided:
    """The outcome of a review decision, a publish or a reuse; `lesson` as it now stands."""

    verdict: Verdict
    lesson: LessonView | None = None

    @property
    def done(self) -> bool:
        return self.verdict is Verdict.DONE


async def _load(uow: UnitOfWork, lesson_id: int, viewer: Viewer) -> Lesson | None:
    workspace = await uow.workspace()
    lesson = await queries.lesson_by_id(await uow.session(), workspace.id, lesson_id)
    return lesson if lesson is not None and _sees(lesson, viewer) else None


async def _decide(
    uow: UnitOfWork, kind: DecisionKind, lesson_id: int, viewer: Viewer, note: str
) -> Decided:
    lesson = await _load(uow, lesson_id, viewer)
    if lesson is None:
        return Decided(Verdict.NOT_FOUND)
    session = await uow.session()
    community = None
    if lesson.community_id is not None:
        community = await session.get(Community, lesson.community_id)
    view = view_of(lesson)
    verdict = review_verdict(view, community, viewer.user_id, kind, note)
    if verdict is not Verdict.DONE:
        return Decided(verdict, view)
    now = uow.deps.clock.now()
    lesson.status = TRANSITIONS[kind][1]
    lesson.updated_at = now
    await queries.record_decision(
        session, lesson, kind, by_user=viewer.user_id, note=note.strip(), now=now
    )
    return Decided(Verdict.DONE, view_of(lesson))


async def validate(uow: UnitOfWork, lesson_id: int, viewer: Viewer, applicability: str) -> Decided:
    """A reviewer confirms the lesson, saying where it applies; the requesters of open peer
    assists it answers are told (once per request and lesson)."""
    decided = await _decide(uow, DecisionKind.VALIDATE, lesson_id, viewer, applicability)
    if decided.done and decided.lesson is not None:
        from bot.core import assists  # noqa: PLC0415 (assists builds on lessons)

        await assists.tell_requesters(uow, decided.lesson)
    return decided


async def needs_work(uow: UnitOfWork, lesson_id: int, viewer: Viewer, note: str) -> Decided:
    """A reviewer sends it back to `captured` with a note for the author."""
    return await _decide(uow, DecisionKind.NEEDS_WORK, lesson_id, viewer, note)


async def retire(uow: UnitOfWork, lesson_id: int, viewer: Viewer, reason: str) -> Decided:
    """A reviewer retires it (no longer good practice), saying why."""
    return await _decide(uow, DecisionKind.RETIRE, lesson_id, viewer, reason)


async def may_decide(uow: UnitOfWork, lesson_id: int, viewer: Viewer) -> Verdict:
    """Whether this person may review this lesson, asked when a review button is clicked so a
    non-reviewer is refused before typing a note (the submission checks again: roles change).

    DONE, NOT_FOUND, NO_COMMUNITY or NOT_ALLOWED; one read, no write lock.
    """
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return Verdict.NOT_FOUND
        lesson = await queries.lesson_by_id(session, workspace.id, lesson_id)
        if lesson is None or not _sees(lesson, viewer):
            return Verdict.NOT_FOUND
        if lesson.community_id is None:
            return Verdict.NO_COMMUNITY
        community = await session.get(Community, lesson.community_id)
        if community is None:
            return Verdict.NO_COMMUNITY
        return Verdict.DONE if may_review(community, viewer.user_id) else Verdict.NOT_ALLOWED


@dataclass(frozen=True)
class DecisionView:
    kind: DecisionKind
    by_user: str
    note: str
    decided_at: datetime


async def decisions(uow: UnitOfWork, lesson_id: int) -> tuple[DecisionView, ...]:
    """Who decided what on a lesson, when and why, oldest first."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return ()
        found = await queries.decisions_of(session, workspace.id, lesson_id)
        return tuple(DecisionView(d.kind, d.by_user, d.note, d.decided_at) for d in found)


async def publish(uow: UnitOfWork, lesson_id: int, viewer: Viewer) -> Decided:
    """Its author makes a lesson from a private channel or a DM visible everywhere."""
    lesson = await _load(uow, lesson_id, viewer)
    if lesson is None:
        return Decided(Verdict.NOT_FOUND)
    if lesson.author_id != viewer.user_id:
        return Decided(Verdict.NOT_ALLOWED, view_of(lesson))
    if lesson.published:
        return Decided(Verdict.ALREADY, view_of(lesson))
    now = uow.deps.clock.now()
    lesson.published = True
    lesson.updated_at = now
    await queries.record_decision(
        await uow.session(), lesson, DecisionKind.PUBLISH, by_user=viewer.user_id, note="", now=now
    )
    return Decided(Verdict.DONE, view_of(lesson))


async def mark_used(uow: UnitOfWork, lesson_id: int, viewer: Viewer, note: str = "") -> Decided:
    """ "I used this": once per person per lesson, with the channel they are in."""
    if len(note) > USE_NOTE_MAX:
        return Decided(Verdict.NOTE_TOO_LONG)
    lesson = await _load(uow, lesson_id, viewer)
    if lesson is None:
        return Decided(Verdict.NOT_FOUND)
    added = await queries.add_use(
        await uow.session(),
        lesson,
        user_id=viewer.user_id,
        channel_id=viewer.channel_id,
        note=note.strip(),
        now=uow.deps.clock.now(),
    )
    return Decided(Verdict.DONE if added else Verdict.ALREADY, view_of(lesson))


async def unmark_used(uow: UnitOfWork, lesson_id: int, viewer: Viewer) -> Decided:
    """Take back one's "I used this"."""
    lesson = await _load(uow, lesson_id, viewer)
    if lesson is None:
        return Decided(Verdict.NOT_FOUND)
    removed = await queries.remove_use(await uow.session(), lesson, user_id=viewer.user_id)
    return Decided(Verdict.DONE if removed else Verdict.ALREADY, view_of(lesson))


async def resolve_visibility(uow: UnitOfWork, channel_id: str, visibility: Visibility) -> int:
    """Slack said what a channel is: its lessons waiting to know take that visibility."""
    workspace = await uow.workspace()
    return await queries.resolve_visibility(
        await uow.session(), workspace.id, channel_id, visibility
    )


async def reviewing(uow: UnitOfWork, user_id: str) -> frozenset[int]:
    """The communities whose lessons this person may decide on (to show them the buttons)."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return frozenset()
        found = await communities_of_workspace(session, workspace.id)
        return frozenset(c.id for c in found if may_review(c, user_id))


@dataclass(frozen=True)
class Answer:
    """The answer to a question asked with @Doughnut: the best practices, and who knows."""

    lessons: tuple[LessonView, ...]
    who_knows: tuple[str, ...] = ()


ANSWER_SIZE = 3


async def answer_question(uow: UnitOfWork, question: str, channel_id: str) -> Answer:
    """The top matches a whole channel may see (not the asker's own private lessons), and the
    people who wrote, validated or used them."""
    # The answer is posted in the channel: it sees what the channel may see, nothing of the
    # asker's private lessons elsewhere (no user id matches the empty one).
    page = await find_lessons(uow, question, Viewer("", channel_id))
    top = page.lessons[:ANSWER_SIZE]
    if not top or page.query.is_empty:
        return Answer(())
    async with uow.reading() as (session, workspace):
        assert workspace is not None  # it found lessons in it
        others = await queries.people_behind(session, workspace.id, [x.id for x in top])
    people = dict.fromkeys([x.author_id for x in top] + others)
    return Answer(top, tuple(people))


# ---- Capture surfaces: quick capture, undo, editing, the form's choices ------------------------

UNDO_WINDOW = timedelta(minutes=10)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_SLACK_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_SLACK_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_SLACK_SPECIAL = re.compile(r"<!(channel|here|everyone)(?:\|[^>]*)?>")
_SLACK_SUBTEAM = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>")
_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>]*)(?:\|([^>]*))?>")


def readable(text: str, names: dict[str, str] | None = None) -> str:
    """Slack's markup as a person reads it (`<@U1|ana>` → `@ana`, `&lt;` → `<`): what they typed."""
    names = names or {}
    text = _SLACK_USER.sub(lambda m: "@" + (m.group(2) or names.get(m.group(1), m.group(1))), text)
    text = _SLACK_CHANNEL.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)
    text = _SLACK_SPECIAL.sub(lambda m: "@" + m.group(1), text)
    text = _SLACK_SUBTEAM.sub(lambda m: "@" + (m.group(1) or "group"), text)
    text = _SLACK_LINK.sub(lambda m: m.group(2) or m.group(1), text)
    return unescape(text)


def first_sentence(text: str, limit: int = TITLE_MAX) -> str:
    """The title a text gives: its first sentence (or line), cut to `limit` characters."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    first = _SENTENCE_END.split(first, maxsplit=1)[0].strip()
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class QuickText:
    """`/lesson <text>` read: the lesson (as typed) and its tags; `form` None when only tags."""

    form: LessonForm | None
    tags: tuple[str, ...]


def read_quick_text(text: str, community_id: int | None = None) -> QuickText:
    """`/lesson` text as Slack sends it (escaped; `#name` of a channel arrives as a link)."""
    tags = [name for _, name in _SLACK_CHANNEL.findall(text) if name]
    text = _SLACK_CHANNEL.sub(" ", text)
    tags += _TAG.findall(unescape(text))
    lesson = " ".join(_TAG.sub(" ", readable(text)).split())
    tags = queries.normal_tags(tags)
    if not lesson:
        return QuickText(None, tuple(tags))
    title = first_sentence(lesson)
    form = LessonForm(title=title, next_time=lesson, tags=tuple(tags), community_id=community_id)
    return QuickText(form, tuple(tags))


class UndoVerdict(enum.Enum):
    DONE = "done"
    NOT_FOUND = "not_found"
    NOT_AUTHOR = "not_author"
    TOO_LATE = "too_late"


async def undo_capture(uow: UnitOfWork, lesson_id: int, user_id: str) -> UndoVerdict:
    """Its author takes a just-captured lesson back (within `UNDO_WINDOW`)."""
    lesson = await _load(uow, lesson_id, Viewer(user_id, None))
    if lesson is None:
        return UndoVerdict.NOT_FOUND
    if lesson.author_id != user_id:
        return UndoVerdict.NOT_AUTHOR
    if uow.deps.clock.now() - lesson.created_at > UNDO_WINDOW:
        return UndoVerdict.TOO_LATE
    await queries.delete_lesson(await uow.session(), lesson)
    return UndoVerdict.DONE


async def edit_lesson(
    uow: UnitOfWork, lesson_id: int, user_id: str, form: LessonForm
) -> tuple[UndoVerdict, Captured]:
    """Its author adds details to a lesson ("Add details"); the same rules as capturing."""
    errors = validate_lesson(form)
    if errors:
        return UndoVerdict.DONE, Captured(None, errors)
    lesson = await _load(uow, lesson_id, Viewer(user_id, None))
    if lesson is None:
        return UndoVerdict.NOT_FOUND, Captured(None)
    if lesson.author_id != user_id:
        return UndoVerdict.NOT_AUTHOR, Captured(None)
    session = await uow.session()
    for name in ("title", "expected", "happened", "why", "next_time", "project"):
        setattr(lesson, name, getattr(form, name).strip())
    lesson.community_id = form.community_id
    lesson.updated_at = uow.deps.clock.now()
    await queries.set_tags(session, lesson, form.tags)
    view = view_of(lesson)
    workspace = await uow.workspace()
    similar = await _similar(session, workspace.id, view, Viewer(user_id, view.source_channel_id))
    return UndoVerdict.DONE, Captured(view, similar=similar)


@dataclass(frozen=True)
class CommunityChoice:
    id: int
    name: str


@dataclass(frozen=True)
class FormChoices:
    """What the capture form offers: the communities, the channel's own first."""

    communities: tuple[CommunityChoice, ...]
    default_community: int | None
    tags: tuple[str, ...] = ()  # the tags already in use, to pick from


async def form_choices(uow: UnitOfWork, channel_id: str | None) -> FormChoices:
    """The communities to pick from, defaulting to the channel's community."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return FormChoices((), None)
        found = await community_queries.communities_of_workspace(session, workspace.id)
        tags = await queries.known_tags(session, workspace.id)
    default = next((c.id for c in found if channel_id and c.channel_id == channel_id), None)
    return FormChoices(tuple(CommunityChoice(c.id, c.name) for c in found), default, tuple(tags))


async def channel_community(uow: UnitOfWork, channel_id: str) -> int | None:
    """The community living in a channel, if any (the default for a lesson captured there)."""
    workspace = await uow.workspace()
    found = await community_queries.community_in_channel(
        await uow.session(), workspace.id, channel_id
    )
    return found.id if found is not None else None


async def known_visibility(uow: UnitOfWork, channel_id: str) -> Visibility:
    """What Slack already said about a channel (kept with its lessons), or UNKNOWN."""
    workspace = await uow.workspace()
    return await queries.known_visibility(await uow.session(), workspace.id, channel_id)


async def lesson_exists(uow: UnitOfWork, lesson_id: int) -> bool:
    """Whether a lesson is stored (committed) in this workspace."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return False
        return await queries.lesson_by_id(session, workspace.id, lesson_id) is not None


@dataclass(frozen=True)
class Nomination:
    """A message nominated as a lesson (the idea reaction), to ask its author about."""

    id: int
    channel_id: str
    message_ts: str
    author_id: str
    nominated_by: str


async def nominate(
    uow: UnitOfWork, channel_id: str, message_ts: str, author_id: str, by_user: str
) -> Nomination | None:
    """A message got the idea reaction: a nomination, or None when its author was asked."""
    workspace = await uow.workspace()
    found = await queries.add_nomination(
        await uow.session(), workspace.id, channel_id=channel_id, message_ts=message_ts,
        author_id=author_id, nominated_by=by_user, now=uow.deps.clock.now(),
    )  # fmt: skip
    if found is None:
        return None
    return Nomination(found.id, channel_id, message_ts, author_id, by_user)


async def get_nomination(uow: UnitOfWork, nomination_id: int, user_id: str) -> Nomination | None:
    """A nomination, for its message's author only."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return None
        found = await queries.nomination_by_id(session, workspace.id, nomination_id)
    if found is None or found.author_id != user_id:
        return None
    return Nomination(found.id, found.channel_id, found.message_ts, found.author_id,
                      found.nominated_by)  # fmt: skip


# ---- The Home tab ------------------------------------------------------------------------------

HOME_SHOWN = 5


@dataclass(frozen=True)
class HomeLessons:
    """A person's part of the book on their Home tab; each list with how many there are in all.
    The Home tab has no channel: only lessons they may see anywhere (public ones, their own)."""

    user_id: str
    mine: tuple[LessonView, ...] = ()
    mine_total: int = 0
    queue: tuple[LessonView, ...] = ()  # captured, in communities they review
    queue_total: int = 0
    recent: tuple[LessonView, ...] = ()  # validated practices, newest first
    recent_total: int = 0
    reviews: frozenset[int] = frozenset()  # the communities they may decide on

    @property
    def reviewer(self) -> bool:
        return bool(self.reviews)


async def home_lessons(uow: UnitOfWork, user_id: str, *, shown: int = HOME_SHOWN) -> HomeLessons:
    viewer = Viewer(user_id)
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return HomeLessons(user_id)
        found = await communities_of_workspace(session, workspace.id)
        reviews = frozenset(c.id for c in found if may_review(c, user_id))
        mine, mine_total = await queries.authored(session, workspace.id, user_id, limit=shown)
        queue: list[Lesson] = []
        queue_total = 0
        if reviews:
            queue, queue_total = await queries.awaiting_review(
                session, workspace.id, reviews, viewer, limit=shown
            )
        recent = await queries.recent_validated(session, workspace.id, viewer, limit=shown)
        recent_total = await queries.validated_count(session, workspace.id, viewer)
        return HomeLessons(
            user_id,
            tuple(map(view_of, mine)),
            mine_total,
            tuple(map(view_of, queue)),
            queue_total,
            tuple(map(view_of, recent)),
            recent_total,
            reviews,
        )


# ---- Export ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportedLesson:
    """A lesson as an export writes it: the lesson, its community's name, where it applies."""

    lesson: LessonView
    community: str | None
    created_at: datetime
    validated_by: str | None = None
    applies_to: str | None = None


async def export_lessons(
    session: AsyncSession,
    workspace_id: int,
    *,
    statuses: tuple[LessonStatus, ...] = (LessonStatus.CAPTURED, LessonStatus.VALIDATED),
    community_id: int | None = None,
    include_private: bool = False,
) -> tuple[ExportedLesson, ...]:
    """The book of knowledge for an admin's export: what is public or published (private
    unpublished lessons only with `include_private`), oldest first."""
    found = await queries.exportable(
        session,
        workspace_id,
        statuses=statuses,
        community_id=community_id,
        include_private=include_private,
    )
    names = {c.id: c.name for c in await communities_of_workspace(session, workspace_id)}
    validations = await queries.validations_of(session, workspace_id)
    exported = []
    for lesson in found:
        validation = validations.get(lesson.id) if lesson.status is LessonStatus.VALIDATED else None
        exported.append(
            ExportedLesson(
                view_of(lesson),
                names.get(lesson.community_id) if lesson.community_id is not None else None,
                lesson.created_at,
                validation.by_user if validation else None,
                validation.note if validation else None,
            )
        )
    return tuple(exported)
