"""`/doughnut setup`: make a channel a community (or edit it); welcome new members."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.blocks import Block, context, ephemeral, message, plain, section
from bot.communities import (
    SetupField,
    SetupForm,
    SetupVerdict,
    apply_setup,
    setup_verdict,
    validate_setup,
)
from bot.deps import Deps
from bot.text import channel_link, escape, mention
from bot.unit_of_work import UnitOfWork
from storage.communities import community_in_channel
from storage.models import Community, RoleName

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
ALREADY_A_COMMUNITY = (
    "{channel} is already the {name} community: run `/doughnut setup` there to edit it."
)
LOADING_FAILED = (
    ":warning: Sorry, I couldn't load this form and nothing was saved. Close it and try again."
)


# ---- Block Kit (pure) -------------------------------------------------------------------------


def notice_modal(text: str, title: str = "Doughnut") -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain(title),
        "close": plain("Close"),
        "blocks": [section(text)],
    }


def loading_modal() -> dict[str, Any]:
    return notice_modal(":hourglass_flowing_sand: One moment…")


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


def setup_modal(channel_id: str | None, form: SetupForm, *, editing: bool) -> dict[str, Any]:
    """The setup form; without a channel (opened from Home) it asks for one."""
    blocks: list[Block] = []
    if channel_id is None:
        blocks.append(
            {
                "type": "input",
                "block_id": ids.SETUP_CHANNEL_BLOCK,
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
                "hint": plain("The community's home channel."),
            }
        )
    else:
        blocks.append(context(f"Community channel: {channel_link(channel_id)}"))
    blocks += [
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
        "private_metadata": json.dumps({"channel_id": channel_id, "editing": editing}),
        "blocks": blocks,
    }


def _people(user_ids: list[str]) -> str:
    return ", ".join(mention(u) for u in user_ids) or "_none yet_"


def welcome_message(community: Community, *, bot_in_channel: bool) -> dict[str, Any]:
    """The post that opens a community in its channel."""
    name = escape(community.name)
    blocks: list[Block] = [
        section(
            f":doughnut: *{name}* is now a community of practice.\n"
            + (f">{escape(community.description)}" if community.description else "")
        ),
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
    return message(f"{community.name} is now a community of practice.", blocks)


def member_welcome(community: Community) -> dict[str, Any]:
    """The DM a new member of a community channel receives."""
    name = escape(community.name)
    text = (
        f":wave: Welcome to *{name}* in {channel_link(community.channel_id)}! "
        "It's a community of practice: members share lessons, help each other and say thanks. "
        "Type `/doughnut help` to see what you can do."
    )
    return message(f"Welcome to {community.name}!", [section(text)])


# ---- Reading Slack's payloads -----------------------------------------------------------------


@dataclass(frozen=True)
class ChannelAccess:
    visible: bool
    is_private: bool = False
    bot_is_member: bool = False


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


# ---- Listeners --------------------------------------------------------------------------------


async def open_setup_form(
    client: AsyncWebClient,
    uow: UnitOfWork,
    deps: Deps,
    trigger_id: str,
    user_id: str,
    channel_id: str | None,
) -> None:
    """Open a modal at once (the trigger expires in 3 s), then fill it in with what we know."""
    opened = await client.views_open(trigger_id=trigger_id, view=loading_modal())
    view_id = opened["view"]["id"]
    try:
        view = await _setup_view(client, uow, deps, user_id, channel_id)
    except Exception:
        # Don't leave the person looking at "One moment…"; the error handler logs and replies.
        await client.views_update(view_id=view_id, view=notice_modal(LOADING_FAILED))
        raise
    await client.views_update(view_id=view_id, view=view)


async def _setup_view(
    client: AsyncWebClient, uow: UnitOfWork, deps: Deps, user_id: str, channel_id: str | None
) -> dict[str, Any]:
    """The form, prefilled, or the reason this person can't use it here."""
    user_task = client.users_info(user=user_id)
    access_task = channel_access(client, channel_id) if channel_id else _no_channel()
    user, access = await asyncio.gather(user_task, access_task)
    user_tz = user["user"].get("tz") or deps.settings.doughnut_timezone

    existing = None
    if channel_id is not None:
        async with uow.reading() as (session, workspace):
            if workspace is not None:
                existing = await community_in_channel(session, workspace.id, channel_id)
    return _form_or_refusal(channel_id, access, existing, user_id, user_tz)


async def _no_channel() -> ChannelAccess:
    return ChannelAccess(visible=True)


def _form_or_refusal(
    channel_id: str | None,
    access: ChannelAccess,
    existing: Community | None,
    user_id: str,
    user_tz: str,
) -> dict[str, Any]:
    if channel_id is not None and not access.visible:
        return notice_modal(INVITE_FIRST.format(channel=channel_link(channel_id)))
    verdict = setup_verdict(existing, user_id, editing=existing is not None)
    if existing is not None and verdict is SetupVerdict.COORDINATORS_ONLY:
        return notice_modal(_coordinators_only(existing))
    if existing is not None and verdict is SetupVerdict.EDIT:
        return setup_modal(channel_id, form_of(existing), editing=True)
    form = SetupForm(name="", description="", timezone=user_tz, coordinators=[user_id])
    return setup_modal(channel_id, form, editing=False)


def _coordinators_only(community: Community) -> str:
    return COORDINATORS_ONLY.format(
        channel=channel_link(community.channel_id),
        name=escape(community.name),
        coordinators=_people(community.holders(RoleName.COORDINATOR)),
    )


async def setup_command(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext, **_: Any
) -> None:
    channel_id = body.get("channel_id", "")
    if not channel_id.startswith(("C", "G")):
        await ack(**ephemeral(NOT_A_CHANNEL))
        return
    await open_setup_form(
        client, context["uow"], context["deps"], body["trigger_id"], body["user_id"], channel_id
    )
    await ack()


async def setup_from_home(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await open_setup_form(
        client, context["uow"], context["deps"], body["trigger_id"], body["user"]["id"], None
    )
    await ack()


async def submit_setup(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    user_id = body["user"]["id"]
    values = view["state"]["values"]
    metadata = json.loads(view.get("private_metadata") or "{}")
    channel_id, editing = metadata.get("channel_id"), bool(metadata.get("editing"))
    picked = channel_id is None  # opened from the Home tab, the channel chosen in the form
    if picked:
        channel_id = (
            values.get(ids.SETUP_CHANNEL_BLOCK, {}).get(ids.SETUP_CHANNEL_ACTION, {})
        ).get("selected_conversation")
    form = read_setup_form(values)
    errors = {FIELD_BLOCKS[f]: message for f, message in validate_setup(form).items()}
    if not channel_id:
        errors[ids.SETUP_CHANNEL_BLOCK] = "Pick the channel the community lives in."
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    access = await channel_access(client, channel_id)
    if not access.visible:
        notice = notice_modal(INVITE_FIRST.format(channel=channel_link(channel_id)))
        await ack(response_action="update", view=notice)
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
        if picked:
            await ack(response_action="errors", errors={ids.SETUP_CHANNEL_BLOCK: already})
        else:
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
    app.view_submission(ids.COMMUNITY_SETUP_VIEW)(submit_setup)
    app.view_closed(ids.COMMUNITY_SETUP_VIEW)(setup_closed)
    app.event("member_joined_channel")(member_joined)
