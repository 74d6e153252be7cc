"""Peer assists: a team asks those who have done it before, matched by evidence; the outcome
flows back as lessons.

`open` → `matched` (a helper accepted) → `done` | `cancelled`, each change with who and when.
Only the requester or a coordinator of the request's community changes its state or picks its
helpers (`permissions.may_steer_assist`). Evidence for a suggestion comes from the workspace:
matching lessons written, validated or used, earlier assists given on similar topics, and kudos
received with the request's tags; every suggestion says why.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import permissions
from bot.core.communities import CommunityView
from bot.core.communities import view_of as community_view
from bot.core.lessons import LessonForm, LessonView
from bot.core.lessons import view_of as lesson_view
from bot.text import escape
from storage import assists as queries
from storage import lessons as lesson_queries
from storage.lessons import Filters, Viewer, search_terms
from storage.models import (
    AssistFormat,
    AssistStatus,
    Community,
    HelperState,
    Kudos,
    KudosSource,
    KudosStatus,
    LessonStatus,
    PeerAssist,
    Visibility,
)
from storage.models.assists import TITLE_MAX
from storage.models.lessons import FIELD_MAX

if TYPE_CHECKING:
    from bot.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

SUGGESTED = 5  # people suggested to the requester
# Seconds the submission may spend reading evidence (it is answered within 2.5 s).
MATCH_BUDGET = 1.0
TOP_LESSONS = 3  # matching lessons shown with them
MATCH_LESSONS = 30  # matching lessons read for evidence (the best ranked)
MATCH_CANDIDATES = 300  # matches ranked to find them (the book ranks up to 2,000)
GROUP_DM_HELPERS = 7  # conversations.open takes 8 users besides the bot: the requester and 7
NO_HELPER_AFTER = timedelta(days=2)
TEAM_MAX = 200
# Evidence weights: what a person did that says they can help.
WROTE_VALIDATED, WROTE, VALIDATED, USED, HELPED, KUDOS = 3.0, 1.5, 2.0, 1.0, 3.0, 1.0
KUDOS_COUNTED = 5  # per person: recognition adds, it does not outweigh lessons


class AssistField:
    """Which field an error belongs to (the handler maps these to block ids)."""

    TITLE = "title"
    PLAN = "plan"
    LEARN = "learn"
    TAGS = "tags"
    NEEDED_BY = "needed_by"
    FORMAT = "format"
    TEAM = "team"
    COMMUNITY = "community"


@dataclass(frozen=True)
class AssistForm:
    """What the requester typed."""

    title: str
    plan: str = ""
    learn: str = ""
    tags: tuple[str, ...] = ()
    needed_by: date | None = None
    format: str = AssistFormat.CALL.value
    team: str = ""
    community_id: int | None = None
    co_requester_id: str | None = None


@dataclass(frozen=True)
class AssistSource:
    """The conversation the need showed up in (the message shortcut), if any."""

    channel_id: str | None = None
    message_ts: str | None = None
    permalink: str | None = None


@dataclass(frozen=True)
class AssistView:
    """A request as the surfaces show it (plain data, safe once the session is gone)."""

    id: int
    title: str
    plan: str
    learn: str
    tags: tuple[str, ...]
    needed_by: date | None
    format: AssistFormat
    team: str
    requester_id: str
    co_requester_id: str | None
    community_id: int | None
    permalink: str | None
    status: AssistStatus
    status_by: str
    status_at: datetime
    post_channel_id: str | None
    post_ts: str | None
    group_dm_id: str | None
    created_at: datetime

    @property
    def closed(self) -> bool:
        return self.status in (AssistStatus.DONE, AssistStatus.CANCELLED)

    @property
    def requesters(self) -> tuple[str, ...]:
        return (self.requester_id, *([self.co_requester_id] if self.co_requester_id else []))


def view_of(assist: PeerAssist) -> AssistView:
    return AssistView(
        id=assist.id, title=assist.title, plan=assist.plan, learn=assist.learn,
        tags=tuple(assist.tags.split()), needed_by=assist.needed_by, format=assist.format,
        team=assist.team, requester_id=assist.requester_id,
        co_requester_id=assist.co_requester_id, community_id=assist.community_id,
        permalink=assist.permalink, status=assist.status, status_by=assist.status_by,
        status_at=assist.status_at, post_channel_id=assist.post_channel_id,
        post_ts=assist.post_ts, group_dm_id=assist.group_dm_id, created_at=assist.created_at,
    )  # fmt: skip


@dataclass(frozen=True)
class Suggestion:
    """A person the evidence points to, and why (plain words; tags and titles escaped on echo)."""

    user_id: str
    score: float
    reasons: tuple[str, ...]

    @property
    def why(self) -> str:
        return "; ".join(self.reasons)


@dataclass(frozen=True)
class Matches:
    """Who to ask, best first, and the best matching lessons. `fallback`: no evidence was
    found, the suggestions are the community's reviewers."""

    suggestions: tuple[Suggestion, ...] = ()
    lessons: tuple[LessonView, ...] = ()
    fallback: bool = False


