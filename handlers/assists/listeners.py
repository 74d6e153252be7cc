"""Peer assists: `/peer-assist`, the "Ask for a peer assist" message shortcut, the request's
buttons, `/doughnut assists`, the Home section and the scheduled follow-ups.

Every request is answered within 2.5 s: the form opens from the payload alone (and a database
read); what Slack must tell us (the thread's first message, a permalink, who is external) is
asked after the ack; every post goes through the outbox.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks import Block, FormValues, ephemeral, field_errors, notice_modal
from bot.core import assists, lessons
from bot.core.assists import AssistForm, AssistSource, AssistView, Changed, Verdict
from bot.deps import Deps
from bot.failures import new_reference
from bot.installations import with_token
from bot.registry import HomeViewer
from bot.tenancy import Installation
from bot.text import mention, unescape
from bot.unit_of_work import UnitOfWork
from handlers.assists import ids, views
from handlers.lessons import views as lesson_views
from scheduler.registry import Period, Target
from storage import deliveries
from storage.models import AssistStatus, Priority

log = logging.getLogger(__name__)


# ---- Small helpers -----------------------------------------------------------------------------


def _value(body: dict[str, Any]) -> str:
    return str((body.get("actions") or [{}])[0].get("value") or "")


def _assist_id(body: dict[str, Any]) -> int | None:
    try:
        return int(_value(body).partition(":")[0])
    except ValueError:
        return None


def _pair(body: dict[str, Any]) -> tuple[int, str] | None:
    """`<request id>:<user id>` from a button."""
    first, _, user = _value(body).partition(":")
    if not first.isdigit() or not user:
        return None
    return int(first), user


async def _dm(uow: UnitOfWork, user_id: str, message: dict[str, Any] | str) -> None:
    payload = {"text": message} if isinstance(message, str) else dict(message)
    await uow.deliver("chat.postMessage", {"channel": user_id, **payload}, channel=user_id)


async def _tell(uow: UnitOfWork, body: dict[str, Any], text: str) -> None:
    """A word to the clicker: ephemeral in the channel they clicked in, else by DM."""
    container = body.get("container") or {}
    channel_id = (body.get("channel") or {}).get("id") or container.get("channel_id")
    user_id = body["user"]["id"]
    if channel_id and channel_id.startswith(("C", "G")) and container.get("type") == "message":
        payload = {"channel": channel_id, "user": user_id, "text": text}
        await uow.deliver("chat.postEphemeral", payload, channel=channel_id)
        return
    await _dm(uow, user_id, text)


async def _refuse(uow: UnitOfWork, body: dict[str, Any], changed: Changed, who: str = "") -> None:
    """Say why a click changed nothing."""
    assist = changed.assist
    text = {
        Verdict.NOT_FOUND: views.GONE,
        Verdict.NOT_ALLOWED: views.NOT_ALLOWED,
        Verdict.SELF: views.SELF_INVITE,
        Verdict.NOT_VOLUNTEER: views.NOT_VOLUNTEER.format(who=who),
        Verdict.NOT_INVITED: views.NOT_INVITED,
    }.get(changed.verdict)
    if changed.verdict is Verdict.CLOSED and assist is not None:
        text = views.closed(assist)
    await _tell(uow, body, text or views.GONE)


async def _update_post(uow: UnitOfWork, assist: AssistView, helpers: tuple[str, ...]) -> None:
    """The channel post follows the request's state (when we know where it is)."""
    if assist.post_channel_id and assist.post_ts:
        payload = {"channel": assist.post_channel_id, "ts": assist.post_ts,
                   **views.status_post(assist, helpers)}  # fmt: skip
        await uow.deliver("chat.update", payload, channel=assist.post_channel_id,
                          coalesce_key=f"assist-post-{assist.id}")  # fmt: skip


