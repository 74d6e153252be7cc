"""`/doughnut setup`: make a channel a community (or edit it); welcome new members.

Every request is answered within 2.5 s whatever Slack does: the modal opens inline (its
trigger lives 3 s) showing "One moment…", and what fills it (Slack reads, the database, the
`views.update`) runs after the ack (`deps.after_ack`). What the channel is (private, with the
bot or not) is resolved then and travels in the form's `private_metadata`, so the submission
makes no Slack call before its ack.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import Block, FormValues, ephemeral, field_errors, notice_modal
from bot.core import communities
from bot.core.communities import CommunityView, SetupForm, SetupVerdict
from bot.deps import Deps
from bot.failures import new_reference
from bot.installations import with_token
from bot.registry import HomeViewer
from bot.unit_of_work import UnitOfWork
from handlers.communities import ids, views
from handlers.communities.views import ChannelAccess
from storage import deliveries
from storage.db import Database

log = logging.getLogger(__name__)


# ---- Reading Slack's payloads -----------------------------------------------------------------


async def channel_access(client: AsyncWebClient, channel_id: str) -> ChannelAccess:
    """Can the bot post in the channel? Private channels need the bot as a member."""
    try:
        info = (await client.conversations_info(channel=channel_id))["channel"]
    except SlackApiError as error:
        if error.response.get("error") in ("channel_not_found", "not_in_channel"):
            return ChannelAccess(visible=False)
        raise
    is_private = bool(info.get("is_private"))
    member = bool(info.get("is_member"))
    return ChannelAccess(
        visible=member or not is_private, is_private=is_private, bot_is_member=member
    )


def read_setup_form(values: dict[str, Any]) -> SetupForm:
    form = FormValues(values)
    return SetupForm(
        name=form.text(ids.SETUP_NAME_BLOCK, ids.SETUP_NAME_ACTION),
        description=form.text(ids.SETUP_DESCRIPTION_BLOCK, ids.SETUP_DESCRIPTION_ACTION),
        timezone=form.text(ids.SETUP_TIMEZONE_BLOCK, ids.SETUP_TIMEZONE_ACTION),
        coordinators=form.users(ids.SETUP_COORDINATORS_BLOCK, ids.SETUP_COORDINATORS_ACTION),
        reviewers=form.users(ids.SETUP_REVIEWERS_BLOCK, ids.SETUP_REVIEWERS_ACTION),
        sponsors=form.users(ids.SETUP_SPONSORS_BLOCK, ids.SETUP_SPONSORS_ACTION),
    )


def _form_metadata(view: dict[str, Any]) -> tuple[str | None, bool, ChannelAccess | None]:
    """The channel, whether the form edits its community, and what Slack said about it."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        metadata = {}
    if not isinstance(metadata, dict) or "private" not in metadata:
        return None, False, None  # a form from before the channel travelled with it
    access = ChannelAccess(
        visible=True,
        is_private=bool(metadata.get("private")),
        bot_is_member=bool(metadata.get("bot_in")),
    )
    return metadata.get("channel_id"), bool(metadata.get("editing")), access


# ---- After the ack: fill the modal ------------------------------------------------------------


@dataclass(frozen=True)
class FormTarget:
    """The open modal to fill: by the `external_id` it opened with, or by id and hash."""

    external_id: str | None = None
    view_id: str | None = None
    hash: str | None = None


def _new_external_id() -> str:
    return f"setup-{secrets.token_hex(8)}"


async def fill_setup_form(
    uow: UnitOfWork, user_id: str, channel_id: str, target: FormTarget, token: str | None
) -> None:
    """After the ack: read what the form needs, then show it (or what went wrong) in the modal."""
    # The inline client's timeout is for the ack; after it, calls may take the longer one
    # (with the workspace's own token, when installed through OAuth).
    client = with_token(uow.deps.outbox_client, token)
    try:
        view = await _setup_view(client, uow, user_id, channel_id)
        if await _show(client, target, view):
            return
    except Exception:
        reference = new_reference()
        log.exception("loading the setup form failed (reference=%s)", reference)
        modal = notice_modal(views.LOADING_FAILED.format(reference=reference))
        await _show(client, target, modal)