@dataclass(frozen=True)
class Created:
    assist: AssistView | None
    errors: dict[str, str] = field(default_factory=dict)
    matches: Matches = Matches()
    community: CommunityView | None = None
    pending: bool = False  # matching goes on after the ack; suggestions come by DM


class Verdict(enum.Enum):
    DONE = "done"
    NOT_FOUND = "not_found"
    CLOSED = "closed"  # done or cancelled: nothing changes any more
    NOT_ALLOWED = "not_allowed"  # only the requester or a coordinator
    ALREADY = "already"
    NOT_VOLUNTEER = "not_volunteer"  # accepting someone who did not offer, withdrawing unoffered
    SELF = "self"  # inviting oneself, volunteering on one's own request
    NOT_INVITED = "not_invited"


@dataclass(frozen=True)
class Changed:
    """The outcome of a click: the request as it now stands, and what the surfaces need."""

    verdict: Verdict
    assist: AssistView | None = None
    helpers: tuple[str, ...] = ()  # the accepted helpers
    became_matched: bool = False
    community: CommunityView | None = None

    @property
    def done(self) -> bool:
        return self.verdict is Verdict.DONE


# ---- Rules -------------------------------------------------------------------------------------


def validate_form(form: AssistForm, today: date) -> dict[str, str]:
    """Field errors, empty when the form is fine. Text is kept as typed (escaped on echo)."""
    errors: dict[str, str] = {}
    if not form.title.strip():
        errors[AssistField.TITLE] = "Give the request a title, e.g. “Launching pricing in EMEA”."
    elif len(form.title.strip()) > TITLE_MAX:
        errors[AssistField.TITLE] = f"Keep the title under {TITLE_MAX} characters."
    for name in (AssistField.PLAN, AssistField.LEARN):
        if len(getattr(form, name)) > FIELD_MAX:
            errors[name] = f"Keep this under {FIELD_MAX} characters."
    if len(form.team) > TEAM_MAX:
        errors[AssistField.TEAM] = f"Keep this under {TEAM_MAX} characters."
    if form.needed_by is not None and form.needed_by < today:
        errors[AssistField.NEEDED_BY] = "Pick today or a later date: this one is in the past."
    if form.format not in {f.value for f in AssistFormat}:
        errors[AssistField.FORMAT] = "Pick a call, a thread or an async review."
    if any(len(tag) > 64 for tag in lesson_queries.normal_tags(form.tags)):
        errors[AssistField.TAGS] = "Keep each tag under 64 characters."
    return errors


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def topic_words(*texts: str) -> frozenset[str]:
    """The content words of some text, roughly stemmed (to compare two topics)."""
    return _topic_words(" ".join(texts))


@functools.lru_cache(maxsize=4096)
def _topic_words(text: str) -> frozenset[str]:
    # Past requests are compared with every new one: their words are worked out once.
    words = search_terms(text)
    return frozenset(_stem(w) for w in words if w not in lesson_queries.STOP_WORDS)


def similar_topics(
    a_words: frozenset[str], a_tags: set[str], b_words: frozenset[str], b_tags: set[str]
) -> bool:
    """Two topics are alike when they share a tag, or two content words (one if it is all)."""
    if a_tags & b_tags:
        return True
    shared = a_words & b_words
    return len(shared) >= 2 or (len(shared) == 1 and min(len(a_words), len(b_words)) == 1)


