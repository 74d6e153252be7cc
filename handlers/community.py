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
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.blocks import Block, context, ephemeral, lead_message, plain, section
from bot.communities import (
    SetupField,
    SetupForm,
    SetupVerdict,
    apply_setup,
    setup_verdict,
    validate_setup,
)
from bot.deps import Deps
from bot.failures import new_reference
from bot.installations import with_token
from bot.text import channel_link, escape, mention
from bot.timezones import is_known_timezone
from bot.unit_of_work import UnitOfWork
from storage.communities import community_in_channel
from storage.models import Community, RoleName
from storage.workspaces import find_workspace

log = logging.getLogger(__name__)

FIELD_BLOCKS = {
    SetupField.NAME: ids.SETUP_NAME_BLOCK,
    SetupField.DESCRIPTION: ids.SETUP_DESCRIPTION_BLOCK,
    SetupField.TIMEZONE: ids.SETUP_TIMEZONE_BLOCK,
    SetupField.COORDINATORS: ids.SETUP_COORDINATORS_BLOCK,
}
INVITE_FIRST = (
    "I can't see {channel} yet: it is private and I'm not in it. "
    "Invite me with `/invite @Doughnut` in that channel, then run `/doughnut setup` again."
)
COORDINATORS_ONLY = (
    "{channel} is already the *{name}* community, and only its coordinators ({coordinators}) "
    "can change it. Ask one of them, or start a community in another channel."
)
NOT_A_CHANNEL = "Run `/doughnut setup` in the channel you want to make a community."
NO_WORDS = (
    "`/doughnut setup` takes no words after it: run it on its own in the channel you want "
    "to make a community (or to edit its community)."
)
ALREADY_A_COMMUNITY = (
    "{channel} is already the *{name}* community: run `/doughnut setup` there to edit it."
)
LOADING_FAILED = (
    ":warning: Sorry, I couldn't load this form and nothing was saved. Close it and try "
    "again; if it keeps happening, tell your Slack admin (reference `{reference}`)."
)
SLOW_TO_OPEN = (
    ":hourglass_flowing_sand: Slack is slow right now: the setup form may take a moment to "
    "appear. If it doesn't, run `/doughnut setup` again."
)
OUT_OF_DATE = "This form is out of date and nothing was saved. Run `/doughnut setup` again."
# Field errors are plain text in Slack: no mrkdwn, no escaping, no links.
PICK_A_CHANNEL = "Pick the channel the community lives in."


# ---- Block Kit (pure) -------------------------------------------------------------------------


def notice_modal(
    text: str, title: str = "Doughnut", *, external_id: str | None = None
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "title": plain(title),
        "close": plain("Close"),
        "blocks": [section(text)],
    }
    if external_id:
        view["external_id"] = external_id
    return view


def loading_modal(external_id: str) -> dict[str, Any]:
    """What opens at once; the work after the ack finds it again by its `external_id`."""
    return notice_modal(":hourglass_flowing_sand: One moment…", external_id=external_id)


def pick_channel_modal() -> dict[str, Any]:
    """From Home, the channel first: on picking it, the bot checks it before asking the rest."""
    return {
        "type": "modal",
        "callback_id": ids.COMMUNITY_PICK_VIEW,
        "title": plain("Set up a community"),
        "submit": plain("Next"),
        "close": plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": ids.SETUP_CHANNEL_BLOCK,
                "dispatch_action": True,
                "label": plain("Channel"),
                "element": {
                    "type": "conversations_select",
                    "action_id": ids.SETUP_CHANNEL_ACTION,
                    "filter": {
                        "include": ["public", "private"],
                        "exclude_bot_users": True,
                        "exclude_external_shared_channels": True,
                    },
                },
                "hint": plain("The community's home channel. I'll check it, then ask the rest."),
            }
        ],
    }


def _text_input(
    block_id: str,
    action_id: str,
    label: str,
    value: str,
    *,
    multiline: bool = False,
    optional: bool = False,
    max_length: int | None = None,
    hint: str | None = None,
) -> Block:
    element: Block = {"type": "plain_text_input", "action_id": action_id, "multiline": multiline}
    if value:
        element["initial_value"] = value
    if max_length:
        element["max_length"] = max_length
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint)
    return block


def _users_input(
    block_id: str, action_id: str, label: str, users: list[str], *, optional: bool, hint: str
) -> Block:
    element: Block = {"type": "multi_users_select", "action_id": action_id}
    if users:
        element["initial_users"] = users
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": element,
        "optional": optional,
        "hint": plain(hint),
    }


@dataclass(frozen=True)
class ChannelAccess:
    visible: bool
    is_private: bool = False
    bot_is_member: bool = False


