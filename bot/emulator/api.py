"""Web API methods of the emulator: chat, conversations, users, reactions, auth."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable
from typing import Any

from bot.emulator import events
from bot.emulator.blockkit import MESSAGE_TEXT_MAX, check_message_blocks
from bot.emulator.scopes import Grants
from bot.emulator.state import Channel, Message, Workspace

PERMANENT_POST_ERRORS = ("channel_not_found", "not_in_channel", "is_archived", "user_not_found")


class ApiError(Exception):
    """A Web API refusal: becomes `{"ok": false, "error": ..., **extra}`."""

    def __init__(self, error: str, *, messages: list[str] | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra
        if messages:
            self.extra["response_metadata"] = {"messages": messages}

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, **self.extra}


class Triggers:
    """trigger_ids: each one is exchanged at most once, within `ttl` seconds of its issue."""

    def __init__(self, clock: Callable[[], float], ttl: float = 3.0) -> None:
        self._clock = clock
        self._ttl = ttl
        self._issued: dict[str, tuple[str, float]] = {}
        self._exchanged: set[str] = set()
        self._counter = itertools.count(1)

    def issue(self, user_id: str) -> str:
        n = next(self._counter)
        trigger_id = f"{1700000000 + n}.{n:05d}.{n * 2654435761 % 16**12:012x}"
        self._issued[trigger_id] = (user_id, self._clock())
        return trigger_id

    def check(self, trigger_id: Any) -> str:
        """The trigger's user, or the error Slack gives for it."""
        if not isinstance(trigger_id, str) or trigger_id not in self._issued:
            raise ApiError("invalid_trigger_id")
        if trigger_id in self._exchanged:
            raise ApiError("exchanged_trigger_id")
        user_id, issued_at = self._issued[trigger_id]
        if self._clock() - issued_at > self._ttl:
            raise ApiError("expired_trigger_id")
        return user_id

    def exchange(self, trigger_id: str) -> None:
        self._exchanged.add(trigger_id)


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def encode_cursor(kind: str, offset: int) -> str:
    return base64.b64encode(f"{kind}:{offset}".encode()).decode()


def decode_cursor(cursor: Any) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.b64decode(str(cursor)).decode().split(":", 1)[1])
    except (ValueError, IndexError) as exc:
        raise ApiError("invalid_cursor") from exc


def page(items: list[Any], args: dict[str, Any], kind: str, default_limit: int) -> tuple:
    """One page of `items` and the next cursor ("" on the last page)."""
    start = decode_cursor(args.get("cursor"))
    limit = int(args.get("limit") or default_limit) or len(items) or 1
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    return chunk, (encode_cursor(kind, start + limit) if more else "")


