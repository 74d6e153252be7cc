"""Capturing lessons: `/lesson`, the After Action Review modal, Save as lesson, Capture a lesson.

Every request is answered within 2.5 s: a modal opens inline as "One moment…" (its trigger
lives 3 s) and is filled after the ack (`deps.after_ack`), with what Slack says about the source
message (permalink, what kind of conversation). Quick capture stores the lesson before the ack,
private until Slack says what the channel is (asked after the ack, kept with its lessons).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import FormValues, ephemeral, field_errors, notice_modal
from bot.core import lessons, settings
from bot.core.lessons import LessonForm, LessonSource, UndoVerdict, Viewer
from bot.deps import Deps
from bot.failures import new_reference
from bot.installations import with_token
from bot.tenancy import Installation
from bot.unit_of_work import UnitOfWork
from handlers.gaps import offers as gap_offers
from handlers.lessons import ids, views
from handlers.lessons.views import Source
from storage.models.lessons import Visibility

log = logging.getLogger(__name__)
# How long the work after a quick capture waits to see the lesson committed.
COMMIT_WAIT = 5.0


# ---- After the ack: what Slack says about the source ------------------------------------------


async def conversation_visibility(client: AsyncWebClient, channel_id: str) -> Visibility:
    """Public, private or a DM, as Slack says; a conversation it won't show counts as private."""
    try:
        info = (await client.conversations_info(channel=channel_id))["channel"]
    except SlackApiError as error:
        log.info("conversations.info %s: %s", channel_id, error.response.get("error"))
        return Visibility.PRIVATE
    if info.get("is_im") or info.get("is_mpim"):
        return Visibility.DM
    return Visibility.PRIVATE if info.get("is_private") else Visibility.PUBLIC


async def resolve_source(
    deps: Deps, installation: Installation, token: str | None, channel_id: str, lesson_id: int
) -> None:
    """Ask Slack what the channel is, then give its waiting lessons that visibility."""
    client = with_token(deps.outbox_client, token)
    visibility = await conversation_visibility(client, channel_id)
    uow = UnitOfWork(deps, installation)
    # The request commits the lesson around its ack: wait to see it, bounded.
    deadline = asyncio.get_running_loop().time() + COMMIT_WAIT
    while not await lessons.lesson_exists(uow, lesson_id):
        if asyncio.get_running_loop().time() > deadline:
            return  # undone, or never committed: nothing to resolve
        await asyncio.sleep(0.02)
    ok = False
    try:
        await lessons.resolve_visibility(uow, channel_id, visibility)
        ok = True
    finally:
        await uow.finish(ok=ok)


def _resolve_after_ack(context: AsyncBoltContext, channel_id: str, lesson_id: int) -> None:
    uow: UnitOfWork = context["uow"]
    deps: Deps = context["deps"]
    work = resolve_source(deps, uow.installation, context.client.token, channel_id, lesson_id)
    deps.after_ack.hand_off(work, what="lesson visibility")


async def _names(client: AsyncWebClient, text: str) -> dict[str, str]:
    """Display names of the people a message mentions (a few), to show mentions as names."""
    user_ids = list(dict.fromkeys(lessons._SLACK_USER.findall(text)))[:10]
    found: dict[str, str] = {}
    for user_id, name in user_ids:
        if name:
            continue
        try:
            user = (await client.users_info(user=user_id))["user"]
        except SlackApiError:
            continue
        profile = user.get("profile") or {}
        found[user_id] = profile.get("display_name") or user.get("name") or user_id
    return found


