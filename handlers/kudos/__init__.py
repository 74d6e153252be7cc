"""Kudos: `/kudos`, Give kudos for this, the kudos reaction and emoji, Undo, the Home section."""

from __future__ import annotations

from typing import Any

from bot.registry import Capability, HelpEntry, HomeSection, Registry
from handlers.kudos import ids, listeners, views


def register(app: Any, registry: Registry) -> None:
    registry.help += [
        HelpEntry(
            "`/kudos`",
            "thank people: `/kudos @ana @ben for walking us through the failover #reliability` "
            "(a user group thanks each member; a few kudos a day each)",
        ),
        HelpEntry("*Give kudos for this*", "on a message's menu: kudos to its author"),
        HelpEntry(
            ":doughnut: on a message",
            "kudos to its author; in a message with mentions, kudos to each person mentioned. "
            "Only in channels Doughnut is a member of (invite it); `/doughnut settings` picks "
            "the emoji",
        ),
    ]
    registry.home_sections.append(HomeSection("kudos", views.HOME_INTRO, listeners.home_section))
    app.command(ids.KUDOS_COMMAND)(listeners.kudos_command)
    app.message_shortcut(ids.GIVE_FOR_MESSAGE_SHORTCUT)(listeners.give_for_message)
    app.view_submission(ids.MESSAGE_VIEW)(listeners.submit_message_kudos)
    app.action(ids.HOME_GIVE_ACTION)(listeners.home_give_clicked)
    app.view_submission(ids.GIVE_VIEW)(listeners.submit_give)
    app.action(ids.UNDO_ACTION)(listeners.undo_clicked)
    # Only the kudos emoji: the idea reaction is the lessons' (registered before this one).
    app.event("reaction_added", matchers=[listeners.is_kudos_reaction])(listeners.kudos_reaction)
    app.event("reaction_removed", matchers=[listeners.is_kudos_reaction])(
        listeners.kudos_reaction_removed
    )
    # Channel and private channel messages only (DMs are help's), with mentions and the emoji.
    for channel_type in ("channel", "group"):
        app.event(
            {"type": "message", "channel_type": channel_type}, matchers=[listeners.carries_kudos]
        )(listeners.kudos_message)


CAPABILITY = Capability(
    name="kudos",
    register=register,
    scopes=(
        "commands",  # /kudos
        "users:read",  # receivers not in the member cache (users.info, after the ack)
        "usergroups:read",  # a user group's members (usergroups.users.list, after the ack)
        "reactions:read",  # reaction_added / reaction_removed: the kudos emoji
        "channels:history",  # message.channels: the kudos emoji in a message with mentions
        "groups:history",  # message.groups: the same in private channels the bot is in
        "channels:read",  # whether a channel is public (conversations.info): reasons stay private
        "groups:read",  # the same for private channels
        "chat:write",  # DMs to recipients, posts in a community's channel, confirmations
    ),
    events=("reaction_added", "reaction_removed", "message.channels", "message.groups"),
)
