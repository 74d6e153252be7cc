"""`/doughnut aar`: schedule an After Action Review in a channel; hear its thread's replies;
turn its summary into a lesson. The scheduler starts and sums up the runs (`run_due`).

Every request is answered within 2.5 s: the command makes one bounded Slack read before its ack
(what the channel is: the bot must be able to hear replies there), everything else is queued in
the outbox, and the lesson form opens as "One moment…" and is filled after the ack.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks import ephemeral, notice_modal
from bot.core import aar, lessons
from bot.core.aar import AarRefusal, Cancelled
from bot.deps import Deps
from bot.failures import new_reference
from bot.installations import with_token
from bot.unit_of_work import UnitOfWork
from handlers.aar import views
from handlers.lessons import views as lesson_views
from handlers.lessons.views import Source
from storage import deliveries
from storage.db import Database
from storage.models import AarState
from storage.models.lessons import Visibility

log = logging.getLogger(__name__)


# ---- Reading Slack ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    """What Slack says of the channel: can the bot hear replies there (now, or once joined)?"""

    visible: bool
    is_private: bool = False
    bot_is_member: bool = False
    is_archived: bool = False


async def channel_of(client: AsyncWebClient, channel_id: str) -> Channel | None:
    """One bounded read (the inline client's timeout); None when Slack did not answer."""
    try:
        info = (await client.conversations_info(channel=channel_id))["channel"]
    except SlackApiError as error:
        if error.response.get("error") in ("channel_not_found", "not_in_channel"):
            return Channel(visible=False, is_private=True)
        log.warning("conversations.info %s: %s", channel_id, error.response.get("error"))
        return None
    except TimeoutError:
        return None
    return Channel(
        visible=True,
        is_private=bool(info.get("is_private")),
        bot_is_member=bool(info.get("is_member")),
        is_archived=bool(info.get("is_archived")),
    )


# ---- Listeners --------------------------------------------------------------------------------


async def aar_command(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    args: str = "",
    **_: Any,
) -> None:
    """`/doughnut aar [project] [now|in 2h|tomorrow 10:00] [for 48h]`."""
    user_id, channel_id = body["user_id"], body.get("channel_id") or ""
    if not channel_id.startswith(("C", "G")):
        await ack(**ephemeral(views.NOT_A_CHANNEL))
        return
    uow: UnitOfWork = context["uow"]
    place = await aar.place_of(uow, channel_id, user_id)
    if place.paused_reason is not None:
        await ack(**ephemeral(views.paused_here(place.paused_reason)))
        return
    timezone = place.timezone
    request = aar.parse_request(args, timezone, uow.deps.clock.now())
    if isinstance(request, AarRefusal):
        await ack(**ephemeral(request.text))
        return
    channel = await channel_of(client, channel_id)
    if channel is None:
        await ack(**ephemeral(views.SLACK_SLOW))
        return
    if channel.is_archived:
        await ack(**ephemeral(views.ARCHIVED))
        return
    if channel.is_private and not channel.bot_is_member:
        await ack(**ephemeral(views.INVITE_ME))
        return
    run = await aar.schedule_aar(
        uow, user_id, channel_id, request, timezone=timezone, is_private=channel.is_private
    )
    joins = not channel.is_private and not channel.bot_is_member
    await ack(**ephemeral(views.scheduled_reply(run, now=request.now, joins=joins)))


async def in_aar_thread(body: dict[str, Any], context: AsyncBoltContext) -> bool:
    """A listener matcher: a person's reply in the thread of an open After Action Review.

    A read before the event is claimed; other channel messages go on to other listeners.
    """
    event = body.get("event") or {}
    if event.get("subtype") not in (None, "thread_broadcast") or "uow" not in context:
        return False
    thread_ts, channel_id = event.get("thread_ts"), event.get("channel")
    if not thread_ts or thread_ts == event.get("ts") or not channel_id or not event.get("user"):
        return False
    return await aar.open_thread(context["uow"], channel_id, thread_ts) is not None


async def collect_reply(event: dict[str, Any], context: AsyncBoltContext) -> None:
    """Keep the reply (once per message, whatever Slack's retries do)."""
    uow: UnitOfWork = context["uow"]
    await aar.record_reply(
        uow, event["channel"], event["thread_ts"], event["user"], event["ts"],
        event.get("text") or "",
    )  # fmt: skip


def _run_id(body: dict[str, Any]) -> int | None:
    try:
        return int((body.get("actions") or [{}])[0].get("value") or "")
    except ValueError:
        return None


async def turn_into_lesson(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """The summary's button: the lesson form, prefilled from the thread after the ack."""
    external_id = f"lesson-{secrets.token_hex(8)}"
    with contextlib.suppress(TimeoutError):  # it may still open, and is filled if it does
        await client.views_open(
            trigger_id=body["trigger_id"], view=lesson_views.loading_modal(external_id)
        )
    uow: UnitOfWork = context["uow"]
    deps: Deps = context["deps"]
    work = fill_lesson_form(uow, external_id, _run_id(body), body["user"]["id"], client.token)
    deps.after_ack.hand_off(work, what="lesson form from an After Action Review")
    await ack()


async def fill_lesson_form(
    uow: UnitOfWork, external_id: str, run_id: int | None, user_id: str, token: str | None
) -> None:
    """After the ack: the AAR form from the run's replies, linked to its thread."""
    client = with_token(uow.deps.outbox_client, token)
    try:
        draft = await aar.lesson_draft(uow, run_id) if run_id is not None else None
        if draft is None or draft.run.thread_ts is None:
            view = notice_modal(views.GONE, external_id=external_id)
            await client.views_update(view=view, external_id=external_id)
            return
        run = draft.run
        permalink = await _permalink(client, run.channel_id, draft.run.thread_ts)
        source = Source(
            channel_id=run.channel_id, message_ts=run.thread_ts, thread_ts=run.thread_ts,
            author_id=user_id, permalink=permalink,
            visibility=Visibility.PRIVATE if run.is_private else Visibility.PUBLIC,
        )  # fmt: skip
        choices = await lessons.form_choices(uow, run.channel_id)
        view = lesson_views.lesson_modal(draft.form, choices, source, external_id=external_id)
        await client.views_update(view=view, external_id=external_id)
    except Exception:
        reference = new_reference()
        log.exception("loading the lesson form of AAR %s failed (reference=%s)", run_id, reference)
        modal = notice_modal(lesson_views.LOADING_FAILED.format(reference=reference))
        try:
            await client.views_update(view=modal, external_id=external_id)
        except SlackApiError:
            log.info("the lesson form is gone (reference=%s)", reference)


async def _permalink(client: AsyncWebClient, channel_id: str, ts: str) -> str | None:
    try:
        return (await client.chat_getPermalink(channel=channel_id, message_ts=ts))["permalink"]
    except SlackApiError as error:
        log.info("chat.getPermalink %s: %s", channel_id, error.response.get("error"))
        return None


# ---- The scheduler's steps: start the due runs, sum up the finished ones ----------------------


async def _post(
    session: AsyncSession,
    workspace_id: int,
    method: str,
    payload: dict[str, Any],
    channel: str,
    now: datetime,
) -> int:
    delivery = await deliveries.enqueue(
        session, workspace_id=workspace_id, method=method, payload=payload, channel=channel,
        now=now,
    )  # fmt: skip
    return delivery.id


async def _start(session: AsyncSession, run_id: int, now: datetime) -> bool:
    step = await aar.start_run(session, run_id, now)
    if step is None:
        return False  # another tick (or leader) started it
    run = step.run
    if isinstance(step, Cancelled):
        dm = views.cancelled_dm(step)
        await _post(session, step.workspace_id, "chat.postMessage",
                    {"channel": run.started_by, **dm}, run.started_by, now)  # fmt: skip
        return True
    if step.join:
        # To hear the replies: chat:write.public would post without joining, deaf.
        await _post(session, step.workspace_id, "conversations.join",
                    {"channel": run.channel_id}, run.channel_id, now)  # fmt: skip
    payload = {"channel": run.channel_id, **views.questions_message(run)}
    delivery_id = await _post(
        session, step.workspace_id, "chat.postMessage", payload, run.channel_id, now
    )
    await aar.record_questions_post(session, run.id, delivery_id)
    return True


async def _summarise(session: AsyncSession, run_id: int, now: datetime) -> bool:
    summary = await aar.summarise_run(session, run_id, now)
    if summary is None:
        return False
    run = summary.run
    if summary.stopped is not None:
        dm = views.cancelled_dm(Cancelled(run, summary.workspace_id, summary.stopped))
        await _post(session, summary.workspace_id, "chat.postMessage",
                    {"channel": run.started_by, **dm}, run.started_by, now)  # fmt: skip
        return True
    if summary.thread_ts is None:
        dm = views.no_thread_dm(run)
        await _post(session, summary.workspace_id, "chat.postMessage",
                    {"channel": run.started_by, **dm}, run.started_by, now)  # fmt: skip
        return True
    payload = {
        "channel": run.channel_id,
        "thread_ts": summary.thread_ts,
        **views.summary_message(summary),
    }
    await _post(session, summary.workspace_id, "chat.postMessage", payload, run.channel_id, now)
    return True


async def run_due(db: Database, now: datetime) -> int:
    """Each due step in its own transaction, claimed there: a failure stops only its run."""
    async with db.reading() as session:
        starting = await aar.due_runs(session, AarState.SCHEDULED, now)
        ending = await aar.due_runs(session, AarState.OPEN, now)
    done = 0
    for step, run_ids in ((_start, starting), (_summarise, ending)):
        for run_id in run_ids:
            try:
                async with db.transaction() as session:
                    done += await step(session, run_id, now)
            except Exception:
                log.exception("After Action Review %s: %s failed", run_id, step.__name__)
    return done
