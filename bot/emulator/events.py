"""Inner event objects shaped exactly as Slack sends them to the bot."""

from __future__ import annotations

import uuid
from typing import Any

from bot.emulator.state import Channel, Message, User


def message_event(message: Message, channel: Channel, team_id: str) -> dict[str, Any]:
    """A `message` event for a member's new message."""
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel.id,
        "user": message.user,
        "text": message.text,
        "ts": message.ts,
        "event_ts": message.ts,
        "channel_type": channel.channel_type,
        "team": team_id,
        "client_msg_id": str(uuid.uuid4()),
    }
    if message.bot_id:
        # A post of an app's: Slack names the bot (so a listener can skip its own posts).
        shown = message.to_api(include_metadata=False)
        for key in ("bot_id", "app_id", "bot_profile", "blocks"):
            if key in shown:
                event[key] = shown[key]
        event.pop("client_msg_id")
    if message.thread_ts:
        event["thread_ts"] = message.thread_ts
        if message.is_reply:
            event["parent_user_id"] = message.user
    return event


def app_mention_event(message: Message, channel: Channel, team_id: str) -> dict[str, Any]:
    """An `app_mention` event for a message that mentions the bot."""
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": message.user,
        "text": message.text,
        "ts": message.ts,
        "channel": channel.id,
        "event_ts": message.ts,
        "team": team_id,
        "client_msg_id": str(uuid.uuid4()),
    }
    if message.thread_ts:
        event["thread_ts"] = message.thread_ts
    return event


def message_changed_event(
    before: dict[str, Any], after: Message, channel: Channel, event_ts: str
) -> dict[str, Any]:
    """A `message` event with subtype `message_changed`."""
    return {
        "type": "message",
        "subtype": "message_changed",
        "message": after.to_api(include_metadata=False),
        "previous_message": before,
        "channel": channel.id,
        "hidden": True,
        "ts": event_ts,
        "event_ts": event_ts,
        "channel_type": channel.channel_type,
    }


def message_deleted_event(deleted: Message, channel: Channel, event_ts: str) -> dict[str, Any]:
    """A `message` event with subtype `message_deleted`."""
    return {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": deleted.to_api(include_metadata=False),
        "channel": channel.id,
        "hidden": True,
        "deleted_ts": deleted.ts,
        "ts": event_ts,
        "event_ts": event_ts,
        "channel_type": channel.channel_type,
    }


def reaction_event(
    kind: str, user_id: str, reaction: str, message: Message, event_ts: str
) -> dict[str, Any]:
    """`reaction_added` / `reaction_removed`; `item_user` only when the message has a user."""
    event: dict[str, Any] = {
        "type": kind,
        "user": user_id,
        "reaction": reaction,
        "item": {"type": "message", "channel": message.channel, "ts": message.ts},
        "event_ts": event_ts,
    }
    if message.user:
        event["item_user"] = message.user
    return event


def member_joined_event(
    user_id: str, channel: Channel, team_id: str, event_ts: str, inviter: str | None = None
) -> dict[str, Any]:
    """`member_joined_channel`; its `channel_type` is "C" or "G", unlike message events."""
    event: dict[str, Any] = {
        "type": "member_joined_channel",
        "user": user_id,
        "channel": channel.id,
        "channel_type": "G" if channel.is_private else "C",
        "team": team_id,
        "event_ts": event_ts,
    }
    if inviter:
        event["inviter"] = inviter
    return event


def member_left_event(user_id: str, channel: Channel, team_id: str, event_ts: str) -> dict:
    """`member_left_channel` (also for the bot itself, when it is removed)."""
    return {
        "type": "member_left_channel",
        "user": user_id,
        "channel": channel.id,
        "channel_type": "G" if channel.is_private else "C",
        "team": team_id,
        "event_ts": event_ts,
    }


def channel_archive_event(kind: str, user_id: str, channel: Channel, event_ts: str) -> dict:
    """`channel_archive` / `channel_unarchive` (public), `group_archive` / `group_unarchive`."""
    return {"type": kind, "channel": channel.id, "user": user_id, "event_ts": event_ts}


def app_home_opened_event(
    user_id: str, dm: Channel, event_ts: str, view: dict[str, Any] | None
) -> dict[str, Any]:
    """`app_home_opened` on the Home tab; `view` only once one was published."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": dm.id,
        "tab": "home",
        "event_ts": event_ts,
    }
    if view is not None:
        event["view"] = view
    return event


def user_change_event(user: User, team_id: str, event_ts: str) -> dict[str, Any]:
    """`user_change`, e.g. after a member was deactivated."""
    return {
        "type": "user_change",
        "user": user.to_api(team_id),
        "cache_ts": int(float(event_ts)),
        "event_ts": event_ts,
    }


def team_join_event(user: User, team_id: str, event_ts: str) -> dict[str, Any]:
    """`team_join`: a new member, with their user object."""
    return {"type": "team_join", "user": user.to_api(team_id), "event_ts": event_ts}


def subteam_members_changed_event(
    group_id: str, team_id: str, added: list[str], removed: list[str], event_ts: str
) -> dict[str, Any]:
    """`subteam_members_changed`: who joined and left a user group."""
    return {
        "type": "subteam_members_changed",
        "subteam_id": group_id,
        "team_id": team_id,
        "date_previous_update": 1446670362,
        "date_update": int(float(event_ts)),
        "added_users": added,
        "added_users_count": str(len(added)),
        "removed_users": removed,
        "removed_users_count": str(len(removed)),
        "event_ts": event_ts,
    }


def subteam_updated_event(
    group_id: str, handle: str, team_id: str, users: list[str], event_ts: str
) -> dict[str, Any]:
    """`subteam_updated`: the user group object, with its member ids."""
    return {
        "type": "subteam_updated",
        "subteam": {
            "id": group_id,
            "team_id": team_id,
            "is_usergroup": True,
            "name": handle,
            "handle": handle,
            "description": "",
            "date_create": 1446746793,
            "date_update": int(float(event_ts)),
            "users": list(users),
            "user_count": len(users),
        },
        "event_ts": event_ts,
    }