def _assist_topic(assist: PeerAssist | AssistView) -> tuple[frozenset[str], set[str]]:
    tags = assist.tags.split() if isinstance(assist.tags, str) else list(assist.tags)
    return topic_words(assist.title, " ".join(tags)), set(tags)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _on(tags: set[str]) -> str:
    return "on " + ", ".join(f"#{t}" for t in sorted(tags)[:3]) if tags else "on this topic"


def may_steer(assist: AssistView, community: CommunityView | None, user_id: str) -> bool:
    return permissions.may_steer_assist(assist.requesters, community, user_id)


# ---- Matching ----------------------------------------------------------------------------------


async def match(
    session: AsyncSession,
    workspace_id: int,
    *,
    title: str,
    learn: str,
    tags: tuple[str, ...],
    requester_ids: tuple[str, ...],
    exclude_assist: int | None = None,
    not_people: frozenset[str] = frozenset(),
    community: Community | None = None,
) -> Matches:
    """Rank people by their evidence on this topic; the community's reviewers if none."""
    wanted_tags = set(tags)
    # What the request is about: its title and tags. What they want to learn is mostly a
    # question ("how did you…"), whose words match too widely; it counts when nothing else does.
    terms = search_terms(" ".join((title, " ".join(tags)))) or search_terms(learn)
    found = []
    if terms:
        found = await lesson_queries.search(
            session, workspace_id, terms, Viewer(requester_ids[0]), Filters(),
            limit=MATCH_LESSONS, candidates=MATCH_CANDIDATES,
        )  # fmt: skip
    lessons = [lesson_view(x) for x in found]
    score: dict[str, float] = defaultdict(float)
    wrote: dict[str, list[LessonView]] = defaultdict(list)
    validated: dict[str, int] = defaultdict(int)
    used: dict[str, int] = defaultdict(int)
    for lesson in lessons:
        wrote[lesson.author_id].append(lesson)
        good = lesson.status is LessonStatus.VALIDATED
        score[lesson.author_id] += WROTE_VALIDATED if good else WROTE
    ids = [x.id for x in lessons]
    for user, kind in await queries.validators_and_users(session, workspace_id, ids):
        if kind == queries.VALIDATED:
            validated[user] += 1
            score[user] += VALIDATED
        else:
            used[user] += 1
            score[user] += USED
    helped: dict[str, list[str]] = defaultdict(list)
    words = topic_words(title, " ".join(tags))
    for past_title, past_tags, user in await queries.past_helpers(
        session, workspace_id, exclude_assist
    ):
        past = topic_words(past_title, past_tags)
        if similar_topics(words, wanted_tags, past, set(past_tags.split())):
            helped[user].append(past_title)
            score[user] += HELPED
    kudos: dict[str, dict[str, int]] = defaultdict(dict)
    for receiver, tag, n in await queries.kudos_by_tag(session, workspace_id, list(wanted_tags)):
        kudos[receiver][tag] = n
    for receiver, by_tag in kudos.items():
        score[receiver] += KUDOS * min(KUDOS_COUNTED, sum(by_tag.values()))
    excluded = set(requester_ids) | set(not_people)
    ranked = sorted(
        (u for u in score if u not in excluded and score[u] > 0), key=lambda u: (-score[u], u)
    )[: SUGGESTED * 3]
    # Bots and deleted members, asked of the front runners only (a short IN list).
    excluded |= await queries.not_people(session, workspace_id, ranked)
    ranked = [u for u in ranked if u not in excluded][:SUGGESTED]
    suggestions = []
    for user in ranked:
        reasons: list[str] = []
        mine = wrote.get(user, [])
        good = [x for x in mine if x.status is LessonStatus.VALIDATED]
        on = _on({t for x in mine for t in x.tags} & wanted_tags)
        if good:
            reasons.append(f"wrote {_plural(len(good), 'validated lesson')} {on}")
        if len(mine) > len(good):
            reasons.append(f"wrote {_plural(len(mine) - len(good), 'lesson')} {on}")
        if validated.get(user):
            reasons.append(f"validated {_plural(validated[user], 'matching lesson')}")
        if used.get(user):
            reasons.append(f"used {_plural(used[user], 'matching lesson')}")
        for helped_title in helped.get(user, [])[:2]:
            reasons.append(f"helped on ‘{helped_title}’")
        if kudos.get(user):
            by_tag = kudos[user]
            reasons.append(f"{sum(by_tag.values())} kudos {_on(set(by_tag))}")
        suggestions.append(Suggestion(user, score[user], tuple(reasons)))
    top = tuple(lessons[:TOP_LESSONS])
    if suggestions or community is None:
        return Matches(tuple(suggestions), top)
    reviewers = [u for u in community_view(community).reviewers if u not in excluded][:SUGGESTED]
    fallback = tuple(Suggestion(u, 0.0, (f"a reviewer of {community.name}",)) for u in reviewers)
    return Matches(fallback, top, fallback=True)


