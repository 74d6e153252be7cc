"""What the app may do, as Slack decides it: the manifest's bot scopes and event subscriptions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.emulator.state import Channel
from bot.manifest import load_manifest

# Slack's scope for each Web API method (any one of a tuple will do); absent: none needed.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "team.info": ("team:read",),
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    "conversations.join": ("channels:join",),
    "reactions.get": ("reactions:read",),
    "reactions.add": ("reactions:write",),
    "reactions.remove": ("reactions:write",),
    "users.info": ("users:read",),
    "users.list": ("users:read",),
    "usergroups.users.list": ("usergroups:read",),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
}
# Methods whose scope depends on the kind of conversation: the scope's prefix per kind.
BY_CONVERSATION = {
    "conversations.history": "history",
    "conversations.replies": "history",
    "conversations.info": "read",
    "conversations.members": "read",
}
KIND_PREFIX = {
    "public_channel": "channels",
    "private_channel": "groups",
    "im": "im",
    "mpim": "mpim",
}

# Slack's scope for each event subscription; absent: none needed.
EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    "app_mention": ("app_mentions:read",),
    "message.channels": ("channels:history",),
    "message.groups": ("groups:history",),
    "message.im": ("im:history",),
    "message.mpim": ("mpim:history",),
    "reaction_added": ("reactions:read",),
    "reaction_removed": ("reactions:read",),
    "member_joined_channel": ("channels:read", "groups:read"),
    "member_left_channel": ("channels:read", "groups:read"),
    "channel_archive": ("channels:read",),
    "channel_unarchive": ("channels:read",),
    "group_archive": ("groups:read",),
    "group_unarchive": ("groups:read",),
    "user_change": ("users:read",),
    "team_join": ("users:read",),
    "subteam_members_changed": ("usergroups:read",),
    "subteam_created": ("usergroups:read",),
    "subteam_updated": ("usergroups:read",),
}
MESSAGE_SUBSCRIPTION = {"channel": "channels", "group": "groups", "im": "im", "mpim": "mpim"}

# The last part of a read method's name; Slack reads their arguments from the query string
# or a form body only (a JSON body is not read).
READ_VERBS = frozenset(
    {
        "test", "info", "list", "history", "replies", "members", "conversations", "get",
        "getPermalink", "lookupByEmail", "getPresence", "getProfile",
    }
)  # fmt: skip


def takes_json(method: str) -> bool:
    """False for read methods: Slack ignores a JSON body sent to them."""
    return method.rsplit(".", 1)[-1] not in READ_VERBS


def conversation_kind(channel: Channel) -> str:
    if channel.is_im:
        return "im"
    if channel.is_mpim:
        return "mpim"
    return "private_channel" if channel.is_private else "public_channel"


def subscription_of(event: dict[str, Any]) -> str:
    """The subscription an event comes under: `message.im` for a DM message, else its type."""
    kind = str(event.get("type") or "")
    if kind == "message":
        return f"message.{MESSAGE_SUBSCRIPTION.get(str(event.get('channel_type')), 'channels')}"
    return kind


@dataclass
class Grants:
    """The bot scopes the workspace granted and the bot events the app subscribes to."""

    scopes: set[str] = field(default_factory=set)
    events: set[str] = field(default_factory=set)

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any] | Path | None = None) -> Grants:
        """From a manifest (default: the repository's manifest.yml)."""
        if not isinstance(manifest, dict):
            manifest = load_manifest(manifest)
        scopes = ((manifest.get("oauth_config") or {}).get("scopes") or {}).get("bot") or []
        events = ((manifest.get("settings") or {}).get("event_subscriptions") or {}).get(
            "bot_events"
        ) or []
        return cls(set(scopes), set(events))

    def missing(self, needed: Iterable[str]) -> tuple[str, ...]:
        """The scopes `needed` (any one of them) when none is granted; empty when allowed."""
        needed = tuple(needed)
        if not needed or any(scope in self.scopes for scope in needed):
            return ()
        return needed

    def delivers(self, event: dict[str, Any]) -> bool:
        """Slack sends an event only under a subscription whose scope was granted."""
        subscription = subscription_of(event)
        if subscription not in self.events:
            return False
        return not self.missing(EVENT_SCOPES.get(subscription, ()))

    def provided(self) -> str:
        return ",".join(sorted(self.scopes))
