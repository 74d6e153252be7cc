"""`/doughnut settings`: the workspace's idea reaction and kudos rules (emoji, daily allowance,
whether a reason is needed), changed by its admins and owners only; in a community's channel,
its coordinators get the community's settings (`handlers/digests`), and someone who is both
picks which.

The modal opens inline (its trigger lives 3 s) and is filled after the ack, when Slack says
(users.info) whether the person is an admin or owner. The submission asks again, inline and
bounded by the inline client's timeout: a verdict carried in `private_metadata` could be
forged, and nothing cached here knows who is an admin.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import FormValues, ephemeral, field_errors, notice_modal
from bot.core import digests, permissions, settings
from bot.core.settings import Admin, KudosSettings, SettingsForm
from bot.deps import Deps
from bot.failures import new_reference
from bot.installations import with_token
from bot.unit_of_work import UnitOfWork
from handlers.digests import ids as digest_ids
from handlers.digests import views as digest_views
from handlers.settings import ids, views

log = logging.getLogger(__name__)

SUBMIT_CHECK_TIMEOUT = 1.5  # seconds for users.info before the submission's ack


async def admin(client: AsyncWebClient, user_id: str) -> Admin:
    user = (await client.users_info(user=user_id))["user"]
    return Admin(user_id, may_change=permissions.may_change_settings(user))


async def _workspace_view(uow: UnitOfWork, who: Admin) -> dict[str, Any]:
    reaction = await settings.idea_reaction(uow)
    kudos = await settings.kudos_settings(uow)
    if who.may_change:
        return views.settings_form(reaction, kudos)
    return views.read_only(reaction, kudos)


async def fill_settings(
    uow: UnitOfWork,
    user_id: str,
    external_id: str,
    token: str | None,
    channel_id: str | None = None,
) -> None:
    """After the ack: a community's coordinator gets its settings, an admin or owner the
    workspace's (both: a choice), anyone else the read-only notice."""
    client = with_token(uow.deps.outbox_client, token)
    try:
        community = (
            await digests.community_settings(uow, user_id, channel_id) if channel_id else None
        )
        try:
            who = await admin(client, user_id)
        except (TimeoutError, SlackApiError):
            if community is None:
                raise
            who = Admin(user_id, may_change=False)  # the community's form needs no admin
        if community is not None and who.may_change:
            view = digest_views.choose_settings(community.channel_id)
        elif community is not None:
            view = digest_views.settings_form(community)
        else:
            view = await _workspace_view(uow, who)
    except Exception:
        reference = new_reference()
        log.exception("loading the settings failed (reference=%s)", reference)
        view = notice_modal(views.LOADING_FAILED.format(reference=reference), views.TITLE)
    try:
        await client.views_update(view=view, external_id=external_id)
    except SlackApiError as error:
        # The person closed it, or it never opened.
        log.info("the settings were not shown: %s", error.response.get("error"))


async def settings_command(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    args: str = "",
    **_: Any,
) -> None:
    if args:
        await ack(**ephemeral(views.NO_WORDS))
        return
    external_id = f"settings-{secrets.token_hex(8)}"
    # On a timeout the modal may still open; it is filled if it does.
    with contextlib.suppress(TimeoutError):
        await client.views_open(
            trigger_id=body["trigger_id"], view=views.loading_modal(external_id)
        )
    deps: Deps = context["deps"]
    work = fill_settings(
        context["uow"], body["user_id"], external_id, context.client.token,
        body.get("channel_id") or None,
    )  # fmt: skip
    deps.after_ack.hand_off(work, what="settings form")
    await ack()