async def _show(client: AsyncWebClient, target: FormTarget, view: dict[str, Any]) -> bool:
    """Update the modal; False when it is not there to update any more."""
    try:
        await client.views_update(
            view=view, external_id=target.external_id, view_id=target.view_id, hash=target.hash
        )
    except SlackApiError as error:
        reason = error.response.get("error")
        if reason not in ("hash_conflict", "not_found"):
            raise
        # The person moved on (picked again, closed it), or the modal never opened.
        log.info("the setup form was not shown: %s", reason)
        return False
    return True


async def _setup_view(
    client: AsyncWebClient, uow: UnitOfWork, user_id: str, channel_id: str
) -> dict[str, Any]:
    user, access = await asyncio.gather(
        client.users_info(user=user_id), channel_access(client, channel_id)
    )
    opening = None
    if access.visible:
        user_tz = user["user"].get("tz")
        opening = await communities.open_setup(uow, user_id, channel_id, user_timezone=user_tz)
    return views.form_or_refusal(channel_id, access, opening)


def _fill_after_ack(
    context: AsyncBoltContext, user_id: str, channel_id: str, target: FormTarget
) -> None:
    uow: UnitOfWork = context["uow"]
    deps: Deps = context["deps"]
    work = fill_setup_form(uow, user_id, channel_id, target, context.client.token)
    deps.after_ack.hand_off(work, what="setup form")


# ---- Listeners --------------------------------------------------------------------------------


async def setup_command(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    args: str = "",
    **_: Any,
) -> None:
    """Open "One moment…" now (the trigger expires in 3 s) and fill it after the ack."""
    if args:
        await ack(**ephemeral(views.NO_WORDS))
        return
    channel_id = body.get("channel_id", "")
    if not channel_id.startswith(("C", "G")):
        await ack(**ephemeral(views.NOT_A_CHANNEL))
        return
    external_id = _new_external_id()
    opened = True
    try:
        await client.views_open(
            trigger_id=body["trigger_id"], view=views.loading_modal(external_id)
        )
    except TimeoutError:
        # Slack did not confirm in time: the modal may still open, and is filled if it does.
        opened = False
    _fill_after_ack(context, body["user_id"], channel_id, FormTarget(external_id=external_id))
    if opened:
        await ack()
    else:
        await ack(**ephemeral(views.SLOW_TO_OPEN))


