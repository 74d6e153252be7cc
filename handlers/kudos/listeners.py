"""Kudos: `/kudos`, Give kudos for this, the kudos reaction, the kudos emoji in a message, Undo
and the Home tab's Give kudos.

Every answer is within 2.5 s: receivers come from the member cache, the kudos and the DMs (as
outbox rows) commit before the ack. What needs Slack (a receiver not cached, a user group not
cached, a channel's kind, a message's permalink) is asked after the commit, in work handed off.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import FormValues, ephemeral, field_errors, notice_modal
from bot.core import kudos, members, settings
from bot.core.kudos import Announcement, KudosAsk, Occasion, Outcome, Refusal, Skip, UndoVerdict
from bot.deps import Deps
from bot.failures import new_reference
from bot.installations import with_token
from bot.tenancy import Installation
from bot.unit_of_work import UnitOfWork
from handlers.kudos import ids, views
from handlers.lessons.listeners import conversation_visibility
from storage.models import KudosSource, Visibility

log = logging.getLogger(__name__)

# users.info for each receiver not cached, after the ack: each bounded, and all of them.
LOOKUP_TIMEOUT = 3.0
LOOKUPS_BUDGET = 15.0


# ---- Telling people (through the outbox) ------------------------------------------------------


async def announce(uow: UnitOfWork, announcements: tuple[Announcement, ...]) -> None:
    """Each recipient's DM, and the community channel's post where it is wanted."""
    for one in announcements:
        receiver = one.kudos.receiver_id
        dm = views.received_dm(one.kudos)
        await uow.deliver("chat.postMessage", {"channel": receiver, **dm}, channel=receiver)
        if one.post_to:
            post = views.channel_post(one.kudos)
            await uow.deliver(
                "chat.postMessage", {"channel": one.post_to, **post}, channel=one.post_to
            )


async def tell(uow: UnitOfWork, user_id: str, channel_id: str | None, body: dict[str, Any]) -> None:
    """An ephemeral in the channel where it happened, or a DM when there is none."""
    if channel_id and channel_id[0] in "CG":
        payload = {"channel": channel_id, "user": user_id, **body}
        await uow.deliver("chat.postEphemeral", payload, channel=channel_id)
    else:
        await uow.deliver("chat.postMessage", {"channel": user_id, **body}, channel=user_id)


# ---- After the commit: what only Slack can say ------------------------------------------------


def _after_commit(context: AsyncBoltContext, ask: KudosAsk, outcome: Outcome) -> None:
    """Hand off the work the outcome still needs, once the request's transaction committed."""
    pending = [k.id for k in outcome.pending]
    occasion = ask.occasion
    unknown = any(k.visibility is Visibility.UNKNOWN for k in outcome.stored)
    unlinked = bool(occasion.message_ts and not occasion.permalink)
    needs_source = bool(occasion.channel_id and outcome.stored and (unknown or unlinked))
    if not pending and not outcome.groups_to_read and not needs_source:
        return
    uow: UnitOfWork = context["uow"]
    deps: Deps = context["deps"]
    token = context.client.token if context.client else None
    installation = uow.installation

    def hand_off() -> None:
        work = finish_kudos(deps, installation, token, ask, outcome, needs_source)
        deps.after_ack.hand_off(work, what="kudos after the ack")

    uow.after_commit(hand_off)


async def finish_kudos(
    deps: Deps,
    installation: Installation,
    token: str | None,
    ask: KudosAsk,
    outcome: Outcome,
    needs_source: bool,
) -> None:
    client = with_token(deps.outbox_client, token)
    if outcome.pending:
        await settle(deps, installation, token, [k.id for k in outcome.pending])
    if needs_source and ask.occasion.channel_id:
        unknown = any(k.visibility is Visibility.UNKNOWN for k in outcome.stored)
        await learn_source(deps, installation, client, ask.occasion, ask_channel=unknown)
    if outcome.groups_to_read:
        await give_to_groups(deps, installation, token, ask, outcome.groups_to_read)