async def fill_form(
    uow: UnitOfWork,
    external_id: str,
    source: Source,
    token: str | None,
    message_text: str = "",
) -> None:
    """After the ack: read what the form needs, then show it (or what went wrong)."""
    client = with_token(uow.deps.outbox_client, token)
    try:
        viewer = Viewer(source.author_id or "", source.channel_id)
        form = LessonForm(title="", next_time="")
        if source.lesson_id is not None:
            lesson = await lessons.get_lesson(uow, source.lesson_id, viewer)
            if lesson is None:
                view = notice_modal(views.GONE, external_id=external_id)
                await client.views_update(view=view, external_id=external_id)
                return
            form = LessonForm(
                title=lesson.title, next_time=lesson.next_time, expected=lesson.expected,
                happened=lesson.happened, why=lesson.why, tags=lesson.tags,
                community_id=lesson.community_id, project=lesson.project,
            )  # fmt: skip
        elif source.channel_id and source.message_ts:
            if not message_text:  # the idea reaction: Slack sent no text, read it now
                message_text = await _message_text(client, source.channel_id, source.message_ts)
            names, permalink, visibility = await asyncio.gather(
                _names(client, message_text),
                _permalink(client, source.channel_id, source.message_ts),
                conversation_visibility(client, source.channel_id),
            )
            text = lessons.readable(message_text, names)
            form = LessonForm(title=lessons.first_sentence(text), next_time=text)
            source = Source(
                channel_id=source.channel_id, message_ts=source.message_ts,
                thread_ts=source.thread_ts, author_id=source.author_id,
                permalink=permalink, visibility=visibility,
            )  # fmt: skip
        choices = await lessons.form_choices(uow, source.channel_id)
        view = views.lesson_modal(form, choices, source, external_id=external_id)
        await client.views_update(view=view, external_id=external_id)
    except Exception:
        reference = new_reference()
        log.exception("loading the lesson form failed (reference=%s)", reference)
        modal = notice_modal(views.LOADING_FAILED.format(reference=reference))
        try:
            await client.views_update(view=modal, external_id=external_id)
        except SlackApiError:
            log.info("the lesson form is gone (reference=%s)", reference)


async def _message_text(client: AsyncWebClient, channel_id: str, ts: str) -> str:
    """A message's text (`conversations.replies` finds a reply as well as a top message)."""
    answer = await client.conversations_replies(channel=channel_id, ts=ts, limit=1, inclusive=True)
    found = [m for m in answer.get("messages") or [] if m.get("ts") == ts]
    return (found[0].get("text") if found else "") or " "


async def _permalink(client: AsyncWebClient, channel_id: str, ts: str) -> str | None:
    try:
        return (await client.chat_getPermalink(channel=channel_id, message_ts=ts))["permalink"]
    except SlackApiError as error:
        log.info("chat.getPermalink %s: %s", channel_id, error.response.get("error"))
        return None


async def _open_form(
    client: AsyncWebClient,
    context: AsyncBoltContext,
    trigger_id: str,
    source: Source,
    message_text: str = "",
) -> bool:
    """Open "One moment…" now and fill it after the ack; False when Slack did not confirm."""
    external_id = f"lesson-{secrets.token_hex(8)}"
    opened = True
    try:
        await client.views_open(trigger_id=trigger_id, view=views.loading_modal(external_id))
    except TimeoutError:
        opened = False  # it may still open, and is filled if it does
    uow: UnitOfWork = context["uow"]
    deps: Deps = context["deps"]
    work = fill_form(uow, external_id, source, context.client.token, message_text)
    deps.after_ack.hand_off(work, what="lesson form")
    return opened


async def open_lesson_form(
    client: AsyncWebClient, context: AsyncBoltContext, trigger_id: str, source: Source
) -> bool:
    """The lesson form for another capability's button (a gap's "I can answer")."""
    return await _open_form(client, context, trigger_id, source)


# ---- Listeners --------------------------------------------------------------------------------