# ---- Services ----------------------------------------------------------------------------------


async def _community(session: AsyncSession, workspace_id: int, cid: int | None) -> Community | None:
    if cid is None:
        return None
    found = await session.get(Community, cid)
    return found if found is not None and found.workspace_id == workspace_id else None


async def find_matches(
    uow: UnitOfWork,
    *,
    title: str,
    learn: str,
    tags: tuple[str, ...],
    requester_ids: tuple[str, ...],
    community_id: int | None,
) -> Matches:
    """`match` in a read of its own: no write lock is held while the evidence is read."""
    bot_user = uow.installation.bot_user_id
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return Matches()
        community = await _community(session, workspace.id, community_id)
        return await match(
            session, workspace.id, title=title, learn=learn, tags=tags,
            requester_ids=requester_ids, not_people=frozenset([bot_user] if bot_user else []),
            community=community,
        )  # fmt: skip


async def request_assist(
    uow: UnitOfWork,
    user_id: str,
    form: AssistForm,
    source: AssistSource = AssistSource(),
    *,
    budget: float | None = None,
) -> Created:
    """Store a new `open` request and the people the evidence suggests (nothing on errors).

    The evidence is read first, within `budget` seconds (`MATCH_BUDGET`): past it the request
    is stored without suggestions (`pending`), and `suggest_later` finds them after the ack.
    """
    now = uow.deps.clock.now()
    errors = validate_form(form, now.date())
    if errors:
        return Created(None, errors)
    tags = lesson_queries.normal_tags(form.tags)
    co = form.co_requester_id if form.co_requester_id != user_id else None
    requesters = (user_id, *([co] if co else []))
    matches: Matches | None = None
    try:
        async with asyncio.timeout(MATCH_BUDGET if budget is None else budget):
            matches = await find_matches(
                uow, title=form.title.strip(), learn=form.learn.strip(), tags=tuple(tags),
                requester_ids=requesters, community_id=form.community_id,
            )  # fmt: skip
    except TimeoutError:
        log.info("matching a peer-assist request took too long: it goes on after the ack")
    workspace = await uow.workspace()
    session = await uow.session()
    community = await _community(session, workspace.id, form.community_id)
    if form.community_id is not None and community is None:
        return Created(None, {AssistField.COMMUNITY: "Pick one of this workspace's communities."})
    assist = await queries.add_assist(
        session,
        PeerAssist(
            workspace_id=workspace.id, community_id=community.id if community else None,
            title=form.title.strip(), plan=form.plan.strip(), learn=form.learn.strip(),
            tags=" ".join(tags), needed_by=form.needed_by, format=AssistFormat(form.format),
            team=form.team.strip(), requester_id=user_id, co_requester_id=co,
            source_channel_id=source.channel_id, source_ts=source.message_ts,
            permalink=source.permalink,
            visibility=Visibility.PRIVATE if community and community.is_private
            else Visibility.PUBLIC,
            status=AssistStatus.OPEN, status_by=user_id, status_at=now, created_at=now,
            post_channel_id=community.channel_id if community else None,
        ),
    )  # fmt: skip
    if matches is not None:
        await _suggest(session, assist, matches, now)
    return Created(view_of(assist), matches=matches or Matches(),
                   community=community_view(community) if community else None,
                   pending=matches is None)  # fmt: skip


