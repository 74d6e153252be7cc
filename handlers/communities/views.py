"""Communities' Block Kit: pure builders, frozen dataclasses in, dicts out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.blocks import (
    Block,
    channel_input,
    context,
    divider,
    lead_message,
    notice_modal,
    plain,
    section,
    text_input,
    truncated,
    users_input,
)
from bot.core import communities
from bot.core.communities import (
    CommunityView,
    HomeCommunities,
    SetupField,
    SetupForm,
    SetupOpening,
    SetupVerdict,
)
from bot.text import channel_link, escape, mention
from handlers.communities import ids

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
# The Home tab: each list is cut well before Slack's 100 blocks.
COMMUNITIES_SHOWN = 30
HOME_INTRO = (
    "set up a community in its channel (`/doughnut setup`), and see your communities and roles here"
)


@dataclass(frozen=True)
class ChannelAccess:
    """What Slack said about a channel: can the bot see it, is it private, is the bot in it."""

    visible: bool
    is_private: bool = False
    bot_is_member: bool = False


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
            channel_input(
                ids.SETUP_CHANNEL_BLOCK,
                ids.SETUP_CHANNEL_ACTION,
                "Channel",
                hint="The community's home channel. I'll check it, then ask the rest.",
                dispatch_action=True,
            )
        ],
    }


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
        text_input(
            ids.SETUP_NAME_BLOCK, ids.SETUP_NAME_ACTION, "Community name", form.name, max_length=80
        ),
        text_input(
            ids.SETUP_DESCRIPTION_BLOCK,
            ids.SETUP_DESCRIPTION_ACTION,
            "What is its domain?",
            form.description,
            multiline=True,
            optional=True,
            max_length=1000,
            hint="The craft the members share, e.g. “Running production services reliably”.",
        ),
        text_input(
            ids.SETUP_TIMEZONE_BLOCK,
            ids.SETUP_TIMEZONE_ACTION,
            "Timezone",
            form.timezone,
            hint="For digests and prompts: a name like Europe/Paris or America/New_York.",
        ),
        users_input(
            ids.SETUP_COORDINATORS_BLOCK,
            ids.SETUP_COORDINATORS_ACTION,
            "Coordinators",
            form.coordinators,
            hint="They keep the community running and can edit these settings.",
        ),
        users_input(
            ids.SETUP_REVIEWERS_BLOCK,
            ids.SETUP_REVIEWERS_ACTION,
            "Reviewers (master practitioners)",
            form.reviewers,
            optional=True,
            hint="They validate lessons into practices.",
        ),
        users_input(
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


def form_or_refusal(
    channel_id: str, access: ChannelAccess, opening: SetupOpening | None
) -> dict[str, Any]:
    """The form, prefilled, or the reason this person can't use it for this channel."""
    if not access.visible or opening is None:
        return notice_modal(INVITE_FIRST.format(channel=channel_link(channel_id)))
    if opening.community is not None and opening.verdict is SetupVerdict.COORDINATORS_ONLY:
        return notice_modal(coordinators_only(opening.community))
    editing = opening.verdict is SetupVerdict.EDIT
    return setup_modal(channel_id, opening.form, editing=editing, access=access)


def refusal(verdict: SetupVerdict, community: CommunityView) -> dict[str, Any]:
    """Why a submitted form was not saved, in place of the form."""
    if verdict is SetupVerdict.COORDINATORS_ONLY:
        return notice_modal(coordinators_only(community))
    already = ALREADY_A_COMMUNITY.format(
        channel=channel_link(community.channel_id), name=escape(community.name)
    )
    return notice_modal(already)


def _people(user_ids: tuple[str, ...]) -> str:
    return ", ".join(mention(u) for u in user_ids) or "_none yet_"


def coordinators_only(community: CommunityView) -> str:
    return COORDINATORS_ONLY.format(
        channel=channel_link(community.channel_id),
        name=escape(community.name),
        coordinators=_people(community.coordinators),
    )


