"""After Action Reviews: reading `/doughnut aar`, scheduling a run, collecting its thread's
replies, and the steps the scheduler takes (start: the four questions; end: the summary).

No Slack payloads here: the handlers build the posts from these dataclasses.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.lessons import LessonForm, readable
from bot.text import unescape
from bot.timezones import is_known_timezone
from storage import aar as queries
from storage import communities as community_queries
from storage.models import AarRun, AarState, Community
from storage.models.lessons import TITLE_MAX

if TYPE_CHECKING:
    from bot.unit_of_work import UnitOfWork

DEFAULT_WINDOW = timedelta(hours=24)
MIN_WINDOW = timedelta(hours=1)
MAX_WINDOW = timedelta(days=14)
# How far ahead a run may be scheduled.
MAX_AHEAD = timedelta(days=30)
PROJECT_MAX = 200
TIME_FORMATS = "`now` (the default), `in 30m`, `in 2h`, `in 1d`, `today 16:00`, `tomorrow 10:00`"
WINDOW_FORMATS = "`for 12h` or `for 2d` (from 1 hour to 14 days; 24 hours if you say nothing)"


class Question(enum.StrEnum):
    """The four questions of an After Action Review, in their order."""

    EXPECTED = "expected"
    HAPPENED = "happened"
    WHY = "why"
    NEXT_TIME = "next_time"


QUESTIONS: dict[Question, str] = {
    Question.EXPECTED: "What did we expect to happen?",
    Question.HAPPENED: "What actually happened?",
    Question.WHY: "Why was there a difference?",
    Question.NEXT_TIME: "What will we do next time?",
}


# ---- Reading `/doughnut aar [project] [when] [for window]` ---------------------------------------

_KEYWORD = re.compile(r"(?:(?<=\s)|^)(now|in|today|tomorrow|at)\b", re.IGNORECASE)
_TIMEISH = re.compile(
    r"\d|\b(now|today|tomorrow|noon|mins?|minutes?|hours?|hrs?|days?)\b", re.IGNORECASE
)
_IN = re.compile(r"in\s+(\d{1,4})\s*(m|mins?|minutes?|h|hrs?|hours?|d|days?)", re.IGNORECASE)
_DAY_AT = re.compile(r"(today|tomorrow)(?:\s+at)?\s+(\d{1,2})(?::(\d{2}))?", re.IGNORECASE)
_WINDOW = re.compile(r"(?:(?<=\s)|^)for\s+(\d\S*(?:\s+\S+)?)\s*$", re.IGNORECASE)
_WINDOW_VALUE = re.compile(r"(\d{1,3})\s*(h|hrs?|hours?|d|days?)", re.IGNORECASE)


@dataclass(frozen=True)
class AarRequest:
    """What `/doughnut aar` asked for: the project, when it starts, how long replies are heard."""

    project: str
    starts_at: datetime
    window: timedelta
    now: bool  # starts at once (at the scheduler's next tick)


@dataclass(frozen=True)
class AarRefusal:
    """Why the command's words could not be read; `text` says which formats work."""

    text: str


def _unit(word: str) -> timedelta:
    word = word.lower()
    if word.startswith("m"):
        return timedelta(minutes=1)
    if word.startswith("h"):
        return timedelta(hours=1)
    return timedelta(days=1)


def _parse_when(tail: str, zone: ZoneInfo, now: datetime) -> datetime | None:
    """A time clause (`now`, `in 2h`, `tomorrow 10:00`) as a UTC instant; None if unreadable."""
    tail = " ".join(tail.split())
    if tail.lower() == "now":
        return now
    if found := _IN.fullmatch(tail):
        return now + int(found.group(1)) * _unit(found.group(2))
    if found := _DAY_AT.fullmatch(tail):
        hour, minute = int(found.group(2)), int(found.group(3) or 0)
        if hour > 23 or minute > 59:
            return None
        today: date = now.astimezone(zone).date()
        day = today + timedelta(days=1 if found.group(1).lower() == "tomorrow" else 0)
        return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(now.tzinfo)
    return None


def _formats(what: str) -> AarRefusal:
    return AarRefusal(
        f"I couldn't read the time *{what}*. Put it last; these work: {TIME_FORMATS}. "
        f"Add {WINDOW_FORMATS} to say how long I collect replies. "
        "For example `/doughnut aar Checkout launch tomorrow 10:00 for 48h`."
    )