async def _suggest(
    session: AsyncSession, assist: PeerAssist, matches: Matches, now: datetime
) -> None:
    for suggestion in matches.suggestions:
        await queries.ensure_helper(
            session, assist, suggestion.user_id, HelperState.SUGGESTED, now, suggestion.why
        )


async def suggest_later(uow: UnitOfWork, assist_id: int) -> Created | None:
    """After the ack: the suggestions a request's submission had no time to find."""
    found = await get_assist(uow, assist_id)
    if found is None:
        return None
    view = found[0]
    matches = await find_matches(
        uow, title=view.title, learn=view.learn, tags=view.tags, requester_ids=view.requesters,
        community_id=view.community_id,
    )  # fmt: skip
    _, assist, community = await _load(uow, assist_id)
    if assist is None:
        return None
    await _suggest(await uow.session(), assist, matches, uow.deps.clock.now())
    return Created(view_of(assist), matches=matches, community=community)


async def _load(
    uow: UnitOfWork, assist_id: int
) -> tuple[AsyncSession, PeerAssist | None, CommunityView | None]:
    workspace = await uow.workspace()
    session = await uow.session()
    assist = await queries.assist_by_id(session, workspace.id, assist_id, for_update=True)
    if assist is None:
        return session, None, None
    community = await _community(session, workspace.id, assist.community_id)
    return session, assist, community_view(community) if community else None


async def _accepted(session: AsyncSession, assist_id: int) -> tuple[str, ...]:
    rows = await queries.helpers_of(session, assist_id)
    return tuple(r.user_id for r in rows if r.state is HelperState.ACCEPTED)


async def volunteer(uow: UnitOfWork, assist_id: int, user_id: str) -> Changed:
    """ "I can help" (or an accepted invitation): counts once however often it is clicked."""
    session, assist, community = await _load(uow, assist_id)
    if assist is None:
        return Changed(Verdict.NOT_FOUND)
    view = view_of(assist)
    if view.closed:
        return Changed(Verdict.CLOSED, view)
    if user_id in view.requesters:
        return Changed(Verdict.SELF, view)
    now = uow.deps.clock.now()
    row, created = await queries.ensure_helper(
        session, assist, user_id, HelperState.VOLUNTEERED, now
    )
    if not created and row.state in queries.OFFERED:
        return Changed(Verdict.ALREADY, view, community=community)
    if not created:
        await queries.set_helper_state(session, row, HelperState.VOLUNTEERED, now)
    return Changed(Verdict.DONE, view, community=community)


async def withdraw(uow: UnitOfWork, assist_id: int, user_id: str) -> Changed:
    """A volunteer (or accepted helper) takes their offer back."""
    session, assist, community = await _load(uow, assist_id)
    if assist is None:
        return Changed(Verdict.NOT_FOUND)
    view = view_of(assist)
    if view.closed:
        return Changed(Verdict.CLOSED, view)
    row = await queries.helper(session, assist.id, user_id)
    if row is None or row.state not in queries.OFFERED:
        return Changed(Verdict.NOT_VOLUNTEER, view)
    await queries.set_helper_state(session, row, HelperState.WITHDRAWN, uow.deps.clock.now())
    return Changed(Verdict.DONE, view, await _accepted(session, assist.id), community=community)


async def invite(uow: UnitOfWork, assist_id: int, actor: str, user_id: str) -> Changed:
    """The requester invites a suggested person (a DM with accept / decline follows)."""
    session, assist, community = await _load(uow, assist_id)
    if assist is None:
        return Changed(Verdict.NOT_FOUND)
    view = view_of(assist)
    if view.closed:
        return Changed(Verdict.CLOSED, view)
    if not may_steer(view, community, actor):
        return Changed(Verdict.NOT_ALLOWED, view)
    if user_id in view.requesters or user_id == actor or user_id == uow.installation.bot_user_id:
        return Changed(Verdict.SELF, view)
    now = uow.deps.clock.now()
    row, created = await queries.ensure_helper(session, assist, user_id, HelperState.INVITED, now)
    if not created and row.state in (*queries.OFFERED, HelperState.INVITED):
        return Changed(Verdict.ALREADY, view)
    if not created:
        await queries.set_helper_state(session, row, HelperState.INVITED, now)
    return Changed(Verdict.DONE, view, community=community)