async def _look_up_all(
    deps: Deps, installation: Installation, token: str | None, user_ids: list[str]
) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def one(user_id: str) -> None:
        try:
            found[user_id] = await members.look_up(
                deps, installation, token, user_id, LOOKUP_TIMEOUT
            )
        except (TimeoutError, SlackApiError) as error:
            log.info("users.info %s failed after a kudos: %r", user_id, error)
            found[user_id] = Skip.UNCHECKED

    try:
        async with asyncio.timeout(LOOKUPS_BUDGET):
            await asyncio.gather(*(one(u) for u in dict.fromkeys(user_ids)))
    except TimeoutError:
        pass
    return {u: found.get(u, Skip.UNCHECKED) for u in user_ids}


async def settle(
    deps: Deps, installation: Installation, token: str | None, kudos_ids: list[int]
) -> None:
    """Pending kudos: given (and announced) or refused (and the giver told), as Slack says."""
    uow = UnitOfWork(deps, installation)
    ok = False
    try:
        found = await kudos.pending_receivers(uow, kudos_ids)  # a read: no lock held meanwhile
        looked_up = await _look_up_all(deps, installation, token, found)
        settled = await kudos.settle_pending(uow, looked_up, kudos_ids)
        await announce(uow, settled.announcements)
        for view, why in settled.refused:
            dm = views.refused_dm(view, why)
            giver = view.giver_id
            await uow.deliver("chat.postMessage", {"channel": giver, **dm}, channel=giver)
        ok = True
    finally:
        await uow.finish(ok=ok)


async def learn_source(
    deps: Deps,
    installation: Installation,
    client: AsyncWebClient,
    occasion: Occasion,
    *,
    ask_channel: bool,
) -> None:
    """The channel's kind and the message's permalink, kept with the kudos."""
    channel_id = occasion.channel_id
    assert channel_id is not None
    visibility = None
    if ask_channel:
        visibility = await conversation_visibility(client, channel_id)
    permalink = None
    if occasion.message_ts and not occasion.permalink:
        permalink = await _permalink(client, channel_id, occasion.message_ts)
    uow = UnitOfWork(deps, installation)
    ok = False
    try:
        await kudos.source_known(uow, channel_id, visibility, occasion.message_ts, permalink)
        ok = True
    finally:
        await uow.finish(ok=ok)


async def give_to_groups(
    deps: Deps,
    installation: Installation,
    token: str | None,
    ask: KudosAsk,
    groups: tuple[str, ...],
) -> None:
    """User groups not cached: read them, then the same rules, and tell the giver."""
    read = [await members.fetch_group(deps, installation, token, g) for g in groups]
    if any(found is None for found in read):
        uow = UnitOfWork(deps, installation)
        ok = False
        try:
            text = views.GROUP_UNREAD
            await tell(uow, ask.giver_id, ask.occasion.channel_id, ephemeral(text))
            ok = True
        finally:
            await uow.finish(ok=ok)
        return
    again = KudosAsk(
        giver_id=ask.giver_id, receivers=(), reason=ask.reason, occasion=ask.occasion,
        tags=ask.tags, groups=groups,
    )  # fmt: skip
    uow = UnitOfWork(deps, installation)
    ok = False
    try:
        outcome = await kudos.give_kudos(uow, again)
        now = deps.clock.now()
        if outcome.refusal is not None:
            body = ephemeral(views.refusal_text(outcome, now))
        else:
            await announce(uow, outcome.announcements)
            body = views.outcome_message(outcome, now)
        await tell(uow, ask.giver_id, ask.occasion.channel_id, body)
        ok = True
    finally:
        await uow.finish(ok=ok)
    if outcome.pending:
        await settle(deps, installation, token, [k.id for k in outcome.pending])


async def _permalink(client: AsyncWebClient, channel_id: str, ts: str) -> str | None:
    try:
        return (await client.chat_getPermalink(channel=channel_id, message_ts=ts))["permalink"]
    except SlackApiError as error:
        log.info("chat.getPermalink %s: %s", channel_id, error.response.get("error"))
        return None


# ---- Where a command or an event happened ------------------------------------------------------