def setup_modal(
    channel_id: str, form: SetupForm, *, editing: bool, access: ChannelAccess
) -> dict[str, Any]:
    """The setup form for one channel, with what Slack said about the channel in its metadata."""
    metadata = {
        "channel_id": channel_id,
        "editing": editing,
        "private": access.is_private,
        "bot_in": access.bot_is_member,
    }
    blocks: list[Block] = [
        context(f"Community channel: {channel_link(channel_id)}"),
        _text_input(
            ids.SETUP_NAME_BLOCK,
            ids.SETUP_NAME_ACTION,
            "Community name",
            form.name,
            max_length=80,
        ),
        _text_input(
            ids.SETUP_DESCRIPTION_BLOCK,
            ids.SETUP_DESCRIPTION_ACTION,
            "What is its domain?",
            form.description,
            multiline=True,
            optional=True,
            max_length=1000,
            hint="The craft the members share, e.g. “Running production services reliably”.",
        ),
        _text_input(
            ids.SETUP_TIMEZONE_BLOCK,
            ids.SETUP_TIMEZONE_ACTION,
            "Timezone",
            form.timezone,
            hint="For digests and prompts: a name like Europe/Paris or America/New_York.",
        ),
        _users_input(
            ids.SETUP_COORDINATORS_BLOCK,
            ids.SETUP_COORDINATORS_ACTION,
            "Coordinators",
            form.coordinators,
            optional=False,
            hint="They keep the community running and can edit these settings.",
        ),
        _users_input(
            ids.SETUP_REVIEWERS_BLOCK,
            ids.SETUP_REVIEWERS_ACTION,
            "Reviewers (master practitioners)",
            form.reviewers,
            optional=True,
            hint="They validate lessons into practices.",
        ),
        _users_input(
            ids.SETUP_SPONSORS_BLOCK,
            ids.SETUP_SPONSORS_ACTION,
            "Sponsors",
            form.sponsors,
            optional=True,
            hint="Executives who receive the community's insights and proposals.",
        ),
    ]
    return {
        "type": "modal",
        "callback_id": ids.COMMUNITY_SETUP_VIEW,
        "notify_on_close": True,
        "title": plain("Edit community" if editing else "Set up a community"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


def _people(user_ids: list[str]) -> str:
    return ", ".join(mention(u) for u in user_ids) or "_none yet_"


def welcome_message(community: Community, *, bot_in_channel: bool) -> dict[str, Any]:
    """The post that opens a community in its channel."""
    blocks: list[Block] = []
    if community.description:
        blocks.append(section(f">{escape(community.description)}"))
    blocks += [
        {
            "type": "section",
            "fields": [
                {
                    "type": "mrkdwn",
                    "text": f"*Coordinators*\n{_people(community.holders(RoleName.COORDINATOR))}",
                },
                {
                    "type": "mrkdwn",
                    "text": f"*Reviewers*\n{_people(community.holders(RoleName.REVIEWER))}",
                },
                {
                    "type": "mrkdwn",
                    "text": f"*Sponsors*\n{_people(community.holders(RoleName.SPONSOR))}",
                },
                {"type": "mrkdwn", "text": f"*Timezone*\n{escape(community.timezone)}"},
            ],
        },
        context(
            "Share what you learn, ask those who've done it before, thank each other. "
            "Type `/doughnut help` to see how."
        ),
    ]
    if not bot_in_channel:
        blocks.append(context("Tip: `/invite @Doughnut` here so I can hear kudos and questions."))
    lead = f":doughnut: *{escape(community.name)}* is now a community of practice."
    return lead_message(lead, blocks)


def member_welcome(community: Community) -> dict[str, Any]:
    """The DM a new member of a community channel receives."""
    lead = (
        f":wave: Welcome to *{escape(community.name)}* in {channel_link(community.channel_id)}! "
        "It's a community of practice: members share lessons, help each other and say thanks. "
        "Type `/doughnut help` to see what you can do."
    )
    return lead_message(lead, [])


def _coordinators_only(community: Community) -> str:
    return COORDINATORS_ONLY.format(
        channel=channel_link(community.channel_id),
        name=escape(community.name),
        coordinators=_people(community.holders(RoleName.COORDINATOR)),
    )


def form_or_refusal(
    channel_id: str,
    access: ChannelAccess,
    existing: Community | None,
    user_id: str,
    user_tz: str,
) -> dict[str, Any]:
    """The form, prefilled, or the reason this person can't use it for this channel."""
    if not access.visible:
        return notice_modal(INVITE_FIRST.format(channel=channel_link(channel_id)))
    verdict = setup_verdict(existing, user_id, editing=existing is not None)
    if existing is not None and verdict is SetupVerdict.COORDINATORS_ONLY:
        return notice_modal(_coordinators_only(existing))
    if existing is not None and verdict is SetupVerdict.EDIT:
        return setup_modal(channel_id, form_of(existing), editing=True, access=access)
    form = SetupForm(name="", description="", timezone=user_tz, coordinators=[user_id])
    return setup_modal(channel_id, form, editing=False, access=access)


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


def read_setup_form(values: dict[str, dict[str, dict[str, Any]]]) -> SetupForm:
    def text(block: str, action: str) -> str:
        return (values.get(block, {}).get(action, {}).get("value") or "").strip()

    def users(block: str, action: str) -> list[str]:
        return list(values.get(block, {}).get(action, {}).get("selected_users") or [])

    return SetupForm(
        name=text(ids.SETUP_NAME_BLOCK, ids.SETUP_NAME_ACTION),
        description=text(ids.SETUP_DESCRIPTION_BLOCK, ids.SETUP_DESCRIPTION_ACTION),
        timezone=text(ids.SETUP_TIMEZONE_BLOCK, ids.SETUP_TIMEZONE_ACTION),
        coordinators=users(ids.SETUP_COORDINATORS_BLOCK, ids.SETUP_COORDINATORS_ACTION),
        reviewers=users(ids.SETUP_REVIEWERS_BLOCK, ids.SETUP_REVIEWERS_ACTION),
        sponsors=users(ids.SETUP_SPONSORS_BLOCK, ids.SETUP_SPONSORS_ACTION),
    )


def form_of(community: Community) -> SetupForm:
    return SetupForm(
        name=community.name,
        description=community.description,
        timezone=community.timezone,
        coordinators=community.holders(RoleName.COORDINATOR),
        reviewers=community.holders(RoleName.REVIEWER),
        sponsors=community.holders(RoleName.SPONSOR),
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


def _picked_channel(values: dict[str, Any]) -> str | None:
    picked = values.get(ids.SETUP_CHANNEL_BLOCK, {}).get(ids.SETUP_CHANNEL_ACTION, {})
    channel_id = picked.get("selected_conversation")
    return channel_id if isinstance(channel_id, str) and channel_id else None


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
    deps: Deps, install_key: str, user_id: str, channel_id: str, target: FormTarget,
    token: str | None = None,
) -> None:  # fmt: skip
    """After the ack: read what the form needs, then show it (or what went wrong) in the modal."""
    # The inline client's timeout is for the ack; after it, calls may take the longer one
    # (with the workspace's own token, when installed through OAuth).
    client = with_token(deps.outbox_client, token)
    try:
        view = await _setup_view(client, deps, install_key, user_id, channel_id)
        if await _show(client, target, view):
            return
    except Exception:
        reference = new_reference()
        log.exception("loading the setup form failed (reference=%s)", reference)
        await _show(client, target, notice_modal(LOADING_FAILED.format(reference=reference)))


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
    client: AsyncWebClient, deps: Deps, install_key: str, user_id: str, channel_id: str
) -> dict[str, Any]:
    user, access = await asyncio.gather(
        client.users_info(user=user_id), channel_access(client, channel_id)
    )
    user_tz = user["user"].get("tz")
    if not is_known_timezone(user_tz):
        user_tz = deps.settings.doughnut_timezone
    existing = None
    async with deps.db.reading() as session:
        workspace = await find_workspace(session, install_key)
        if workspace is not None:
            existing = await community_in_channel(session, workspace.id, channel_id)
    return form_or_refusal(channel_id, access, existing, user_id, user_tz)


async def open_setup_form(
    client: AsyncWebClient, deps: Deps, install_key: str, trigger_id: str, user_id: str,
    channel_id: str,
) -> bool:  # fmt: skip
    """Open "One moment…" now (the trigger expires in 3 s) and fill it after the ack.

    False when Slack did not confirm the modal within the inline timeout: it may still open,
    and is filled if it does.
    """
    external_id = _new_external_id()
    opened = True
    try:
        await client.views_open(trigger_id=trigger_id, view=loading_modal(external_id))
    except TimeoutError:
        opened = False
    target = FormTarget(external_id=external_id)
    work = fill_setup_form(deps, install_key, user_id, channel_id, target, client.token)
    deps.after_ack.hand_off(work, what="setup form")
    return opened


# ---- Listeners --------------------------------------------------------------------------------


async def setup_command(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    args: str = "",
    **_: Any,
) -> None:
    if args:
        await ack(**ephemeral(NO_WORDS))
        return
    channel_id = body.get("channel_id", "")
    if not channel_id.startswith(("C", "G")):
        await ack(**ephemeral(NOT_A_CHANNEL))
        return
    uow: UnitOfWork = context["uow"]
    opened = await open_setup_form(
        client, context["deps"], uow.install_key, body["trigger_id"], body["user_id"], channel_id
    )
    if opened:
        await ack()
    else:
        await ack(**ephemeral(SLOW_TO_OPEN))


async def setup_from_home(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
    # Nothing to read yet: the channel comes first, and is checked as soon as it is picked.
    await client.views_open(trigger_id=body["trigger_id"], view=pick_channel_modal())
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
    uow: UnitOfWork = context["uow"]
    deps: Deps = context["deps"]
    work = fill_setup_form(deps, uow.install_key, body["user"]["id"], channel_id, target)
    deps.after_ack.hand_off(work, what="setup form")


async def submit_pick(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    """Next on the channel step (the pick was not dispatched): check it after the ack."""
    channel_id = _picked_channel(view["state"]["values"])
    if channel_id is None:
        await ack(response_action="errors", errors={ids.SETUP_CHANNEL_BLOCK: PICK_A_CHANNEL})
        return
    external_id = _new_external_id()
    uow: UnitOfWork = context["uow"]
    deps: Deps = context["deps"]
    target = FormTarget(external_id=external_id)
    work = fill_setup_form(deps, uow.install_key, body["user"]["id"], channel_id, target)
    await ack(response_action="update", view=loading_modal(external_id))
    deps.after_ack.hand_off(work, what="setup form")


async def submit_setup(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    user_id = body["user"]["id"]
    channel_id, editing, access = _form_metadata(view)
    if channel_id is None or access is None:
        await ack(response_action="update", view=notice_modal(OUT_OF_DATE))
        return
    form = read_setup_form(view["state"]["values"])
    errors = {FIELD_BLOCKS[f]: message for f, message in validate_setup(form).items()}
    if errors:
        await ack(response_action="errors", errors=errors)
        return

    uow: UnitOfWork = context["uow"]
    deps: Deps = context["deps"]
    workspace = await uow.workspace()
    session = await uow.session()
    existing = await community_in_channel(session, workspace.id, channel_id)
    verdict = setup_verdict(existing, user_id, editing=editing)
    if existing is not None and verdict is SetupVerdict.COORDINATORS_ONLY:
        await ack(response_action="update", view=notice_modal(_coordinators_only(existing)))
        return
    if existing is not None and verdict is SetupVerdict.ALREADY_A_COMMUNITY:
        already = ALREADY_A_COMMUNITY.format(
            channel=channel_link(channel_id), name=escape(existing.name)
        )
        await ack(response_action="update", view=notice_modal(already))
        return
    community = apply_setup(
        session,
        existing,
        workspace_id=workspace.id,
        channel_id=channel_id,
        is_private=access.is_private,
        form=form,
        by_user=user_id,
        now=deps.clock.now(),
    )
    await session.flush()
    if existing is None:
        welcome = welcome_message(community, bot_in_channel=access.bot_is_member)
        await uow.deliver(
            "chat.postMessage", {"channel": channel_id, **welcome}, channel=channel_id
        )
    else:
        saved = f"Saved. *{escape(community.name)}* is up to date."
        await uow.deliver(
            "chat.postEphemeral",
            {"channel": channel_id, "user": user_id, "text": saved},
            channel=channel_id,
        )
    await uow.commit()
    await ack()


async def setup_closed(ack: AsyncAck) -> None:
    # Closing the form stores nothing.
    await ack()


async def member_joined(event: dict[str, Any], context: AsyncBoltContext) -> None:
    user_id = event.get("user", "")
    if not user_id or user_id == context.bot_user_id:
        return
    uow: UnitOfWork = context["uow"]
    workspace = await uow.workspace()
    community = await community_in_channel(await uow.session(), workspace.id, event["channel"])
    if community is None:
        return
    await uow.deliver(
        "chat.postMessage", {"channel": user_id, **member_welcome(community)}, channel=user_id
    )


def register(app: AsyncApp, deps: Deps, subcommands: Any) -> None:
    subcommands.add("setup", setup_command)
    app.action(ids.HOME_SETUP_ACTION)(setup_from_home)
    app.action({"block_id": ids.SETUP_CHANNEL_BLOCK, "action_id": ids.SETUP_CHANNEL_ACTION})(
        channel_picked
    )
    app.view_submission(ids.COMMUNITY_PICK_VIEW)(submit_pick)
    app.view_submission(ids.COMMUNITY_SETUP_VIEW)(submit_setup)
    app.view_closed(ids.COMMUNITY_SETUP_VIEW)(setup_closed)
    app.event("member_joined_channel")(member_joined)
