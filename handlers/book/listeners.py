"""`/lessons`, its More button, and the buttons on a lesson: review, I used this, Publish.

Search reads are bounded and answer in the ack. A button that asks for a note opens its small
modal at once (the trigger lives 3 s) with the lesson and the channel in `private_metadata`;
the submission decides, and what others are told goes through the outbox.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import Block, FormValues, field_errors
from bot.core import lessons
from bot.core.lessons import LessonView, Verdict, Viewer
from bot.registry import HomeViewer
from bot.unit_of_work import UnitOfWork
from handlers.book import ids, views
from handlers.gaps import offers as gap_offers
from handlers.help.listeners import PERSON_SUBTYPES
from handlers.home.listeners import HomeTab
from storage.deliveries import RESPONSE_URL
from storage.models import DecisionKind

DECIDE = {
    DecisionKind.VALIDATE: lessons.validate,
    DecisionKind.NEEDS_WORK: lessons.needs_work,
    DecisionKind.RETIRE: lessons.retire,
}


def _channel_of(body: dict[str, Any]) -> str | None:
    """Where a button was clicked (None on the Home tab)."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    return channel if isinstance(channel, str) and channel else None


def _lesson_id(body: dict[str, Any]) -> int | None:
    value = ((body.get("actions") or [{}])[0]).get("value", "")
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _on_home(body: dict[str, Any]) -> bool:
    """Whether a button was clicked on the Home tab."""
    return (body.get("view") or {}).get("type") == "home"


async def _tell(uow: UnitOfWork, user_id: str, text: str) -> None:
    """A short word to one person, as a DM: an ephemeral fails where the bot is not a member
    (a private channel it was never invited to), a DM does not."""
    await uow.deliver("chat.postMessage", {"channel": user_id, "text": text}, channel=user_id)


async def _tell_author(
    uow: UnitOfWork, lesson: LessonView, by_user: str, told: dict[str, Any]
) -> None:
    """A DM to the lesson's author about what someone else did with it (never about oneself)."""
    if lesson.author_id != by_user:
        channel = lesson.author_id
        await uow.deliver("chat.postMessage", {"channel": channel, **told}, channel=channel)


# ---- Search -----------------------------------------------------------------------------------