async def answer_invitation(uow: UnitOfWork, assist_id: int, user_id: str, yes: bool) -> Changed:
    """The invited person accepts (they volunteer) or declines."""
    session, assist, community = await _load(uow, assist_id)
    if assist is None:
        return Changed(Verdict.NOT_FOUND)
    view = view_of(assist)
    if view.closed:
        return Changed(Verdict.CLOSED, view)
    row = await queries.helper(session, assist.id, user_id)
    if row is None:
        return Changed(Verdict.NOT_INVITED, view)
    if row.state is not HelperState.INVITED:
        return Changed(Verdict.ALREADY, view)
    state = HelperState.VOLUNTEERED if yes else HelperState.DECLINED
    await queries.set_helper_state(session, row, state, uow.deps.clock.now())
    return Changed(Verdict.DONE, view, community=community)


async def accept(uow: UnitOfWork, assist_id: int, actor: str, helper_id: str) -> Changed:
    """The requester accepts a volunteer; the first one makes the request `matched`."""
    session, assist, community = await _load(uow, assist_id)
    if assist is None:
        return Changed(Verdict.NOT_FOUND)
    view = view_of(assist)
    if view.closed:
        return Changed(Verdict.CLOSED, view)
    if not may_steer(view, community, actor):
        return Changed(Verdict.NOT_ALLOWED, view)
    row = await queries.helper(session, assist.id, helper_id)
    if row is not None and row.state is HelperState.ACCEPTED:
        return Changed(Verdict.ALREADY, view, await _accepted(session, assist.id))
    if row is None or row.state is not HelperState.VOLUNTEERED:
        return Changed(Verdict.NOT_VOLUNTEER, view)
    now = uow.deps.clock.now()
    await queries.set_helper_state(session, row, HelperState.ACCEPTED, now)
    became = assist.status is AssistStatus.OPEN
    if became:
        assist.status, assist.status_by, assist.status_at = AssistStatus.MATCHED, actor, now
        assist.matched_at = now
        await session.flush()
    helpers = await _accepted(session, assist.id)
    return Changed(Verdict.DONE, view_of(assist), helpers, became, community)


async def close(uow: UnitOfWork, assist_id: int, actor: str, status: AssistStatus) -> Changed:
    """Mark a request done or cancelled (the requester or a coordinator), once."""
    session, assist, community = await _load(uow, assist_id)
    if assist is None:
        return Changed(Verdict.NOT_FOUND)
    view = view_of(assist)
    if view.closed:
        return Changed(Verdict.CLOSED, view)
    if not may_steer(view, community, actor):
        return Changed(Verdict.NOT_ALLOWED, view)
    now = uow.deps.clock.now()
    assist.status, assist.status_by, assist.status_at, assist.closed_at = status, actor, now, now
    await session.flush()
    return Changed(Verdict.DONE, view_of(assist), await _accepted(session, assist.id),
                   community=community)  # fmt: skip


async def record_post(uow: UnitOfWork, assist_id: int, channel_id: str, ts: str) -> None:
    """Where the request was posted (learnt from a click on it), to update it later."""
    _, assist, _ = await _load(uow, assist_id)
    if assist is not None and assist.post_ts is None and assist.post_channel_id == channel_id:
        assist.post_ts = ts


async def record_group_dm(uow: UnitOfWork, assist_id: int, channel_id: str) -> bool:
    """Keep the group DM opened when the request was matched; False if one was kept already."""
    _, assist, _ = await _load(uow, assist_id)
    if assist is None or assist.group_dm_id is not None:
        return False
    assist.group_dm_id = channel_id
    return True