def welcome_message(community: CommunityView, *, bot_in_channel: bool) -> dict[str, Any]:
    """The post that opens a community in its channel."""
    blocks: list[Block] = []
    if community.description:
        blocks.append(section(f">{escape(community.description)}"))
    blocks += [
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Coordinators*\n{_people(community.coordinators)}"},
                {"type": "mrkdwn", "text": f"*Reviewers*\n{_people(community.reviewers)}"},
                {"type": "mrkdwn", "text": f"*Sponsors*\n{_people(community.sponsors)}"},
                {"type": "mrkdwn", "text": f"*Timezone*\n{escape(community.timezone)}"},
            ],
        },
        context(
            "Share what you learn, ask those who've done it before, thank each other. "
            "Type `/doughnut help` to see what Doughnut does for you today."
        ),
    ]
    if not bot_in_channel:
        blocks.append(
            context("Tip: `/invite @Doughnut` here so I can answer when someone mentions me.")
        )
    lead = f":doughnut: *{escape(community.name)}* is now a community of practice."
    return lead_message(lead, blocks)


def saved_text(community: CommunityView) -> str:
    """The ephemeral that confirms an edit."""
    return f"Saved. *{escape(community.name)}* is up to date."


def member_welcome(community: CommunityView) -> dict[str, Any]:
    """The DM a new member of a community channel receives."""
    lead = (
        f":wave: Welcome to *{escape(community.name)}* in {channel_link(community.channel_id)}! "
        "It's a community of practice: members share lessons, help each other and say thanks. "
        "Type `/doughnut help` to see what you can do."
    )
    return lead_message(lead, [])


def _community_line(community: CommunityView, user_id: str) -> Block:
    roles = community.roles_of(user_id)
    role_text = f" · you are {', '.join(roles)}" if roles else ""
    return section(f"*{escape(community.name)}* in {channel_link(community.channel_id)}{role_text}")


def home_section(home: HomeCommunities, room: int) -> list[Block]:
    """The Home tab's communities: yours, then public ones to join; at most `room` blocks."""
    mine = [_community_line(c, home.user_id) for c in home.mine] or [
        context("You are not in a community yet: join one below, or set one up.")
    ]
    others = [_community_line(c, home.user_id) for c in home.others]
    head = [divider(), section("*Your communities*")]
    others_head = [divider(), section("*Other communities*")] if others else []
    lists_room = room - len(head) - len(others_head)
    # Yours first; the others keep a fair share of what is left.
    others_want = min(len(others), COMMUNITIES_SHOWN, max(lists_room // 2, 0))
    mine_blocks = truncated(mine, min(COMMUNITIES_SHOWN, lists_room - others_want))
    others_room = min(COMMUNITIES_SHOWN, lists_room - len(mine_blocks))
    blocks = [*head, *mine_blocks]
    if others and others_room > 0:
        blocks += [*others_head, *truncated(others, others_room)]
    return blocks[: max(room, 0)]


# ---- Paused communities -----------------------------------------------------------------------

HOW_TO_RESUME = {
    communities.ARCHIVED: "Unarchive the channel and I'll pick up where I left off.",
    communities.REMOVED: "Invite me back (`/invite @Doughnut` in the channel) to resume.",
}


def paused_dm(community: CommunityView) -> dict[str, Any]:
    """The DM each coordinator gets once, when their community is paused."""
    reason = community.paused_reason or ""
    lead = (
        f":pause_button: *{escape(community.name)}* ({channel_link(community.channel_id)}) is "
        f"paused: {escape(reason)}. Its scheduled posts (digests, prompts, reviews) have stopped. "
        f"{HOW_TO_RESUME.get(reason, '')}"
    ).rstrip()
    return lead_message(lead, [])


def resumed_dm(community: CommunityView) -> dict[str, Any]:
    lead = (
        f":arrow_forward: *{escape(community.name)}* ({channel_link(community.channel_id)}) "
        "is active again: its scheduled posts resume."
    )
    return lead_message(lead, [])


def paused_section(paused: tuple[CommunityView, ...], room: int) -> list[Block]:
    """The Home tab's warning about the paused communities the viewer coordinates."""
    if not paused or room < 3:
        return []
    lines = [
        section(
            f":pause_button: *{escape(c.name)}* ({channel_link(c.channel_id)}) is paused: "
            f"{escape(c.paused_reason or '')}. {HOW_TO_RESUME.get(c.paused_reason or '', '')}"
        )
        for c in paused
    ]
    head = [divider(), section("*Paused communities*")]
    return [*head, *truncated(lines, room - len(head))]
