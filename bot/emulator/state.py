"""The emulated workspace: users, channels, messages and views, as plain data."""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

TEAM_ID = "T0LOCAL01"
TEAM_NAME = "Doughnut Local"
TEAM_DOMAIN = "doughnut-local"
BOT_USER_ID = "U0BOT0001"
BOT_ID = "B0BOT0001"
APP_ID = "A0DOUGHNUT"
BOT_NAME = "doughnut"
BOT_TOKEN = "xoxb-local-emulator"
APP_TOKEN = "xapp-local-emulator"


@dataclass
class User:
    id: str
    name: str
    real_name: str = ""
    tz: str = "Europe/Paris"
    tz_offset: int = 3600
    is_bot: bool = False
    deleted: bool = False
    is_admin: bool = False
    display_name: str = ""
    is_owner: bool = False
    is_restricted: bool = False  # a guest
    # A Slack Connect member of another organisation: their own team, `is_stranger` to us.
    external_team_id: str | None = None

    def to_api(self, team_id: str) -> dict[str, Any]:
        """The user object as users.info returns it."""
        data: dict[str, Any] = {
            "id": self.id,
            "team_id": self.external_team_id or team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": self.tz_offset,
            "profile": {
                "real_name": self.real_name,
                "display_name": self.display_name,
                "real_name_normalized": self.real_name,
                "display_name_normalized": self.display_name,
                "team": self.external_team_id or team_id,
            },
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_restricted": self.is_restricted,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1700000000,
        }
        if self.external_team_id:
            data["is_stranger"] = True
            data["profile"]["team"] = self.external_team_id
        if self.is_bot and self.id == BOT_USER_ID:
            data["profile"]["bot_id"] = BOT_ID
            data["profile"]["api_app_id"] = APP_ID
        return data


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    members: set[str] = field(default_factory=set)
    is_archived: bool = False
    is_im: bool = False
    is_mpim: bool = False
    user: str | None = None  # the other party of a DM
    created: int = 1700000000

    @property
    def channel_type(self) -> str:
        """The `channel_type` Slack puts on message events."""
        if self.is_im:
            return "im"
        if self.is_mpim:
            return "mpim"
        return "group" if self.is_private else "channel"

    def to_api(self, bot_user_id: str) -> dict[str, Any]:
        """The conversation object as conversations.info returns it."""
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private and not self.is_mpim,
            "is_group": self.is_private and not self.is_mpim,
            "is_im": False,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_general": self.name == "general",
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": bot_user_id in self.members,
            "created": self.created,
            "creator": "",
            "num_members": len(self.members),
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }


@dataclass
class Message:
    channel: str
    ts: str
    text: str = ""
    user: str | None = None
    bot_id: str | None = None
    blocks: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] | None = None
    thread_ts: str | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    ephemeral_to: str | None = None
    subtype: str | None = None
    files: list[dict[str, Any]] | None = None
    edited_ts: str | None = None
    reply_users: list[str] = field(default_factory=list)
    reply_count: int = 0
    latest_reply: str | None = None

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_api(self, *, include_metadata: bool = True) -> dict[str, Any]:
        """The message object as conversations.history returns it."""
        data: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text}
        if self.subtype:
            data["subtype"] = self.subtype
        if self.user:
            data["user"] = self.user
        if self.bot_id:
            data["bot_id"] = self.bot_id
            if self.bot_id == BOT_ID:
                data["app_id"] = APP_ID
                data["bot_profile"] = {
                    "id": BOT_ID,
                    "app_id": APP_ID,
                    "name": BOT_NAME,
                    "deleted": False,
                    "team_id": TEAM_ID,
                }
        data["team"] = TEAM_ID
        if self.blocks is not None:
            data["blocks"] = self.blocks
        if self.files:
            data["files"] = self.files
            data["upload"] = True
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        if self.is_reply:
            data["parent_user_id"] = self.user or ""
        if self.reply_count:
            data["reply_count"] = self.reply_count
            data["reply_users"] = list(self.reply_users)
            data["reply_users_count"] = len(self.reply_users)
            data["latest_reply"] = self.latest_reply
        if self.edited_ts:
            data["edited"] = {"user": self.user, "ts": self.edited_ts}
        if self.reactions:
            data["reactions"] = [
                {"name": name, "users": list(users), "count": len(users)}
                for name, users in self.reactions.items()
            ]
        if include_metadata and self.metadata is not None:
            data["metadata"] = self.metadata
        return data