async def _show_chosen(
    uow: UnitOfWork, user_id: str, view_id: str, token: str | None, channel_id: str | None
) -> None:
    """After the ack: the settings picked on the choice (each checked again, as on opening)."""
    client = with_token(uow.deps.outbox_client, token)
    try:
        if channel_id is not None:
            community = await digests.community_settings(uow, user_id, channel_id)
            view = (
                digest_views.settings_form(community)
                if community is not None
                else digest_views.refused()
            )
        else:
            view = await _workspace_view(uow, await admin(client, user_id))
    except Exception:
        reference = new_reference()
        log.exception("loading the settings failed (reference=%s)", reference)
        view = notice_modal(views.LOADING_FAILED.format(reference=reference), views.TITLE)
    try:
        await client.views_update(view=view, view_id=view_id)
    except SlackApiError as error:
        log.info("the settings were not shown: %s", error.response.get("error"))


async def chosen(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """A coordinator who is also an admin picked the community's or the workspace's settings."""
    await ack()
    action = (body.get("actions") or [{}])[0]
    view_id = (body.get("view") or {}).get("id")
    if not view_id:
        return
    community = action.get("action_id") == digest_ids.CHOOSE_COMMUNITY_ACTION
    channel_id = action.get("value") if community else None
    deps: Deps = context["deps"]
    work = _show_chosen(
        context["uow"], body["user"]["id"], view_id, context.client.token, channel_id
    )
    deps.after_ack.hand_off(work, what="settings form")


FIELD_BLOCKS = {
    "idea_reaction": ids.IDEA_REACTION_BLOCK,
    "kudos_emoji": ids.KUDOS_EMOJI_BLOCK,
    "kudos_allowance": ids.KUDOS_ALLOWANCE_BLOCK,
}


def read_form(values: Any, idea: str, kudos: KudosSettings) -> SettingsForm:
    """The submitted form; a field the form did not carry keeps its current value."""
    form = FormValues(values)
    present = values if isinstance(values, dict) else {}

    def text(block: str, current: str) -> str:
        return form.text(block, ids.FIELD_ACTION) if block in present else current

    reason = form.option(ids.KUDOS_REASON_BLOCK, ids.FIELD_ACTION)
    return SettingsForm(
        idea_reaction=text(ids.IDEA_REACTION_BLOCK, idea),
        kudos_emoji=text(ids.KUDOS_EMOJI_BLOCK, kudos.emoji),
        kudos_allowance=text(ids.KUDOS_ALLOWANCE_BLOCK, str(kudos.allowance)),
        reason_required=kudos.reason_required if reason is None else reason == ids.REASON_REQUIRED,
    )


async def submit_settings(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    user_id = body["user"]["id"]
    values = ((body.get("view") or {}).get("state") or {}).get("values")
    uow: UnitOfWork = context["uow"]
    form = read_form(values, await settings.idea_reaction(uow), await settings.kudos_settings(uow))
    errors = settings.check_form(form)
    if errors:
        await ack(**field_errors({FIELD_BLOCKS[f]: m for f, m in errors.items()}))
        return
    try:
        # Bounded below the inline client's timeout: the write and commit still fit in 2.5 s.
        async with asyncio.timeout(SUBMIT_CHECK_TIMEOUT):
            who = await admin(client, user_id)
    except (TimeoutError, SlackApiError) as error:
        log.info("could not check a settings change: %r", error)
        await ack(**field_errors({ids.IDEA_REACTION_BLOCK: views.CHECK_FAILED}))
        return
    if not who.may_change:
        idea, kudos = await settings.idea_reaction(uow), await settings.kudos_settings(uow)
        await ack(response_action="update", view=views.read_only(idea, kudos))
        return
    errors = await settings.save_settings(uow, form, who)
    if errors:
        await ack(**field_errors({FIELD_BLOCKS[f]: m for f, m in errors.items()}))
        return
    saved = KudosSettings(
        emoji=settings.normalize_emoji(form.kudos_emoji) or "",
        allowance=settings.read_allowance(form.kudos_allowance) or 0,
        reason_required=form.reason_required,
    )
    await ack(
        response_action="update",
        view=views.saved(settings.normalize_emoji(form.idea_reaction) or "", saved),
    )