def parse_request(text: str, timezone: str, now: datetime) -> AarRequest | AarRefusal:
    """Read the command's words, times in `timezone`; a refusal says which formats work."""
    text = " ".join(unescape(text).split())
    zone = ZoneInfo(timezone if is_known_timezone(timezone) else "UTC")
    window = DEFAULT_WINDOW
    if found := _WINDOW.search(text):
        value = _WINDOW_VALUE.fullmatch(found.group(1).strip())
        if value is None:
            return AarRefusal(
                f"I couldn't read how long to collect replies (*for {found.group(1)}*): "
                f"use {WINDOW_FORMATS}."
            )
        window = int(value.group(1)) * _unit(value.group(2))
        if not MIN_WINDOW <= window <= MAX_WINDOW:
            return AarRefusal(f"Replies can be collected {WINDOW_FORMATS}.")
        text = text[: found.start()].rstrip()
    starts_at: datetime | None = None
    project = text
    candidates = list(_KEYWORD.finditer(text))
    for candidate in reversed(candidates):
        starts_at = _parse_when(text[candidate.start() :], zone, now)
        if starts_at is not None:
            project = text[: candidate.start()].rstrip()
            break
    if starts_at is None:
        last = candidates[-1] if candidates else None
        tail = text[last.start() :] if last else ""
        if last and _TIMEISH.search(tail) and len(tail.split()) <= 4:
            return _formats(tail)
        starts_at = now
    if starts_at < now:
        local = now.astimezone(zone)
        return AarRefusal(
            f"That time has passed: it is {local:%H:%M} in {zone.key} now. "
            f"Pick a later one ({TIME_FORMATS})."
        )
    if starts_at - now > MAX_AHEAD:
        return AarRefusal("I can schedule an After Action Review up to 30 days ahead.")
    if len(project) > PROJECT_MAX:
        return AarRefusal(f"Please keep the project's name under {PROJECT_MAX} characters.")
    return AarRequest(project, starts_at, window, now=starts_at == now)


# ---- Scheduling a run -------------------------------------------------------------------------


@dataclass(frozen=True)
class AarView:
    """A run as the surfaces show it."""

    id: int
    channel_id: str
    project: str
    started_by: str
    timezone: str
    starts_at: datetime
    window: timedelta
    state: AarState
    is_private: bool
    community_id: int | None = None
    thread_ts: str | None = None
    ends_at: datetime | None = None

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(ZoneInfo(self.timezone))


def view_of(run: AarRun) -> AarView:
    return AarView(
        id=run.id, channel_id=run.channel_id, project=run.project, started_by=run.started_by,
        timezone=run.timezone, starts_at=run.starts_at,
        window=timedelta(minutes=run.window_minutes), state=run.state,
        is_private=run.is_private, community_id=run.community_id, thread_ts=run.thread_ts,
        ends_at=run.ends_at,
    )  # fmt: skip


@dataclass(frozen=True)
class Place:
    """Where a run would happen: whose clock its times mean, and whether its community is paused."""

    timezone: str
    paused_reason: str | None = None