async def lesson_command(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """`/lesson` alone opens the form; `/lesson <text> #tags` captures at once."""
    user_id, channel_id = body["user_id"], body.get("channel_id") or None
    text = body.get("text") or ""
    if not text.strip():
        source = Source(channel_id=channel_id, author_id=user_id)
        opened = await _open_form(client, context, body["trigger_id"], source)
        await (ack() if opened else ack(**ephemeral(views.SLOW_TO_OPEN)))
        return
    uow: UnitOfWork = context["uow"]
    community_id = await lessons.channel_community(uow, channel_id) if channel_id else None
    quick = lessons.read_quick_text(text, community_id)
    if quick.form is None:
        await ack(**ephemeral(views.only_tags(quick.tags)))
        return
    visibility = Visibility.UNKNOWN
    if channel_id:
        visibility = await lessons.known_visibility(uow, channel_id)
    source = LessonSource(author_id=user_id, channel_id=channel_id, visibility=visibility)
    captured = await lessons.capture_lesson(uow, quick.form, source)
    if captured.lesson is None:
        await ack(**ephemeral(" ".join(captured.errors.values())))
        return
    if channel_id and visibility is Visibility.UNKNOWN:
        _resolve_after_ack(context, channel_id, captured.lesson.id)
    await gap_offers.lesson_saved(uow, captured.lesson)
    await ack(**views.captured_message(captured))


def _lesson_id(body: dict[str, Any]) -> int | None:
    try:
        return int((body.get("actions") or [{}])[0].get("value") or "")
    except ValueError:
        return None


async def _tell(uow: UnitOfWork, body: dict[str, Any], text: str, *, by_dm: bool = False) -> None:
    """An ephemeral answer to a click, in the channel of the message clicked (or a DM)."""
    channel_id = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    if by_dm:
        channel_id = None
    user_id = body["user"]["id"]
    target = channel_id or user_id
    payload = {"channel": target, "user": user_id, "text": text}
    method = "chat.postEphemeral" if channel_id else "chat.postMessage"
    if not channel_id:
        payload.pop("user")
    await uow.deliver(method, payload, channel=target)


async def undo_clicked(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    uow: UnitOfWork = context["uow"]
    user_id = body["user"]["id"]
    lesson_id = _lesson_id(body)
    lesson = None
    if lesson_id is not None:
        lesson = await lessons.get_lesson(uow, lesson_id, Viewer(user_id, None))
    if lesson_id is None or lesson is None:
        await _tell(uow, body, views.GONE)
        await ack()
        return
    verdict = await lessons.undo_capture(uow, lesson_id, user_id)
    text = {
        UndoVerdict.DONE: views.undone(lesson.title),
        UndoVerdict.NOT_FOUND: views.GONE,
        UndoVerdict.NOT_AUTHOR: views.UNDO_NOT_AUTHOR,
        UndoVerdict.TOO_LATE: views.UNDO_TOO_LATE,
    }[verdict]
    await _tell(uow, body, text)
    await ack()


async def add_details_clicked(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    lesson_id = _lesson_id(body)
    user_id = body["user"]["id"]
    if lesson_id is None:
        await ack()
        return
    channel_id = (body.get("channel") or {}).get("id")
    source = Source(channel_id=channel_id, author_id=user_id, lesson_id=lesson_id)
    await _open_form(client, context, body["trigger_id"], source)
    await ack()


async def save_as_lesson(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Message shortcut: the form prefilled from the message, keeping where it came from."""
    message = body.get("message") or {}
    source = Source(
        channel_id=(body.get("channel") or {}).get("id"),
        message_ts=message.get("ts"),
        thread_ts=message.get("thread_ts"),
        author_id=body["user"]["id"],
    )
    await _open_form(client, context, body["trigger_id"], source, message.get("text") or " ")
    await ack()


async def capture_shortcut(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Global shortcut: the form, the community picked in it."""
    await _open_form(client, context, body["trigger_id"], Source(author_id=body["user"]["id"]))
    await ack()


def read_form(values: dict[str, Any]) -> LessonForm:
    form = FormValues(values)

    def text(block: str) -> str:
        return form.text(block, ids.FIELD_ACTION)

    community = form.option(ids.COMMUNITY_BLOCK, ids.FIELD_ACTION)
    tags = lessons.read_quick_text(text(ids.TAGS_BLOCK)).tags
    picked = ((values.get(ids.TAG_PICK_BLOCK) or {}).get(ids.FIELD_ACTION) or {}).get(
        "selected_options"
    )
    if isinstance(picked, list):
        chosen = [o.get("value") for o in picked if isinstance(o, dict)]
        tags = tuple(dict.fromkeys([*tags, *(t for t in chosen if isinstance(t, str))]))
    return LessonForm(
        title=text(ids.TITLE_BLOCK), next_time=text(ids.NEXT_TIME_BLOCK),
        expected=text(ids.EXPECTED_BLOCK), happened=text(ids.HAPPENED_BLOCK),
        why=text(ids.WHY_BLOCK), tags=tags, project=text(ids.PROJECT_BLOCK),
        community_id=int(community) if community and community.isdigit() else None,
    )  # fmt: skip


async def submit_lesson(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    user_id = body["user"]["id"]
    source = Source.from_metadata(view.get("private_metadata"))
    if source is None:
        await ack(response_action="update", view=notice_modal(views.OUT_OF_DATE))
        return
    form = read_form(view["state"]["values"])
    uow: UnitOfWork = context["uow"]
    if form.community_id is not None:
        choices = await lessons.form_choices(uow, None)
        if form.community_id not in {c.id for c in choices.communities}:
            form = dataclasses.replace(form, community_id=None)  # not this workspace's
    if source.lesson_id is not None:
        verdict, captured = await lessons.edit_lesson(uow, source.lesson_id, user_id, form)
        if verdict is not UndoVerdict.DONE:
            refusal = views.NOT_YOURS if verdict is UndoVerdict.NOT_AUTHOR else views.GONE
            await ack(response_action="update", view=notice_modal(refusal))
            return
    else:
        lesson_source = LessonSource(
            author_id=user_id, channel_id=source.channel_id, visibility=source.visibility,
            message_ts=source.message_ts, thread_ts=source.thread_ts, permalink=source.permalink,
            assist_id=source.assist_id,
        )  # fmt: skip
        captured = await lessons.capture_lesson(uow, form, lesson_source)
        if captured.lesson is not None:
            await gap_offers.lesson_saved(uow, captured.lesson, gap_id=source.gap_id)
    if captured.lesson is None:
        await ack(**field_errors({views.FIELD_BLOCKS[f]: m for f, m in captured.errors.items()}))
        return
    if source.channel_id and captured.lesson.visibility is Visibility.UNKNOWN:
        _resolve_after_ack(context, source.channel_id, captured.lesson.id)
    await ack(response_action="update", view=views.saved_modal(captured))


async def is_idea_reaction(body: dict[str, Any], context: AsyncBoltContext) -> bool:
    """A listener matcher: the reaction is the workspace's idea emoji (a read, before the claim)."""
    reaction = (body.get("event") or {}).get("reaction")
    if not reaction or "uow" not in context:
        return False
    return reaction == await settings.idea_reaction(context["uow"])


async def idea_reaction(event: dict[str, Any], context: AsyncBoltContext) -> None:
    """The idea reaction on a message: its author is asked by DM, once per message."""
    item = event.get("item") or {}
    author_id = event.get("item_user")  # absent on some messages: then nothing happens
    if item.get("type") != "message":  # the matcher checked the reaction
        return
    if not author_id or author_id == context.bot_user_id or not item.get("ts"):
        return
    if not event.get("user") or not item.get("channel"):
        return
    uow: UnitOfWork = context["uow"]
    nomination = await lessons.nominate(uow, item["channel"], item["ts"], author_id, event["user"])
    if nomination is None:
        return
    dm = views.nomination_dm(nomination)
    await uow.deliver("chat.postMessage", {"channel": author_id, **dm}, channel=author_id)


async def nomination_clicked(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """From the DM: the form, prefilled after the ack with the message it is about."""
    user_id = body["user"]["id"]
    nomination_id = _lesson_id(body)
    uow: UnitOfWork = context["uow"]
    found = None
    if nomination_id is not None:
        found = await lessons.get_nomination(uow, nomination_id, user_id)
    if found is None:
        # The button was in someone else's DM: answer in the clicker's own.
        await _tell(uow, body, views.NOT_YOUR_MESSAGE, by_dm=True)
        await ack()
        return
    source = Source(channel_id=found.channel_id, message_ts=found.message_ts, author_id=user_id)
    await _open_form(client, context, body["trigger_id"], source)
    await ack()