class ChatApi:
    """Message and conversation methods, over one Workspace."""

    def __init__(self, ws: Workspace, grants: Grants | None = None) -> None:
        self.ws = ws
        self.grants = grants  # None: every scope

    # helpers shared with the other method groups

    def channel(self, channel_id: Any) -> Channel:
        """A conversation the bot can see, or channel_not_found."""
        channel = self.ws.channels.get(str(channel_id or ""))
        if channel is None and isinstance(channel_id, str) and channel_id.startswith("#"):
            try:
                channel = self.ws.channel_by_name(channel_id)
            except KeyError:
                channel = None
        if channel is None:
            raise ApiError("channel_not_found")
        return channel

    def channel_for_post(self, target: Any) -> Channel:
        """Where a bot post lands: a user id means the app's DM with that user."""
        target = str(target or "")
        if target[:1] in ("U", "W"):
            user = self.ws.users.get(target)
            if user is None or user.deleted:
                raise ApiError("user_not_found")
            return self.ws.dm_channel(user.id)
        channel = self.channel(target)
        if channel.is_im:
            other = self.ws.users.get(channel.user or "")
            if other is None or other.deleted:
                raise ApiError("user_not_found")
        if channel.is_archived:
            raise ApiError("is_archived")
        # chat:write.public lets the bot post in any public channel, not in private ones.
        if self.ws.bot_user_id not in channel.members and (
            channel.is_private
            or (self.grants is not None and "chat:write.public" not in self.grants.scopes)
        ):
            raise ApiError("not_in_channel")
        return channel

    def check_content(self, args: dict[str, Any], *, required: bool = True) -> None:
        text, blocks = args.get("text"), args.get("blocks")
        if required and not text and not blocks and not args.get("attachments"):
            raise ApiError("no_text")
        if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
            raise ApiError("msg_too_long")
        if blocks is not None and blocks != []:
            errors = check_message_blocks(blocks)
            if errors:
                plain = [e.removeprefix("[ERROR] ") for e in errors]
                raise ApiError("invalid_blocks", messages=errors, errors=plain)

    def metadata(self, args: dict[str, Any]) -> dict[str, Any] | None:
        metadata = args.get("metadata")
        if metadata is None or metadata == "":
            return None
        if (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            raise ApiError("invalid_metadata_format")
        return {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}

    def bot_message(self, channel: Channel, args: dict[str, Any], **extra: Any) -> Message:
        thread_ts = args.get("thread_ts") or None
        if thread_ts:
            parent = self.ws.find_message(channel.id, thread_ts)
            if parent is not None and parent.is_reply:
                thread_ts = parent.thread_ts
        message = Message(
            channel=channel.id,
            ts=self.ws.new_ts(),
            text=args.get("text") or "",
            user=self.ws.bot_user_id,
            bot_id=self.ws.bot_id,
            blocks=args.get("blocks") or None,
            metadata=self.metadata(args),
            thread_ts=thread_ts,
            **extra,
        )
        self.ws.add_message(message)
        if self.ws.bot_user_id in channel.members:
            # Slack tells the app about its own posts too (with `bot_id`): loops show up.
            self.ws.raised_events.append(events.message_event(message, channel, self.ws.team_id))
        return message

    def own_message(self, args: dict[str, Any], ts_key: str, refusal: str) -> Message:
        channel = self.channel(args.get("channel"))
        message = self.ws.find_message(channel.id, str(args.get(ts_key) or ""))
        if message is None:
            raise ApiError("message_not_found")
        if message.bot_id != self.ws.bot_id:
            raise ApiError(refusal)
        return message

    # auth and team

    def auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{self.ws.domain}.slack.com/",
            "team": self.ws.team_name,
            "user": self.ws.bot_name,
            "team_id": self.ws.team_id,
            "user_id": self.ws.bot_user_id,
            "bot_id": self.ws.bot_id,
            "is_enterprise_install": False,
        }

    def team_info(self, args: dict[str, Any]) -> dict[str, Any]:
        team = {"id": self.ws.team_id, "name": self.ws.team_name, "domain": self.ws.domain}
        return {"ok": True, "team": {**team, "email_domain": "", "icon": {}}}

    # chat

    def chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel_for_post(args.get("channel"))
        self.check_content(args)
        message = self.bot_message(channel, args)
        return {"ok": True, "channel": channel.id, "ts": message.ts, "message": message.to_api()}

    def chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel_for_post(args.get("channel"))
        user_id = str(args.get("user") or "")
        user = self.ws.users.get(user_id)
        if user is None or user.deleted:
            raise ApiError("user_not_found")
        if user_id not in channel.members:
            raise ApiError("user_not_in_channel")
        self.check_content(args)
        ephemeral = Message(
            channel=channel.id,
            ts=self.ws.new_ts(),
            text=args.get("text") or "",
            user=self.ws.bot_user_id,
            bot_id=self.ws.bot_id,
            blocks=args.get("blocks") or None,
            thread_ts=args.get("thread_ts") or None,
            ephemeral_to=user_id,
        )
        self.ws.ephemerals.append(ephemeral)
        return {"ok": True, "message_ts": ephemeral.ts}

    def chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self.own_message(args, "ts", "cant_update_message")
        if self.ws.channels[message.channel].is_archived:
            raise ApiError("is_archived")
        self.check_content(args, required=False)
        if "text" in args:
            message.text = args.get("text") or ""
        if "blocks" in args:
            message.blocks = args.get("blocks") or None
        if args.get("metadata"):
            message.metadata = self.metadata(args)
        message.edited_ts = self.ws.new_ts()
        return {
            "ok": True,
            "channel": message.channel,
            "ts": message.ts,
            "text": message.text,
            "message": message.to_api(),
        }

    def chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self.own_message(args, "ts", "cant_delete_message")
        self.ws.remove_message(message.channel, message.ts)
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel(args.get("channel"))
        message = self.ws.find_message(channel.id, str(args.get("message_ts") or ""))
        if message is None:
            raise ApiError("message_not_found")
        packed_ts = message.ts.replace(".", "")
        link = f"https://{self.ws.domain}.slack.com/archives/{channel.id}/p{packed_ts}"
        if message.is_reply:
            link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
        return {"ok": True, "channel": channel.id, "permalink": link}

    # conversations

    def readable(self, channel_id: Any) -> Channel:
        """A conversation whose history the bot may read."""
        channel = self.channel(channel_id)
        if self.ws.bot_user_id not in channel.members:
            raise ApiError("channel_not_found" if channel.is_private else "not_in_channel")
        return channel

    def conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel(args.get("channel"))
        if channel.is_private and self.ws.bot_user_id not in channel.members:
            raise ApiError("channel_not_found")
        return {"ok": True, "channel": channel.to_api(self.ws.bot_user_id)}

    def conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            channel = self.channel(args["channel"])
        else:
            user_ids = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
            if not user_ids:
                raise ApiError("users_list_not_supplied")
            for user_id in user_ids:
                user = self.ws.users.get(user_id)
                if user is None or user.deleted:
                    raise ApiError("user_not_found")
            if len(user_ids) == 1:
                channel = self.ws.dm_channel(user_ids[0])
            else:
                channel = self.ws.mpim_channel(user_ids)
        if as_bool(args.get("return_im")):
            return {"ok": True, "channel": channel.to_api(self.ws.bot_user_id)}
        return {"ok": True, "channel": {"id": channel.id}}

    def conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel(args.get("channel"))
        if channel.is_private and self.ws.bot_user_id not in channel.members:
            raise ApiError("channel_not_found")
        members, cursor = page(sorted(channel.members), args, "member", 100)
        return {"ok": True, "members": members, "response_metadata": {"next_cursor": cursor}}

    def users_conversations(self, args: dict[str, Any]) -> dict[str, Any]:
        """A member's conversations that the bot can see (private ones only if it is in them)."""
        user_id = args.get("user") or self.ws.bot_user_id
        if user_id not in self.ws.users:
            raise ApiError("user_not_found")
        types = set(str(args.get("types") or "public_channel").split(","))
        wanted = []
        for channel in self.ws.channels.values():
            kind = (
                "im" if channel.is_im
                else "mpim" if channel.is_mpim
                else "private_channel" if channel.is_private
                else "public_channel"
            )  # fmt: skip
            if kind not in types or user_id not in channel.members:
                continue
            if channel.is_private and self.ws.bot_user_id not in channel.members:
                continue
            if channel.is_archived and as_bool(args.get("exclude_archived")):
                continue
            wanted.append(channel)
        chunk, cursor = page(wanted, args, "conversation", 100)
        return {
            "ok": True,
            "channels": [c.to_api(self.ws.bot_user_id) for c in chunk],
            "response_metadata": {"next_cursor": cursor},
        }

    def conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel(args.get("channel"))
        if channel.is_private or channel.is_im or channel.is_mpim:
            raise ApiError("method_not_supported_for_channel_type")
        if channel.is_archived:
            raise ApiError("is_archived")
        body: dict[str, Any] = {"ok": True}
        if self.ws.bot_user_id in channel.members:
            body["warning"] = "already_in_channel"
            body["response_metadata"] = {"warnings": ["already_in_channel"]}
        channel.members.add(self.ws.bot_user_id)
        body["channel"] = channel.to_api(self.ws.bot_user_id)
        return body

    def conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.readable(args.get("channel"))
        inclusive = as_bool(args.get("inclusive"))
        oldest = float(args.get("oldest") or 0)
        latest = float(args["latest"]) if args.get("latest") else None

        def in_window(ts: float) -> bool:
            if ts < oldest or (ts == oldest and oldest and not inclusive):
                return False
            return latest is None or ts < latest or (ts == latest and inclusive)

        top_level = [
            m
            for m in reversed(self.ws.history(channel.id))
            if (not m.is_reply or m.subtype == "thread_broadcast") and in_window(float(m.ts))
        ]
        chunk, cursor = page(top_level, args, "next_ts", 100)
        return {
            "ok": True,
            "messages": [self.listed(m, args) for m in chunk],
            "has_more": bool(cursor),
            "pin_count": 0,
            "channel_actions_count": 0,
            "channel_actions_ts": None,
            "response_metadata": {"next_cursor": cursor},
        }

    def listed(self, message: Message, args: dict[str, Any]) -> dict[str, Any]:
        """A message as history shows it: metadata of this app's own posts, others' on request."""
        own = message.bot_id == self.ws.bot_id
        return message.to_api(include_metadata=own or as_bool(args.get("include_all_metadata")))

    def conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.readable(args.get("channel"))
        thread = self.ws.replies(channel.id, str(args.get("ts") or ""))
        if not thread:
            raise ApiError("thread_not_found")
        chunk, cursor = page(thread, args, "reply", 1000)
        return {
            "ok": True,
            "messages": [self.listed(m, args) for m in chunk],
            "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor},
        }

    # reactions

    def reactions_get(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.readable(args.get("channel"))
        message = self.ws.find_message(channel.id, str(args.get("timestamp") or ""))
        if message is None:
            raise ApiError("message_not_found")
        return {
            "ok": True,
            "type": "message",
            "channel": channel.id,
            "message": message.to_api(include_metadata=False),
        }

    def _reaction_target(self, args: dict[str, Any]) -> tuple[Message, str]:
        channel = self.readable(args.get("channel"))
        message = self.ws.find_message(channel.id, str(args.get("timestamp") or ""))
        if message is None:
            raise ApiError("message_not_found")
        name = str(args.get("name") or "").strip(":")
        if not name:
            raise ApiError("invalid_name")
        return message, name

    def reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        message, name = self._reaction_target(args)
        users = message.reactions.setdefault(name, [])
        if self.ws.bot_user_id in users:
            raise ApiError("already_reacted")
        users.append(self.ws.bot_user_id)
        return {"ok": True}

    def reactions_remove(self, args: dict[str, Any]) -> dict[str, Any]:
        message, name = self._reaction_target(args)
        users = message.reactions.get(name, [])
        if self.ws.bot_user_id not in users:
            raise ApiError("no_reaction")
        users.remove(self.ws.bot_user_id)
        if not users:
            del message.reactions[name]
        return {"ok": True}

    # users

    def users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.ws.users.get(str(args.get("user") or ""))
        if user is None:
            raise ApiError("user_not_found")
        return {"ok": True, "user": user.to_api(self.ws.team_id)}

    def usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """A user group's member ids (not paginated, as in Slack)."""
        found = self.ws.user_groups.get(str(args.get("usergroup") or ""))
        if found is None:
            raise ApiError("no_such_subteam")
        return {"ok": True, "users": list(found[1])}

    def users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        members, cursor = page(list(self.ws.users.values()), args, "user", 0)
        return {
            "ok": True,
            "members": [u.to_api(self.ws.team_id) for u in members],
            "cache_ts": 1700000000,
            "response_metadata": {"next_cursor": cursor},
        }