async def place_of(uow: UnitOfWork, channel_id: str, user_id: str) -> Place:
    """The channel's community's timezone, else the member's, else UTC (a read: no lock held
    while the command then asks Slack about the channel)."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return Place("UTC")
        community = await community_queries.community_in_channel(session, workspace.id, channel_id)
        if community is not None and community.paused_at is not None:
            return Place(community.timezone, community.paused_reason or "it is paused")
        if community is not None and is_known_timezone(community.timezone):
            return Place(community.timezone)
        member_tz = await queries.member_timezone(session, workspace.id, user_id)
    return Place(member_tz if member_tz and is_known_timezone(member_tz) else "UTC")


async def schedule_aar(
    uow: UnitOfWork,
    user_id: str,
    channel_id: str,
    request: AarRequest,
    *,
    timezone: str,
    is_private: bool,
) -> AarView:
    """Store a run; the scheduler starts it at `starts_at` (at its next tick when now)."""
    workspace = await uow.workspace()
    session = await uow.session()
    community = await community_queries.community_in_channel(session, workspace.id, channel_id)
    run = await queries.add_run(
        session,
        AarRun(
            workspace_id=workspace.id, community_id=community.id if community else None,
            channel_id=channel_id, is_private=is_private, project=request.project,
            started_by=user_id, timezone=timezone, starts_at=request.starts_at,
            window_minutes=int(request.window.total_seconds() // 60), state=AarState.SCHEDULED,
            created_at=uow.deps.clock.now(),
        ),
    )  # fmt: skip
    return view_of(run)


# ---- Collecting replies -----------------------------------------------------------------------


async def open_thread(uow: UnitOfWork, channel_id: str, thread_ts: str) -> int | None:
    """The open run whose questions started this thread, if any (a read, before the claim)."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return None
        runs = await queries.open_runs_in(session, workspace.id, channel_id)
    for run_id, known_ts, result in runs:
        posted = known_ts or (result or {}).get("ts")
        if posted == thread_ts:
            return run_id
    return None


async def record_reply(
    uow: UnitOfWork, channel_id: str, thread_ts: str, user_id: str, ts: str, text: str
) -> bool:
    """Keep a reply to an open run's questions (once per message); False if none is open."""
    workspace = await uow.workspace()
    session = await uow.session()
    for run_id, known_ts, result in await queries.open_runs_in(session, workspace.id, channel_id):
        if (known_ts or (result or {}).get("ts")) != thread_ts:
            continue
        if known_ts is None:
            await queries.set_thread(session, run_id, thread_ts)
        return await queries.add_reply(
            session, workspace_id=workspace.id, run_id=run_id, user_id=user_id, ts=ts,
            text=text, now=uow.deps.clock.now(),
        )  # fmt: skip
    return False


# ---- The scheduler's steps --------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    """A run whose questions are owed now (`join`: the bot joins the public channel first)."""

    run: AarView
    workspace_id: int
    join: bool


@dataclass(frozen=True)
class Cancelled:
    """A run that could not start, and why (its coordinators or starter are told)."""

    run: AarView
    workspace_id: int
    reason: str


async def start_run(
    session: AsyncSession, run_id: int, now: datetime
) -> Started | Cancelled | None:
    """Claim a due run's start; None when another tick has it."""
    run = await queries.claim_step(
        session, run_id, AarState.SCHEDULED, AarState.OPEN, opened_at=now
    )
    if run is None:
        return None
    community = await session.get(Community, run.community_id) if run.community_id else None
    if community is not None and community.paused_at is not None:
        reason = community.paused_reason or "the community is paused"
        run.state, run.failure = AarState.CANCELLED, reason[:200]
        return Cancelled(view_of(run), run.workspace_id, reason)
    run.ends_at = now + timedelta(minutes=run.window_minutes)
    return Started(view_of(run), run.workspace_id, join=not run.is_private)


async def record_questions_post(session: AsyncSession, run_id: int, delivery_id: int) -> None:
    run = await session.get(AarRun, run_id)
    if run is not None:
        run.questions_delivery_id = delivery_id


@dataclass(frozen=True)
class Answer:
    """One person's words in the thread, as they read them (plain text: escape before echoing)."""

    user_id: str
    text: str


@dataclass(frozen=True)
class Summary:
    """A closed run: its replies by question (numbered or named), and the rest."""

    run: AarView
    workspace_id: int
    thread_ts: str | None
    answers: dict[Question, tuple[Answer, ...]]
    others: tuple[Answer, ...]
    people: tuple[str, ...]
    stopped: str | None = None  # why it is not posted (its community was paused meanwhile)

    @property
    def reply_count(self) -> int:
        return sum(len(a) for a in self.answers.values()) + len(self.others)


_MARKER = re.compile(
    r"^\s*(?:\*?([1-4])\s*[.):\-]\*?|(expected|happened|why|next(?:\s+time)?)\s*[:\-])\s*",
    re.IGNORECASE,
)
_BY_WORD = {
    "expected": Question.EXPECTED,
    "happened": Question.HAPPENED,
    "why": Question.WHY,
    "next": Question.NEXT_TIME,
}
_BY_NUMBER = dict(zip("1234", Question, strict=True))