async def get_assist(uow: UnitOfWork, assist_id: int) -> tuple[AssistView, tuple[str, ...]] | None:
    """A request and its accepted helpers (a read)."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return None
        found = await queries.assist_by_id(session, workspace.id, assist_id)
        if found is None:
            return None
        return view_of(found), await _accepted(session, found.id)


@dataclass(frozen=True)
class KudosGiven:
    verdict: Verdict
    receivers: tuple[str, ...] = ()


async def kudos_to_helpers(uow: UnitOfWork, assist_id: int, actor: str) -> KudosGiven:
    """The requester's one-click kudos to the accepted helpers of a done request, once each.

    Written here as `Kudos` rows (source `assist`); at merge this goes through the kudos
    service's rules (allowance, the member cache).
    """
    session, assist, community = await _load(uow, assist_id)
    if assist is None:
        return KudosGiven(Verdict.NOT_FOUND)
    view = view_of(assist)
    if actor not in view.requesters:
        return KudosGiven(Verdict.NOT_ALLOWED)
    if view.status is not AssistStatus.DONE:
        return KudosGiven(Verdict.NOT_FOUND)
    now = uow.deps.clock.now()
    marker = f"assist-{assist.id}"
    given = []
    for helper in await _accepted(session, assist.id):
        if helper == actor or await queries.assist_kudos_exists(
            session, assist.workspace_id, actor, helper, marker
        ):
            continue
        await queries.add_kudos(
            session,
            Kudos(
                workspace_id=assist.workspace_id, community_id=assist.community_id,
                giver_id=actor, receiver_id=helper,
                reason=f"Helped on the peer assist ‘{assist.title}’", tags=assist.tags,
                source=KudosSource.ASSIST, status=KudosStatus.GIVEN,
                channel_id=assist.post_channel_id, message_ts=marker,
                visibility=assist.visibility, given_at=now, local_day=now.date().isoformat(),
            ),
            assist.tags.split(),
        )  # fmt: skip
        given.append(helper)
    return KudosGiven(Verdict.DONE if given else Verdict.ALREADY, tuple(given))


@dataclass(frozen=True)
class LessonDraft:
    verdict: Verdict
    form: LessonForm | None = None
    assist: AssistView | None = None


async def lesson_draft(uow: UnitOfWork, assist_id: int, actor: str) -> LessonDraft:
    """The AAR form prefilled from a done request, for its requester or a coordinator."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return LessonDraft(Verdict.NOT_FOUND)
        assist = await queries.assist_by_id(session, workspace.id, assist_id)
        if assist is None:
            return LessonDraft(Verdict.NOT_FOUND)
        community = await _community(session, workspace.id, assist.community_id)
        view = view_of(assist)
        if not may_steer(view, community_view(community) if community else None, actor):
            return LessonDraft(Verdict.NOT_ALLOWED, assist=view)
    form = LessonForm(
        title=f"What we learned: {view.title}"[:TITLE_MAX], next_time="",
        expected=view.plan, happened="", why=view.learn, tags=view.tags,
        community_id=view.community_id, project=view.title,
    )  # fmt: skip
    return LessonDraft(Verdict.DONE, form, view)


# ---- Lists: /doughnut assists, the Home tab ----------------------------------------------------


@dataclass(frozen=True)
class OpenList:
    community: CommunityView | None
    assists: tuple[AssistView, ...]


async def open_requests(uow: UnitOfWork, channel_id: str | None) -> OpenList:
    """Open requests of the channel's community (everywhere when it is none)."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return OpenList(None, ())
        from storage.communities import community_in_channel  # noqa: PLC0415

        found = (
            await community_in_channel(session, workspace.id, channel_id) if channel_id else None
        )
        assists = await queries.open_assists(
            session, workspace.id, community_id=found.id if found else None
        )
        return OpenList(community_view(found) if found else None,
                        tuple(view_of(a) for a in assists))  # fmt: skip


HOME_SHOWN = 5


@dataclass(frozen=True)
class HomeAssists:
    mine: tuple[AssistView, ...] = ()
    helping: tuple[AssistView, ...] = ()
    for_me: tuple[AssistView, ...] = ()  # open requests matching what they wrote


async def home_assists(uow: UnitOfWork, user_id: str) -> HomeAssists:
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return HomeAssists()
        mine = await queries.requested_by(session, workspace.id, user_id, HOME_SHOWN)
        helping = await queries.helping_with(session, workspace.id, user_id, HOME_SHOWN)
        involved = {a.id for a in mine} | {a.id for a in helping}
        expertise = await lesson_queries.authored(session, workspace.id, user_id, limit=50)
        my_tags = {t for x in expertise[0] for t in x.tags.split()}
        my_words = topic_words(*(x.title for x in expertise[0]))
        for_me = [
            a
            for a in await queries.open_assists(session, workspace.id, limit=100)
            if a.id not in involved
            and a.requester_id != user_id
            and a.status is AssistStatus.OPEN
            and similar_topics(my_words, my_tags, *_assist_topic(a))
        ][:HOME_SHOWN]
        return HomeAssists(
            tuple(map(view_of, mine)), tuple(map(view_of, helping)), tuple(map(view_of, for_me))
        )


async def assists_given(uow: UnitOfWork, user_id: str) -> int:
    """The contribution ledger's "assists given" (accepted on a done request)."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return 0
        return await queries.assists_given(session, workspace.id, user_id)