async def lessons_command(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """`/lessons [query]`: the first page of answers, in the ack."""
    uow: UnitOfWork = context["uow"]
    user_id, channel_id = body["user_id"], body.get("channel_id") or None
    text = body.get("text") or ""
    page = await lessons.find_lessons(uow, text, Viewer(user_id, channel_id))
    reviews = await lessons.reviewing(uow, user_id)
    await ack(**views.results(page, text, user_id, reviews))


async def more(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """The next page, posted as a new ephemeral under the last one."""
    uow: UnitOfWork = context["uow"]
    user_id, channel_id = body["user"]["id"], _channel_of(body)
    value = ((body.get("actions") or [{}])[0]).get("value") or ""
    text, offset = views.read_more_value(value)
    page = await lessons.find_lessons(uow, text, Viewer(user_id, channel_id), offset=offset)
    reviews = await lessons.reviewing(uow, user_id)
    reply = views.results(page, text, user_id, reviews)
    if body.get("response_url"):
        # Reaches the person even in a channel the bot is not in (an ephemeral would not).
        answer = {**reply, "response_type": "ephemeral", "replace_original": False}
        await uow.deliver(RESPONSE_URL, {"url": body["response_url"], "body": answer})
    elif channel_id:
        payload = views.more_reply(reply, channel_id, user_id)
        await uow.deliver("chat.postEphemeral", payload, channel=channel_id)
    await ack()


# ---- Review -----------------------------------------------------------------------------------


async def open_review(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Validate, Needs work or Retire: who may decide is checked first, so a non-reviewer is
    refused before typing a note; the submission checks again (a role may change meanwhile)."""
    lesson_id = _lesson_id(body)
    action_id = ((body.get("actions") or [{}])[0]).get("action_id")
    if lesson_id is None or action_id not in views.REVIEW:
        await ack()
        return
    uow: UnitOfWork = context["uow"]
    channel_id = _channel_of(body)
    allowed = await lessons.may_decide(uow, lesson_id, Viewer(body["user"]["id"], channel_id))
    if allowed is Verdict.DONE:
        kind = views.REVIEW[action_id]
        modal = views.review_modal(kind, lesson_id, channel_id, _on_home(body))
    else:
        modal = views.refusal(allowed)
    await client.views_open(trigger_id=body["trigger_id"], view=modal)
    await ack()


# ---- I used this ------------------------------------------------------------------------------


async def open_used(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
    lesson_id = _lesson_id(body)
    if lesson_id is None:
        await ack()
        return
    modal = views.used_modal(lesson_id, _channel_of(body), _on_home(body))
    await client.views_open(trigger_id=body["trigger_id"], view=modal)
    await ack()


# ---- Publish ----------------------------------------------------------------------------------


# ---- What the submissions and Publish decide --------------------------------------------------


class Decisions:
    """A review, "I used this" (or taking it back) and Publish. Made from the Home tab, each
    refreshes the person's Home tab once the decision has committed, so the lesson leaves
    their queue at once."""

    def __init__(self, home: HomeTab) -> None:
        self._home = home

    def _refresh(
        self, uow: UnitOfWork, client: AsyncWebClient, user_id: str, on_home: bool
    ) -> None:
        """A decision made from the Home tab refreshes it once committed."""
        if on_home:
            self._home.refresh_after_commit(uow, client.token, user_id)

    async def submit_review(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        uow: UnitOfWork = context["uow"]
        user_id = body["user"]["id"]
        lesson_id, channel_id, kind_value = views.read_metadata(view)
        try:
            kind = DecisionKind(kind_value)
            decide = DECIDE[kind]
        except (ValueError, KeyError):
            lesson_id = None
        if lesson_id is None:
            await ack(response_action="update", view=views.refusal(Verdict.NOT_FOUND))
            return
        note = FormValues(view["state"]["values"]).text(ids.NOTE_BLOCK, ids.NOTE_ACTION)
        decided = await decide(uow, lesson_id, Viewer(user_id, channel_id), note)
        if decided.verdict in (Verdict.NOTE_REQUIRED, Verdict.NOTE_TOO_LONG):
            await ack(**field_errors({ids.NOTE_BLOCK: views.REFUSED[decided.verdict]}))
            return
        if not decided.done or decided.lesson is None:
            await ack(response_action="update", view=views.refusal(decided.verdict))
            return
        lesson = decided.lesson
        if kind is DecisionKind.VALIDATE:  # a validated practice may answer an open gap
            await gap_offers.lesson_saved(uow, lesson)
        await _tell_author(uow, lesson, user_id, views.author_told(kind, lesson, user_id, note))
        self._refresh(uow, client, user_id, views.opened_from_home(view))
        await ack(response_action="update", view=views.decided_notice(kind, lesson))

    async def submit_used(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        uow: UnitOfWork = context["uow"]
        user_id = body["user"]["id"]
        lesson_id, channel_id, _ = views.read_metadata(view)
        if lesson_id is None:
            await ack(response_action="update", view=views.refusal(Verdict.NOT_FOUND))
            return
        note = FormValues(view["state"]["values"]).text(ids.NOTE_BLOCK, ids.NOTE_ACTION)
        on_home = views.opened_from_home(view)
        used = await lessons.mark_used(uow, lesson_id, Viewer(user_id, channel_id), note)
        if used.verdict is Verdict.NOTE_TOO_LONG:
            await ack(**field_errors({ids.NOTE_BLOCK: views.REFUSED[used.verdict]}))
        elif used.verdict is Verdict.ALREADY:
            # Once per person: offer to take it back instead.
            modal = views.unuse_modal(lesson_id, channel_id, on_home)
            await ack(response_action="update", view=modal)
        elif not used.done or used.lesson is None:
            await ack(response_action="update", view=views.refusal(used.verdict))
        else:
            lesson = used.lesson
            await _tell_author(uow, lesson, user_id, views.used_told(lesson, user_id, note))
            self._refresh(uow, client, user_id, on_home)
            await ack(response_action="update", view=views.used_notice(lesson))

    async def submit_unuse(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        uow: UnitOfWork = context["uow"]
        user_id = body["user"]["id"]
        lesson_id, channel_id, _ = views.read_metadata(view)
        if lesson_id is None:
            await ack(response_action="update", view=views.refusal(Verdict.NOT_FOUND))
            return
        removed = await lessons.unmark_used(uow, lesson_id, Viewer(user_id, channel_id))
        if removed.lesson is None:
            await ack(response_action="update", view=views.refusal(removed.verdict))
            return
        self._refresh(uow, client, user_id, views.opened_from_home(view))
        await ack(response_action="update", view=views.unused_notice(removed.lesson))

    async def publish(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """The author makes a private-channel lesson visible everywhere."""
        uow: UnitOfWork = context["uow"]
        user_id, channel_id = body["user"]["id"], _channel_of(body)
        lesson_id = _lesson_id(body)
        if lesson_id is None:
            await ack()
            return
        done = await lessons.publish(uow, lesson_id, Viewer(user_id, channel_id))
        if done.done and done.lesson is not None:
            text = views.published_text(done.lesson)
            self._refresh(uow, client, user_id, _on_home(body))
        else:
            text = views.publish_refused(done.verdict)
        await _tell(uow, user_id, text)
        await ack()


# ---- @Doughnut <question> ---------------------------------------------------------------------


class Mentions:
    """`app_mention`: a question gets the best practices and who knows, in its thread; a bare
    mention gets how to ask."""

    async def answer(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        channel = event.get("channel")
        if not channel or event.get("subtype") not in PERSON_SUBTYPES:
            return
        uow: UnitOfWork = context["uow"]
        question = event.get("text") or ""
        if lessons.parse_query(question).is_empty:
            reply = views.HOW_TO_ASK
        else:
            reply = views.answer_message(await lessons.answer_question(uow, question, channel))
        thread_ts = event.get("thread_ts") or event.get("ts")
        payload: dict[str, Any] = {"channel": channel, **reply}
        if thread_ts:
            payload["thread_ts"] = thread_ts
        await uow.deliver("chat.postMessage", payload, channel=channel)


# ---- The Home tab -----------------------------------------------------------------------------


async def home_section(uow: UnitOfWork, viewer: HomeViewer, room: int) -> list[Block]:
    """The book's part of the Home tab (its review buttons are the ones above)."""
    return views.home_section(await lessons.home_lessons(uow, viewer.user_id), room)