def sort_answers(
    replies: list[tuple[str, str]],
) -> tuple[dict[Question, tuple[Answer, ...]], tuple[Answer, ...]]:
    """Each reply's lines under the question they answer: `2. …` or `why: …` starts one;
    lines before any marker are the reply's own (shown as they came)."""
    answers: dict[Question, list[Answer]] = {q: [] for q in Question}
    others: list[Answer] = []
    for user_id, text in replies:
        current: Question | None = None
        parts: dict[Question | None, list[str]] = {}
        for line in text.splitlines():
            if found := _MARKER.match(line):
                number, word = found.group(1), found.group(2)
                key = word.split()[0].lower() if word else None
                current = _BY_NUMBER[number] if number else _BY_WORD[key or ""]
                line = line[found.end() :]
            parts.setdefault(current, []).append(line)
        for question, lines in parts.items():
            body = "\n".join(lines).strip()
            if not body:
                continue
            answer = Answer(user_id, body)
            (answers[question] if question is not None else others).append(answer)
    return {q: tuple(a) for q, a in answers.items()}, tuple(others)


async def summarise_run(session: AsyncSession, run_id: int, now: datetime) -> Summary | None:
    """Claim a run's summary (its window is over); None when another tick has it."""
    run = await queries.claim_step(
        session, run_id, AarState.OPEN, AarState.SUMMARISED, summarised_at=now
    )
    if run is None:
        return None
    thread_ts = run.thread_ts or await queries.posted_ts(session, run.questions_delivery_id)
    if thread_ts is None:
        # The questions never reached Slack (the outbox gave up): nothing to sum up in.
        run.failure = "the questions could not be posted"
    else:
        run.thread_ts = thread_ts
    community = await session.get(Community, run.community_id) if run.community_id else None
    stopped = None
    if community is not None and community.paused_at is not None:
        stopped = community.paused_reason or "the community is paused"
        run.failure = f"not summed up: {stopped}"[:200]
    replies = await queries.replies_of(session, run.workspace_id, run.id)
    answers, others = sort_answers([(r.user_id, readable(r.text)) for r in replies])
    people = tuple(dict.fromkeys(r.user_id for r in replies))
    return Summary(view_of(run), run.workspace_id, thread_ts, answers, others, people, stopped)


# ---- Turning a run into a lesson --------------------------------------------------------------


@dataclass(frozen=True)
class LessonDraft:
    """The lesson form prefilled from a run's replies, and where the thread is."""

    run: AarView
    form: LessonForm


def _joined(answers: tuple[Answer, ...]) -> str:
    return "\n".join(a.text for a in answers)


def draft_of(summary: Summary) -> LessonDraft:
    """The AAR form from the thread: each question's answers, the loose replies as what
    happened, the project as the title."""
    run = summary.run
    title = f"After Action Review: {run.project}" if run.project else "After Action Review"
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1].rstrip() + "…"
    happened = "\n".join(
        t for t in (_joined(summary.answers[Question.HAPPENED]), _joined(summary.others)) if t
    )
    form = LessonForm(
        title=title,
        expected=_joined(summary.answers[Question.EXPECTED]),
        happened=happened,
        why=_joined(summary.answers[Question.WHY]),
        next_time=_joined(summary.answers[Question.NEXT_TIME]),
        community_id=run.community_id,
        project=run.project,
    )
    return LessonDraft(run, form)


async def lesson_draft(uow: UnitOfWork, run_id: int) -> LessonDraft | None:
    """The lesson form for a summarised run of this workspace; None if there is none."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return None
        run = await queries.get_run(session, workspace.id, run_id)
        if run is None or run.state is not AarState.SUMMARISED or run.thread_ts is None:
            return None
        replies = await queries.replies_of(session, workspace.id, run.id)
        answers, others = sort_answers([(r.user_id, readable(r.text)) for r in replies])
        people = tuple(dict.fromkeys(r.user_id for r in replies))
        summary = Summary(view_of(run), workspace.id, run.thread_ts, answers, others, people)
    return draft_of(summary)


async def due_runs(session: AsyncSession, state: AarState, now: datetime) -> list[int]:
    """The runs due to start (scheduled) or to be summed up (open) at `now`."""
    return await queries.due(session, state, now)