# ---- Follow-ups (scheduled) --------------------------------------------------------------------


@dataclass(frozen=True)
class FollowUp:
    assist: AssistView
    community: CommunityView | None
    suggestions: tuple[Suggestion, ...] = ()


async def no_helper_follow_ups(
    session: AsyncSession, workspace_id: int, now: datetime
) -> list[FollowUp]:
    """Requests nobody offered to help with in 2 days: each claimed once, with its suggestions."""
    due = []
    for assist in await queries.without_helper_since(session, workspace_id, now - NO_HELPER_AFTER):
        if not await queries.claim_nudge(session, assist.id, "no_helper_nudged_at", now):
            continue
        community = await _community(session, workspace_id, assist.community_id)
        suggested = [
            Suggestion(r.user_id, 0.0, (r.evidence,) if r.evidence else ())
            for r in await queries.helpers_of(session, assist.id)
            if r.state in (HelperState.SUGGESTED, HelperState.INVITED)
        ]
        due.append(FollowUp(view_of(assist), community_view(community) if community else None,
                            tuple(suggested)))  # fmt: skip
    return due


async def overdue_follow_ups(
    session: AsyncSession, workspace_id: int, today: date, now: datetime
) -> list[FollowUp]:
    """Requests past their needed-by date without an outcome: each claimed once."""
    due = []
    for assist in await queries.overdue(session, workspace_id, today):
        if await queries.claim_nudge(session, assist.id, "overdue_nudged_at", now):
            due.append(FollowUp(view_of(assist), None))
    return due


# ---- Loop closing: a validated lesson reaches the open requests it answers ---------------------

LOOP_READ = 200


def lesson_answers(assist: PeerAssist, lesson: LessonView) -> bool:
    words, tags = _assist_topic(assist)
    return similar_topics(words, tags, topic_words(lesson.title, " ".join(lesson.tags)),
                          set(lesson.tags))  # fmt: skip


def loop_closing_text(assist: PeerAssist, lesson: LessonView) -> str:
    link = f"<{lesson.permalink}|{escape(lesson.title)}>" if lesson.permalink else ""
    title = link or f"*{escape(lesson.title)}*"
    return (
        f"A lesson matching your peer-assist request *{escape(assist.title)}* was just "
        f"validated: {title}. Search `/lessons` for it, and tell its author if it helped."
    )


async def tell_requesters(uow: UnitOfWork, lesson: LessonView) -> int:
    """A lesson was validated: the requesters of open matching requests are told, once each."""
    if not (lesson.visibility is Visibility.PUBLIC or lesson.published):
        return 0  # seen only where it came from: not told to people elsewhere
    workspace = await uow.workspace()
    session = await uow.session()
    now = uow.deps.clock.now()
    told = 0
    for assist in await queries.open_assists(session, workspace.id, limit=LOOP_READ):
        if assist.requester_id == lesson.author_id or not lesson_answers(assist, lesson):
            continue
        if not await queries.claim_lesson_notice(session, workspace.id, assist.id, lesson.id, now):
            continue
        text = loop_closing_text(assist, lesson)
        channel = assist.requester_id
        await uow.deliver("chat.postMessage", {"channel": channel, "text": text}, channel=channel)
        told += 1
    return told