def read_form(values: dict[str, Any]) -> AssistForm:
    form = FormValues(values)

    def text(block: str) -> str:
        return form.text(block, ids.FIELD_ACTION)

    community = form.option(ids.COMMUNITY_BLOCK, ids.FIELD_ACTION)
    element = (values.get(ids.CO_REQUESTER_BLOCK) or {}).get(ids.FIELD_ACTION) or {}
    co = element.get("selected_user") if isinstance(element, dict) else None
    return AssistForm(
        title=text(ids.TITLE_BLOCK), plan=text(ids.PLAN_BLOCK), learn=text(ids.LEARN_BLOCK),
        tags=tuple(read_tags(text(ids.TAGS_BLOCK))),
        needed_by=form.date(ids.NEEDED_BY_BLOCK, ids.FIELD_ACTION),
        format=form.option(ids.FORMAT_BLOCK, ids.FIELD_ACTION) or "call",
        community_id=int(community) if community and community.isdigit() else None,
        team=text(ids.TEAM_BLOCK), co_requester_id=co if isinstance(co, str) and co else None,
    )  # fmt: skip


def read_tags(text: str) -> list[str]:
    return [t for t in (w.strip("#,;").lower() for w in text.replace(",", " ").split()) if t]


# ---- Opening the form --------------------------------------------------------------------------


async def _open(
    client: AsyncWebClient, view: dict[str, Any], trigger_id: str
) -> tuple[bool, str | None]:
    """Open the form now (the trigger lives 3 s); False when Slack did not confirm."""
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
        return True, None
    except TimeoutError:
        return False, views.SLOW_TO_OPEN
    except SlackApiError as error:
        reference = new_reference()
        log.warning("views.open failed: %s (reference=%s)", error.response.get("error"), reference)
        return False, views.LOADING_FAILED.format(reference=reference)


def _topic(text: str) -> AssistForm:
    """`/peer-assist pricing launch #emea`: the title and tags to start the form with."""
    text = unescape(text)
    words = text.split()
    tags = read_tags(" ".join(w for w in words if w.startswith("#")))
    title = " ".join(w for w in words if not w.startswith("#"))
    return AssistForm(title=title, tags=tuple(tags))