class Workspace:
    """One Slack workspace with the Doughnut app installed; no I/O."""

    def __init__(
        self,
        *,
        team_id: str = TEAM_ID,
        team_name: str = TEAM_NAME,
        domain: str = TEAM_DOMAIN,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.domain = domain
        self.bot_user_id = BOT_USER_ID
        self.bot_id = BOT_ID
        self.app_id = APP_ID
        self.bot_name = BOT_NAME
        self.bot_token = BOT_TOKEN
        self.app_token = APP_TOKEN
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[Message]] = {}
        self.ephemerals: list[Message] = []
        self.home_views: dict[str, dict[str, Any]] = {}
        self.modal_stacks: dict[str, list[dict[str, Any]]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        # User groups (`S…` id → handle and member ids), read with usergroups.users.list.
        self.user_groups: dict[str, tuple[str, list[str]]] = {}
        # Events the bot's own actions raise (its posts), for the driver to deliver.
        self.raised_events: deque[dict[str, Any]] = deque(maxlen=1000)
        self.wall = wall
        self._last_ts_us = 0
        self._counters: dict[str, itertools.count[int]] = {}
        self.users[BOT_USER_ID] = User(
            BOT_USER_ID, BOT_NAME, real_name="Doughnut", is_bot=True, tz="UTC", tz_offset=0
        )

    @classmethod
    def with_sample_members(cls, **kwargs: Any) -> Workspace:
        """A workspace with three members, #general (bot inside) and #random (bot outside)."""
        ws = cls(**kwargs)
        alice = ws.add_user("alice", real_name="Alice Martin", tz="Europe/Paris", tz_offset=3600)
        bob = ws.add_user("bob", real_name="Bob Jones", tz="America/New_York", tz_offset=-18000)
        carol = ws.add_user("carol", real_name="Carol Sato", tz="Asia/Tokyo", tz_offset=32400)
        people = [alice.id, bob.id, carol.id]
        ws.add_channel("general", members=[*people, ws.bot_user_id])
        ws.add_channel("random", members=people)
        return ws

    # ids and timestamps

    def new_id(self, prefix: str) -> str:
        """A fresh Slack-looking id such as `U0L000001`."""
        counter = self._counters.setdefault(prefix, itertools.count(1))
        return f"{prefix}0L{next(counter):06d}"

    def new_ts(self) -> str:
        """A message ts, strictly increasing even within one microsecond."""
        now_us = int(self.wall() * 1_000_000)
        self._last_ts_us = max(now_us, self._last_ts_us + 100)
        seconds, micros = divmod(self._last_ts_us, 1_000_000)
        return f"{seconds}.{micros:06d}"

    # members and conversations

    def add_user(
        self,
        name: str,
        *,
        real_name: str = "",
        tz: str = "Europe/Paris",
        tz_offset: int = 3600,
        is_bot: bool = False,
        deleted: bool = False,
        is_admin: bool = False,
        user_id: str | None = None,
    ) -> User:
        """Add a member (id generated unless given)."""
        user = User(
            id=user_id or self.new_id("U"),
            name=name,
            real_name=real_name or name.title(),
            tz=tz,
            tz_offset=tz_offset,
            is_bot=is_bot,
            deleted=deleted,
            is_admin=is_admin,
            display_name=name,
        )
        self.users[user.id] = user
        return user

    def add_user_group(self, handle: str, members: Iterable[str] = ()) -> str:
        """Add a user group (`@handle`); its id."""
        group_id = self.new_id("S")
        self.user_groups[group_id] = (handle.lstrip("@"), list(members))
        return group_id

    def add_channel(
        self,
        name: str,
        private: bool = False,
        members: Iterable[str] = (),
        *,
        archived: bool = False,
        channel_id: str | None = None,
    ) -> Channel:
        """Add a channel (id generated unless given); the bot is in it only if among `members`."""
        channel = Channel(
            id=channel_id or self.new_id("G" if private else "C"),
            name=name.lstrip("#"),
            is_private=private,
            members=set(members),
            is_archived=archived,
        )
        self.channels[channel.id] = channel
        self.messages[channel.id] = []
        return channel

    def user_by_name(self, name: str) -> User:
        name = name.lstrip("@")
        for user in self.users.values():
            if user.name == name:
                return user
        raise KeyError(f"no user named {name!r}")

    def channel_by_name(self, name: str) -> Channel:
        name = name.lstrip("#")
        for channel in self.channels.values():
            if channel.name == name and not channel.is_im:
                return channel
        raise KeyError(f"no channel named {name!r}")

    def dm_channel(self, user_id: str) -> Channel:
        """The app's DM with a member, opened on first use."""
        for channel in self.channels.values():
            if channel.is_im and channel.user == user_id:
                return channel
        channel = Channel(
            id=self.new_id("D"),
            name=user_id,
            is_private=True,
            members={self.bot_user_id, user_id},
            is_im=True,
            user=user_id,
        )
        self.channels[channel.id] = channel
        self.messages[channel.id] = []
        return channel

    def mpim_channel(self, user_ids: list[str]) -> Channel:
        """A group DM between the app and several members."""
        members = {self.bot_user_id, *user_ids}
        for channel in self.channels.values():
            if channel.is_mpim and channel.members == members:
                return channel
        names = sorted(self.users[u].name for u in members if u in self.users)
        channel = Channel(
            id=self.new_id("G"),
            name="mpdm-" + "--".join(names) + "-1",
            is_private=True,
            members=members,
            is_mpim=True,
        )
        self.channels[channel.id] = channel
        self.messages[channel.id] = []
        return channel

    # messages

    def history(self, channel_id: str) -> list[Message]:
        """Every message of a channel (thread replies included), oldest first."""
        return list(self.messages.get(channel_id, []))

    def find_message(self, channel_id: str, ts: str) -> Message | None:
        for message in self.messages.get(channel_id, []):
            if message.ts == ts:
                return message
        return None

    def add_message(self, message: Message) -> Message:
        """Store a message and keep its thread parent's reply summary up to date."""
        self.messages.setdefault(message.channel, []).append(message)
        if message.thread_ts and message.thread_ts != message.ts:
            parent = self.find_message(message.channel, message.thread_ts)
            if parent is not None:
                parent.thread_ts = parent.ts
                parent.reply_count += 1
                parent.latest_reply = message.ts
                author = message.user or message.bot_id or ""
                if author and author not in parent.reply_users:
                    parent.reply_users.append(author)
        return message

    def remove_message(self, channel_id: str, ts: str) -> Message | None:
        message = self.find_message(channel_id, ts)
        if message is not None:
            self.messages[channel_id].remove(message)
        return message

    def replies(self, channel_id: str, thread_ts: str) -> list[Message]:
        """A thread, parent first."""
        return [
            m
            for m in self.messages.get(channel_id, [])
            if m.ts == thread_ts or m.thread_ts == thread_ts
        ]

    def ephemerals_for(self, user_id: str, channel_id: str | None = None) -> list[Message]:
        return [
            m
            for m in self.ephemerals
            if m.ephemeral_to == user_id and (channel_id is None or m.channel == channel_id)
        ]

    def modal_stack(self, user_id: str) -> list[dict[str, Any]]:
        """The user's open modals, root first (empty when none is open)."""
        return self.modal_stacks.setdefault(user_id, [])