async def setup_from_home(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
    # Nothing to read yet: the channel comes first, and is checked as soon as it is picked.
    await client.views_open(trigger_id=body["trigger_id"], view=views.pick_channel_modal())
    await ack()


async def channel_picked(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """From Home, a channel was picked: check it now, before the rest of the form is filled."""
    await ack()
    view = body.get("view") or {}
    channel_id = ((body.get("actions") or [{}])[0]).get("selected_conversation")
    if not channel_id or view.get("callback_id") != ids.COMMUNITY_PICK_VIEW:
        return
    # The view's hash: a later pick (or Next) wins over this one.
    target = FormTarget(view_id=view.get("id"), hash=view.get("hash"))
    _fill_after_ack(context, body["user"]["id"], channel_id, target)


async def submit_pick(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    """Next on the channel step (the pick was not dispatched): check it after the ack."""
    values = FormValues(view["state"]["values"])
    channel_id = values.conversation(ids.SETUP_CHANNEL_BLOCK, ids.SETUP_CHANNEL_ACTION)
    if channel_id is None:
        await ack(**field_errors({ids.SETUP_CHANNEL_BLOCK: views.PICK_A_CHANNEL}))
        return
    external_id = _new_external_id()
    await ack(response_action="update", view=views.loading_modal(external_id))
    _fill_after_ack(context, body["user"]["id"], channel_id, FormTarget(external_id=external_id))


async def submit_setup(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    user_id = body["user"]["id"]
    channel_id, editing, access = _form_metadata(view)
    if channel_id is None or access is None:
        await ack(response_action="update", view=notice_modal(views.OUT_OF_DATE))
        return
    form = read_setup_form(view["state"]["values"])
    errors = communities.validate_setup(form)
    if errors:
        await ack(**field_errors({views.FIELD_BLOCKS[f]: m for f, m in errors.items()}))
        return

    uow: UnitOfWork = context["uow"]
    result = await communities.save_setup(
        uow, user_id, channel_id, form, editing=editing, is_private=access.is_private
    )
    if not result.saved:
        await ack(response_action="update", view=views.refusal(result.verdict, result.community))
        return
    if result.verdict is SetupVerdict.CREATE:
        welcome = views.welcome_message(result.community, bot_in_channel=access.bot_is_member)
        await uow.deliver(
            "chat.postMessage", {"channel": channel_id, **welcome}, channel=channel_id
        )
    else:
        saved = views.saved_text(result.community)
        await uow.deliver(
            "chat.postEphemeral",
            {"channel": channel_id, "user": user_id, "text": saved},
            channel=channel_id,
        )
    # The unit of work commits before Slack gets this ack (process_before_response).
    await ack()


async def setup_closed(ack: AsyncAck) -> None:
    # Closing the form stores nothing.
    await ack()


async def member_joined(event: dict[str, Any], context: AsyncBoltContext) -> None:
    user_id = event.get("user", "")
    if not user_id:
        return
    uow: UnitOfWork = context["uow"]
    if user_id == context.bot_user_id:
        # Invited back: a community paused because the bot was removed resumes.
        resumed = await communities.resume(uow, event.get("channel", ""), communities.REMOVED)
        if resumed is not None:
            await _tell_coordinators(uow, resumed, views.resumed_dm(resumed))
        return
    community = await communities.welcome_member(uow, event["channel"])
    if community is None:
        return
    welcome = views.member_welcome(community)
    await uow.deliver("chat.postMessage", {"channel": user_id, **welcome}, channel=user_id)


async def home_section(uow: UnitOfWork, viewer: HomeViewer, room: int) -> list[Block]:
    """Communities' part of the Home tab."""
    home = await communities.home_for(uow, viewer.user_id, viewer.member_of)
    # The paused communities the viewer coordinates come first: they need them.
    paused = views.paused_section(await communities.paused_for(uow, viewer.user_id), room // 2)
    return [*paused, *views.home_section(home, room - len(paused))]


# ---- Paused communities: archived channel, bot removed (and back) ----------------------------


async def _tell_coordinators(uow: UnitOfWork, community: CommunityView, dm: dict[str, Any]) -> None:
    for coordinator in community.coordinators:
        await uow.deliver("chat.postMessage", {"channel": coordinator, **dm}, channel=coordinator)


async def _pause(uow: UnitOfWork, channel_id: str, reason: str) -> None:
    paused = await communities.pause(uow, channel_id, reason)
    if paused is not None:  # told once: a second archive or removal finds it paused
        log.info("community %s paused: %s", paused.id, reason)
        await _tell_coordinators(uow, paused, views.paused_dm(paused))


async def channel_archived(event: dict[str, Any], context: AsyncBoltContext) -> None:
    await _pause(context["uow"], event.get("channel", ""), communities.ARCHIVED)


async def channel_unarchived(event: dict[str, Any], context: AsyncBoltContext) -> None:
    uow: UnitOfWork = context["uow"]
    resumed = await communities.resume(uow, event.get("channel", ""), communities.ARCHIVED)
    if resumed is not None:
        await _tell_coordinators(uow, resumed, views.resumed_dm(resumed))


async def member_left(event: dict[str, Any], context: AsyncBoltContext) -> None:
    """The bot was removed: it could still post to a public channel (chat:write.public), but
    nobody there wants it, so the community's scheduled posts stop."""
    if event.get("user") != context.bot_user_id:
        return
    await _pause(context["uow"], event.get("channel", ""), communities.REMOVED)


class ArchiveWatch:
    """The scheduler's look at bounced posts: a community whose channel Slack says is archived
    (a post failed with `is_archived`) pauses, as if `channel_archive` had come."""

    LOOK_BACK = timedelta(days=7)

    def __init__(self) -> None:
        self.after_id = 0  # this process has looked at the failures up to here

    async def __call__(self, db: Database, now: datetime) -> int:
        async with db.transaction() as session:
            bounced = await communities.bounced_off_archives(
                session, self.after_id, now - self.LOOK_BACK
            )
            paused = 0
            for bounce in bounced:
                community = await communities.pause_in(
                    session, bounce.workspace_id, bounce.channel_id, communities.ARCHIVED, now
                )
                if community is None:
                    continue  # paused already (two bounces, or the event came too)
                paused += 1
                log.info("community %s paused: a post bounced (is_archived)", community.id)
                for coordinator in community.coordinators:
                    await deliveries.enqueue(
                        session, workspace_id=bounce.workspace_id, method="chat.postMessage",
                        payload={"channel": coordinator, **views.paused_dm(community)},
                        channel=coordinator, now=now,
                    )  # fmt: skip
        if bounced:
            self.after_id = bounced[-1].delivery_id
        return paused