async def peer_assist_command(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """`/peer-assist [topic]`: the request form, the community defaulting to the channel's."""
    uow: UnitOfWork = context["uow"]
    channel_id = body.get("channel_id") or None
    choices = await lessons.form_choices(uow, channel_id)
    view = views.request_modal(_topic(body.get("text") or ""), choices, views.FormSource())
    opened, problem = await _open(client, view, body["trigger_id"])
    await (ack() if opened else ack(**ephemeral(problem or views.SLOW_TO_OPEN)))


async def ask_from_home(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    choices = await lessons.form_choices(context["uow"], None)
    view = views.request_modal(AssistForm(title=""), choices, views.FormSource())
    await _open(client, view, body["trigger_id"])
    await ack()


async def ask_shortcut(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """The message shortcut: the form from the payload alone, then (after the ack) the thread's
    first message and the permalink, shown with `views.update`."""
    uow: UnitOfWork = context["uow"]
    user_id = body["user"]["id"]
    message = body.get("message") or {}
    channel_id = (body.get("channel") or {}).get("id")
    text = lessons.readable(message.get("text") or "")
    author = message.get("user")
    co = author if author and author != user_id and not message.get("bot_id") else None
    form = AssistForm(title=lessons.first_sentence(text), plan=text, co_requester_id=co)
    choices = await lessons.form_choices(uow, channel_id)
    source = views.FormSource(channel_id, message.get("ts"))
    external_id = f"assist-{secrets.token_hex(8)}"
    view = views.request_modal(form, choices, source, external_id=external_id)
    opened, _ = await _open(client, view, body["trigger_id"])
    if opened and channel_id and message.get("ts"):
        deps: Deps = context["deps"]
        work = _fill_from_thread(
            deps, client.token, external_id, form, choices, channel_id, message
        )
        deps.after_ack.hand_off(work, what="peer-assist form")
    await ack()


async def _fill_from_thread(
    deps: Deps,
    token: str | None,
    external_id: str,
    form: AssistForm,
    choices: lessons.FormChoices,
    channel_id: str,
    message: dict[str, Any],
) -> None:
    client = with_token(deps.outbox_client, token)
    ts, thread_ts = message["ts"], message.get("thread_ts")
    plan = form.plan
    try:
        if thread_ts and thread_ts != ts:
            answer = await client.conversations_replies(
                channel=channel_id, ts=thread_ts, limit=1, inclusive=True
            )
            first = [m for m in answer.get("messages") or [] if m.get("ts") == thread_ts]
            if first and first[0].get("text"):
                plan = f"{lessons.readable(first[0]['text'])}\n\n{plan}"
    except SlackApiError as error:
        log.info("conversations.replies %s: %s", channel_id, error.response.get("error"))
    permalink = None
    try:
        permalink = (await client.chat_getPermalink(channel=channel_id, message_ts=ts))["permalink"]
    except SlackApiError as error:
        log.info("chat.getPermalink %s: %s", channel_id, error.response.get("error"))
    source = views.FormSource(channel_id, ts, permalink)
    filled = AssistForm(title=form.title, plan=plan, co_requester_id=form.co_requester_id)
    view = views.request_modal(filled, choices, source, external_id=external_id)
    try:
        await client.views_update(view=view, external_id=external_id)
    except SlackApiError as error:
        log.info("the peer-assist form is gone: %s", error.response.get("error"))


# ---- Submitting --------------------------------------------------------------------------------


async def submit_request(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    user_id = body["user"]["id"]
    source = views.FormSource.from_metadata(view.get("private_metadata"))
    if source is None:
        await ack(response_action="update", view=notice_modal(views.OUT_OF_DATE))
        return
    uow: UnitOfWork = context["uow"]
    form = read_form(view["state"]["values"])
    created = await assists.request_assist(
        uow, user_id, form, AssistSource(source.channel_id, source.message_ts, source.permalink)
    )
    if created.assist is None:
        await ack(**field_errors({views.FIELD_BLOCKS[f]: m for f, m in created.errors.items()}))
        return
    if created.community is not None:
        channel = created.community.channel_id
        post = {"channel": channel, **views.request_post(created.assist)}
        await uow.deliver("chat.postMessage", post, channel=channel)
    if created.pending:
        deps: Deps = context["deps"]
        work = _suggest_later(deps, uow.installation, created.assist.id)
        uow.after_commit(lambda: deps.after_ack.hand_off(work, what="peer-assist matching"))
    else:
        await _dm(uow, user_id, views.requester_dm(created))
    await ack(response_action="update", view=views.submitted_modal(created))


async def _suggest_later(deps: Deps, installation: Installation, assist_id: int) -> None:
    """After the ack: the evidence the submission had no time for, then the requester's DM."""
    later = UnitOfWork(deps, installation)
    ok = False
    try:
        created = await assists.suggest_later(later, assist_id)
        if created is not None and created.assist is not None:
            await _dm(later, created.assist.requester_id, views.requester_dm(created))
        ok = True
    finally:
        await later.finish(ok=ok)


# ---- Buttons -----------------------------------------------------------------------------------


async def help_clicked(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """I can help: counts once; the requester is told, with Accept."""
    uow: UnitOfWork = context["uow"]
    user_id = body["user"]["id"]
    assist_id = _assist_id(body)
    if assist_id is None:
        await ack()
        return
    container = body.get("container") or {}
    if container.get("type") == "message" and not container.get("is_ephemeral"):
        await assists.record_post(uow, assist_id, container.get("channel_id") or "",
                                  container.get("message_ts") or "")  # fmt: skip
    changed = await assists.volunteer(uow, assist_id, user_id)
    if changed.verdict is Verdict.DONE and changed.assist is not None:
        for requester in changed.assist.requesters:
            await _dm(uow, requester, views.volunteered_dm(changed.assist, user_id))
        await _dm(uow, user_id, views.thanks_dm(changed.assist))
    elif changed.verdict is Verdict.ALREADY and changed.assist is not None:
        await _tell(
            uow, body, views.ALREADY_VOLUNTEERED.format(title=views.escape(changed.assist.title))
        )
    elif changed.verdict is Verdict.SELF:
        await _tell(uow, body, views.SELF_HELP)
    else:
        await _refuse(uow, body, changed)
    await ack()


async def share_clicked(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Share: the request's link, to forward (read after the ack)."""
    uow: UnitOfWork = context["uow"]
    deps: Deps = context["deps"]
    assist_id = _assist_id(body)
    container = body.get("container") or {}
    if assist_id is None:
        await ack()
        return
    user_id = body["user"]["id"]
    channel_id, ts = container.get("channel_id"), container.get("message_ts")
    work = _share(deps, uow.installation, client.token, assist_id, user_id, channel_id, ts)
    uow.after_commit(lambda: deps.after_ack.hand_off(work, what="peer-assist share"))
    await ack()


async def _share(
    deps: Deps, installation: Installation, token: str | None, assist_id: int, user_id: str,
    channel_id: str | None, ts: str | None,
) -> None:  # fmt: skip
    later = UnitOfWork(deps, installation)
    found = await assists.get_assist(later, assist_id)
    if found is None:
        return
    link = None
    if channel_id and ts:
        client = with_token(deps.outbox_client, token)
        try:
            link = (await client.chat_getPermalink(channel=channel_id, message_ts=ts))["permalink"]
        except SlackApiError as error:
            log.info("chat.getPermalink %s: %s", channel_id, error.response.get("error"))
    ok = False
    try:
        await _dm(later, user_id, views.share_text(found[0], link))
        ok = True
    finally:
        await later.finish(ok=ok)


async def invite_clicked(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """The requester invites a suggested person: a DM to them with I'll help / Not this time."""
    uow: UnitOfWork = context["uow"]
    pair = _pair(body)
    if pair is None:
        await ack()
        return
    assist_id, invitee = pair
    actor = body["user"]["id"]
    changed = await assists.invite(uow, assist_id, actor, invitee)
    if changed.verdict is Verdict.DONE and changed.assist is not None:
        await _dm(uow, invitee, views.invitation_dm(changed.assist))
        await _dm(uow, actor, f"Invitation sent to {mention(invitee)}.")
    elif changed.verdict is Verdict.ALREADY:
        await _tell(uow, body, views.ALREADY_INVITED.format(who=mention(invitee)))
    else:
        await _refuse(uow, body, changed)
    await ack()


async def _answer(body: dict[str, Any], context: AsyncBoltContext, yes: bool) -> None:
    uow: UnitOfWork = context["uow"]
    user_id = body["user"]["id"]
    assist_id = _assist_id(body)
    if assist_id is None:
        return
    changed = await assists.answer_invitation(uow, assist_id, user_id, yes)
    if changed.verdict is Verdict.DONE and changed.assist is not None:
        for requester in changed.assist.requesters:
            message = (
                views.volunteered_dm(changed.assist, user_id, invited=True)
                if yes else views.declined_dm(changed.assist, user_id)
            )  # fmt: skip
            await _dm(uow, requester, message)
        await _dm(uow, user_id, views.thanks_dm(changed.assist) if yes else "Thanks for answering.")
    elif changed.verdict is Verdict.ALREADY:
        await _tell(uow, body, views.ALREADY_ANSWERED)
    else:
        await _refuse(uow, body, changed)


async def invite_yes(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await _answer(body, context, True)
    await ack()


async def invite_no(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await _answer(body, context, False)
    await ack()


async def accept_clicked(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """The requester accepts a volunteer; the first makes it matched and opens the group DM."""
    uow: UnitOfWork = context["uow"]
    deps: Deps = context["deps"]
    pair = _pair(body)
    if pair is None:
        await ack()
        return
    assist_id, helper = pair
    changed = await assists.accept(uow, assist_id, body["user"]["id"], helper)
    if changed.verdict is Verdict.DONE and changed.assist is not None:
        assist = changed.assist
        await _dm(uow, helper, views.accepted_dm(assist))
        if changed.became_matched:
            work = open_group_dm(deps, uow.installation, client.token, assist.id)
            uow.after_commit(lambda: deps.after_ack.hand_off(work, what="peer-assist group DM"))
        elif assist.group_dm_id:
            # A group DM's members are fixed: a later helper is introduced in it and DM'd.
            text = f"{mention(helper)} joins as a helper (in a DM of their own)."
            await _dm(uow, assist.group_dm_id, text)
            await _dm(uow, helper, views.group_dm(assist, changed.helpers))
        await _update_post(uow, assist, changed.helpers)
    elif changed.verdict is Verdict.ALREADY:
        await _tell(uow, body, views.ALREADY_ACCEPTED.format(who=mention(helper)))
    else:
        await _refuse(uow, body, changed, who=mention(helper))
    await ack()


async def _is_external(client: AsyncWebClient, installation: Installation, user_id: str) -> bool:
    """A Slack Connect user from another organisation (they can't join a group DM)."""
    try:
        user = (await client.users_info(user=user_id))["user"]
    except SlackApiError:
        return False
    team = user.get("team_id")
    return bool(user.get("is_stranger")) or bool(
        team and installation.team_id and team != installation.team_id
        and not installation.enterprise_id
    )  # fmt: skip


async def open_group_dm(
    deps: Deps, installation: Installation, token: str | None, assist_id: int
) -> None:
    """After the commit: the group DM of the requester and (up to 7) accepted helpers, once;
    external helpers are DM'd instead."""
    found = await assists.get_assist(UnitOfWork(deps, installation), assist_id)
    if found is None or found[0].group_dm_id is not None:
        return
    assist, helpers = found
    client = with_token(deps.outbox_client, token)
    external = [h for h in helpers if await _is_external(client, installation, h)]
    inside = [h for h in helpers if h not in external][: assists.GROUP_DM_HELPERS]
    members = list(dict.fromkeys([assist.requester_id, *inside]))
    channel_id = None
    if inside:
        try:
            opened = await client.conversations_open(users=",".join(members))
            channel_id = opened["channel"]["id"]
        except SlackApiError as error:
            log.warning("conversations.open for assist %s: %s", assist_id,
                        error.response.get("error"))  # fmt: skip
    later = UnitOfWork(deps, installation)
    ok = False
    try:
        if channel_id and await assists.record_group_dm(later, assist_id, channel_id):
            await _dm(later, channel_id, views.group_dm(assist, tuple(inside)))
        for helper in external:
            await _dm(later, helper, views.external_dm(assist))
        if external:
            who = ", ".join(mention(h) for h in external)
            await _dm(later, assist.requester_id,
                      f"{who} can't join the group DM (another organisation): they got the "
                      "summary by DM; reach them directly.")  # fmt: skip
        ok = True
    finally:
        await later.finish(ok=ok)


async def withdraw_clicked(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    uow: UnitOfWork = context["uow"]
    user_id = body["user"]["id"]
    assist_id = _assist_id(body)
    if assist_id is None:
        await ack()
        return
    changed = await assists.withdraw(uow, assist_id, user_id)
    if changed.verdict is Verdict.DONE and changed.assist is not None:
        title = views.escape(changed.assist.title)
        await _tell(uow, body, f"You withdrew your offer on *{title}*.")
        for requester in changed.assist.requesters:
            await _dm(uow, requester,
                      f"{mention(user_id)} withdrew their offer on "
                      f"*{views.escape(changed.assist.title)}*.")  # fmt: skip
        await _update_post(uow, changed.assist, changed.helpers)
    elif changed.verdict is Verdict.NOT_VOLUNTEER:
        await _tell(uow, body, views.NOT_OFFERED)
    else:
        await _refuse(uow, body, changed)
    await ack()


async def _close(body: dict[str, Any], context: AsyncBoltContext, status: AssistStatus) -> None:
    uow: UnitOfWork = context["uow"]
    actor = body["user"]["id"]
    assist_id = _assist_id(body)
    if assist_id is None:
        return
    changed = await assists.close(uow, assist_id, actor, status)
    if changed.verdict is not Verdict.DONE or changed.assist is None:
        await _refuse(uow, body, changed)
        return
    assist = changed.assist
    if status is AssistStatus.DONE:
        await _dm(uow, assist.requester_id, views.done_dm(assist, changed.helpers))
    else:
        for person in {assist.requester_id, *changed.helpers}:
            await _dm(uow, person, views.cancelled_text(assist))
    await _update_post(uow, assist, changed.helpers)


async def done_clicked(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await _close(body, context, AssistStatus.DONE)
    await ack()


async def cancel_clicked(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await _close(body, context, AssistStatus.CANCELLED)
    await ack()


async def capture_clicked(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Done: the After Action Review form, prefilled and linked to the request."""
    uow: UnitOfWork = context["uow"]
    actor = body["user"]["id"]
    assist_id = _assist_id(body)
    if assist_id is None:
        await ack()
        return
    draft = await assists.lesson_draft(uow, assist_id, actor)
    if draft.verdict is not Verdict.DONE or draft.form is None:
        await _refuse(uow, body, Changed(draft.verdict, draft.assist))
        await ack()
        return
    choices = await lessons.form_choices(uow, None)
    source = lesson_views.Source(author_id=actor, assist_id=assist_id)
    await _open(client, lesson_views.lesson_modal(draft.form, choices, source), body["trigger_id"])
    await ack()


async def kudos_clicked(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """Done: one click, kudos to every accepted helper (once each)."""
    uow: UnitOfWork = context["uow"]
    actor = body["user"]["id"]
    assist_id = _assist_id(body)
    if assist_id is None:
        await ack()
        return
    given = await assists.kudos_to_helpers(uow, assist_id, actor)
    found = await assists.get_assist(uow, assist_id) if given.receivers else None
    if given.verdict is Verdict.DONE and found is not None:
        text = views.kudos_text(given.receivers, found[0])
        await _tell(uow, body, text)
        for receiver in given.receivers:
            await _dm(uow, receiver, text)
    elif given.verdict is Verdict.ALREADY:
        await _tell(uow, body, views.KUDOS_NONE)
    else:
        await _refuse(uow, body, Changed(given.verdict))
    await ack()


# ---- /doughnut assists, the Home tab -----------------------------------------------------------


async def assists_command(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, **_: Any
) -> None:
    """`/doughnut assists`: the open requests of this channel's community."""
    found = await assists.open_requests(context["uow"], body.get("channel_id") or None)
    await ack(**views.open_list(found))


async def home_section(uow: UnitOfWork, viewer: HomeViewer, room: int) -> list[Block]:
    return views.home_section(await assists.home_assists(uow, viewer.user_id), room)


# ---- Scheduled follow-ups ----------------------------------------------------------------------


async def _queue(
    session: AsyncSession, workspace_id: int, now: datetime, channel: str, body: dict[str, Any]
) -> None:
    await deliveries.enqueue(
        session, workspace_id=workspace_id, method="chat.postMessage",
        payload={"channel": channel, **body}, channel=channel, now=now, priority=Priority.BULK,
    )  # fmt: skip


async def no_helper_job(
    session: AsyncSession, target: Target, period: Period, now: datetime
) -> None:
    """No helper after 2 days: re-posted in the channel, the suggestions DM'd to the requester."""
    for follow in await assists.no_helper_follow_ups(session, target.workspace_id, now):
        if follow.community is not None:
            channel = follow.community.channel_id
            await _queue(session, target.workspace_id, now, channel, views.no_helper_post(follow))
        requester = follow.assist.requester_id
        await _queue(session, target.workspace_id, now, requester, views.no_helper_dm(follow))


async def overdue_job(session: AsyncSession, target: Target, period: Period, now: datetime) -> None:
    """Past needed-by without an outcome: the requester is asked to close it (once)."""
    for follow in await assists.overdue_follow_ups(session, target.workspace_id, now.date(), now):
        requester = follow.assist.requester_id
        await _queue(session, target.workspace_id, now, requester, views.overdue_dm(follow))