def command_visibility(channel_id: str, channel_name: str) -> Visibility:
    """What a slash command's channel is, as far as its payload says (else asked after the ack)."""
    if (
        channel_id.startswith("D")
        or channel_name == "directmessage"
        or channel_name.startswith("mpdm-")
    ):
        return Visibility.DM
    if channel_name == "privategroup":
        return Visibility.PRIVATE
    return Visibility.UNKNOWN


EVENT_VISIBILITY = {
    "channel": Visibility.PUBLIC,
    "group": Visibility.PRIVATE,
    "im": Visibility.DM,
    "mpim": Visibility.DM,
}


async def _give(context: AsyncBoltContext, ask: KudosAsk) -> Outcome:
    outcome = await kudos.give_kudos(context["uow"], ask)
    if outcome.refusal is None:
        await announce(context["uow"], outcome.announcements)
        _after_commit(context, ask, outcome)
    return outcome


# ---- Listeners --------------------------------------------------------------------------------


async def kudos_command(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """`/kudos @ana @ben for the failover #reliability`."""
    parsed = kudos.parse_command(body.get("text") or "")
    channel_id = body.get("channel_id") or None
    visibility = command_visibility(channel_id or "", body.get("channel_name") or "")
    occasion = Occasion(KudosSource.COMMAND, channel_id=channel_id, visibility=visibility)
    ask = KudosAsk(
        giver_id=body["user_id"], receivers=parsed.receivers, reason=parsed.reason,
        occasion=occasion, tags=parsed.tags, groups=parsed.groups,
    )  # fmt: skip
    outcome = await _give(context, ask)
    now = context["deps"].clock.now()
    if outcome.refusal is not None:
        await ack(**ephemeral(views.refusal_text(outcome, now, len(parsed.reason))))
        return
    await ack(response_type="ephemeral", **views.outcome_message(outcome, now))


def _kudos_ids(body: dict[str, Any]) -> list[int]:
    value = (body.get("actions") or [{}])[0].get("value") or ""
    return [int(v) for v in value.split(",") if v.strip().isdigit()][: kudos.MAX_RECIPIENTS]


async def undo_clicked(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    uow: UnitOfWork = context["uow"]
    user_id = body["user"]["id"]
    kudos_ids = _kudos_ids(body)
    verdict = (
        await kudos.undo_kudos(uow, kudos_ids, user_id) if kudos_ids else UndoVerdict.NOT_FOUND
    )
    if verdict is UndoVerdict.DONE:
        text = views.UNDONE.format(who=views._who(await kudos.receivers_of(uow, kudos_ids)))
    else:
        text = {
            UndoVerdict.NOT_FOUND: views.GONE,
            UndoVerdict.NOT_GIVER: views.UNDO_NOT_GIVER,
            UndoVerdict.TOO_LATE: views.UNDO_TOO_LATE,
        }[verdict]
    channel_id = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    await tell(uow, user_id, channel_id, ephemeral(text))
    await ack()


async def is_kudos_reaction(body: dict[str, Any], context: AsyncBoltContext) -> bool:
    """A listener matcher: the workspace's kudos emoji (a read, before the event is claimed)."""
    reaction = (body.get("event") or {}).get("reaction")
    if not reaction or "uow" not in context:
        return False
    return reaction == await settings.kudos_emoji(context["uow"])


# A reaction that gives nothing says so, except on a message already thanked, or on a bot's
# post (the emoji on Doughnut's own kudos posts is applause, not a request).
QUIET = (Skip.ALREADY, Skip.BOT)


async def kudos_reaction(event: dict[str, Any], context: AsyncBoltContext) -> None:
    """The kudos emoji on a message: kudos from the reactor to its author, linked to it."""
    item = event.get("item") or {}
    author_id, giver_id = event.get("item_user"), event.get("user")
    channel_id, ts = item.get("channel"), item.get("ts")
    if item.get("type") != "message" or not (author_id and giver_id and channel_id and ts):
        return
    visibility = Visibility.DM if channel_id.startswith("D") else Visibility.UNKNOWN
    occasion = Occasion(
        KudosSource.REACTION, channel_id=channel_id, message_ts=ts, visibility=visibility
    )
    ask = KudosAsk(giver_id=giver_id, receivers=(author_id,), reason="", occasion=occasion)
    outcome = await _give(context, ask)
    now = context["deps"].clock.now()
    uow: UnitOfWork = context["uow"]
    # The reaction shows it was given; the giver hears only when it was not.
    if outcome.refusal is not None:
        await tell(uow, giver_id, channel_id, ephemeral(views.refusal_text(outcome, now)))
    elif outcome.skipped and not outcome.stored and outcome.skipped[0][1] not in QUIET:
        await tell(uow, giver_id, channel_id, ephemeral(views.skipped_line(outcome.skipped)))


async def kudos_reaction_removed(event: dict[str, Any], context: AsyncBoltContext) -> None:
    """The kudos emoji taken off within 10 minutes takes the kudos back."""
    item = event.get("item") or {}
    author_id, giver_id = event.get("item_user"), event.get("user")
    channel_id, ts = item.get("channel"), item.get("ts")
    if item.get("type") != "message" or not (author_id and giver_id and channel_id and ts):
        return
    await kudos.reaction_removed(context["uow"], giver_id, author_id, channel_id, ts)


PERSON_SUBTYPES = (None, "thread_broadcast")


async def carries_kudos(body: dict[str, Any], context: AsyncBoltContext) -> bool:
    """A listener matcher: a person's message with mentions and the kudos emoji."""
    event = body.get("event") or {}
    text = event.get("text")
    if not isinstance(text, str) or "<@" not in text and "<!subteam^" not in text:
        return False
    if event.get("subtype") not in PERSON_SUBTYPES or "uow" not in context:
        return False
    return f":{await settings.kudos_emoji(context['uow'])}:" in text


async def kudos_message(event: dict[str, Any], context: AsyncBoltContext) -> None:
    """HeyTaco style: kudos to each person the message mentions, the message as the reason."""
    text, giver_id, channel_id = event.get("text") or "", event.get("user"), event.get("channel")
    if not giver_id or not channel_id:
        return
    parsed = kudos.parse_command(text)
    uow: UnitOfWork = context["uow"]
    reason = kudos.readable(text, await kudos.names_of(uow, list(parsed.receivers)))
    visibility = EVENT_VISIBILITY.get(event.get("channel_type") or "", Visibility.UNKNOWN)
    occasion = Occasion(
        KudosSource.MESSAGE,
        channel_id=channel_id,
        message_ts=event.get("ts"),
        visibility=visibility,
    )
    ask = KudosAsk(
        giver_id=giver_id, receivers=parsed.receivers, reason=reason[: kudos.REASON_MAX],
        occasion=occasion, tags=parsed.tags, groups=parsed.groups,
    )  # fmt: skip
    outcome = await _give(context, ask)
    now = context["deps"].clock.now()
    if outcome.refusal is not None:
        await tell(uow, giver_id, channel_id, ephemeral(views.refusal_text(outcome, now)))
    else:
        await tell(uow, giver_id, channel_id, views.outcome_message(outcome, now))


# ---- Give kudos for this (message shortcut), and from the Home tab -------------------------


async def _open(client: AsyncWebClient, trigger_id: str, view: dict[str, Any]) -> bool:
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except TimeoutError:
        return False  # it may still open
    return True


async def fill_message_form(
    deps: Deps,
    installation: Installation,
    token: str | None,
    external_id: str,
    meta: dict[str, Any],
) -> None:
    """After the ack: the message's permalink and channel kind, then the form."""
    client = with_token(deps.outbox_client, token)
    try:
        permalink, visibility = await asyncio.gather(
            _permalink(client, meta["channel"], meta["ts"]),
            conversation_visibility(client, meta["channel"]),
        )
        meta = {**meta, "permalink": permalink, "visibility": visibility.value}
        uow = UnitOfWork(deps, installation)
        rules = await settings.kudos_settings(uow)
        view = views.message_modal(meta["author"], meta, rules.reason_required, external_id)
    except Exception:
        reference = new_reference()
        log.exception("loading the kudos form failed (reference=%s)", reference)
        view = notice_modal(views.LOADING_FAILED.format(reference=reference), views.TITLE)
    try:
        await client.views_update(view=view, external_id=external_id)
    except SlackApiError as error:
        log.info("the kudos form was not shown: %s", error.response.get("error"))


async def give_for_message(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Message shortcut: a small form (why, tags) for kudos to the message's author."""
    message = body.get("message") or {}
    author = message.get("user")
    channel_id = (body.get("channel") or {}).get("id")
    if not author or message.get("bot_id") or not channel_id or not message.get("ts"):
        await _open(client, body["trigger_id"], notice_modal(views.NOT_A_PERSON, views.TITLE))
        await ack()
        return
    external_id = f"kudos-{secrets.token_hex(8)}"
    await _open(client, body["trigger_id"], views.loading_modal(external_id))
    meta = {"channel": channel_id, "ts": message["ts"], "author": author}
    deps: Deps = context["deps"]
    work = fill_message_form(
        deps, context["uow"].installation, context.client.token, external_id, meta
    )
    deps.after_ack.hand_off(work, what="kudos form")
    await ack()


def _reason_and_tags(values: Any) -> tuple[str, tuple[str, ...]]:
    form = FormValues(values)
    reason = form.text(ids.REASON_BLOCK, ids.FIELD_ACTION)
    tags = kudos.parse_command(form.text(ids.TAGS_BLOCK, ids.FIELD_ACTION)).tags
    return reason, tags


REFUSAL_BLOCK = {
    Refusal.NO_REASON: ids.REASON_BLOCK,
    Refusal.TOO_LONG: ids.REASON_BLOCK,
    Refusal.NO_RECIPIENT: ids.RECEIVERS_BLOCK,
    Refusal.TOO_MANY: ids.RECEIVERS_BLOCK,
    Refusal.ALLOWANCE: ids.RECEIVERS_BLOCK,
}


async def _answer_submission(
    ack: AsyncAck, context: AsyncBoltContext, ask: KudosAsk, block_of_receivers: bool
) -> None:
    outcome = await _give(context, ask)
    now = context["deps"].clock.now()
    if outcome.refusal is not None:
        text = views.refusal_text(outcome, now, len(ask.reason))
        block = REFUSAL_BLOCK[outcome.refusal]
        if block == ids.RECEIVERS_BLOCK and not block_of_receivers:
            block = ids.REASON_BLOCK
        await ack(**field_errors({block: text}))
        return
    await ack(response_action="update", view=views.given_modal(outcome, now))


async def submit_message_kudos(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    try:
        meta = json.loads(view.get("private_metadata") or "")
        channel_id, ts, author = str(meta["channel"]), str(meta["ts"]), str(meta["author"])
        visibility = Visibility(meta.get("visibility") or Visibility.UNKNOWN)
    except (ValueError, KeyError, TypeError):
        await ack(response_action="update", view=notice_modal(views.GONE, views.TITLE))
        return
    reason, tags = _reason_and_tags(view["state"]["values"])
    permalink = meta.get("permalink") if isinstance(meta.get("permalink"), str) else None
    occasion = Occasion(KudosSource.SHORTCUT, channel_id, ts, permalink, visibility)
    ask = KudosAsk(
        giver_id=body["user"]["id"],
        receivers=(author,),
        reason=reason,
        occasion=occasion,
        tags=tags,
    )
    await _answer_submission(ack, context, ask, block_of_receivers=False)


async def home_give_clicked(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    rules = await settings.kudos_settings(context["uow"])
    await _open(client, body["trigger_id"], views.give_modal(rules.reason_required))
    await ack()


async def submit_give(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    values = view["state"]["values"]
    receivers = tuple(FormValues(values).users(ids.RECEIVERS_BLOCK, ids.FIELD_ACTION))
    reason, tags = _reason_and_tags(values)
    ask = KudosAsk(
        giver_id=body["user"]["id"], receivers=receivers, reason=reason,
        occasion=Occasion(KudosSource.COMMAND), tags=tags,
    )  # fmt: skip
    await _answer_submission(ack, context, ask, block_of_receivers=True)


async def home_section(uow: UnitOfWork, viewer: Any, room: int) -> list[Any]:
    """Kudos on the Home tab: received recently, allowance left, Give kudos."""
    home = await kudos.home_kudos(uow, viewer.user_id)
    return views.home_section(home, room, uow.deps.clock.now())
