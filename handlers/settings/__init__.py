"""Workspace settings: `/doughnut settings`, the idea reaction (admins and owners change it)."""

from __future__ import annotations

from typing import Any

from bot.registry import Capability, HelpEntry, Registry
from handlers.digests import ids as digest_ids
from handlers.settings import ids, listeners


def register(app: Any, registry: Registry) -> None:
    registry.subcommands.add("settings", listeners.settings_command)
    registry.help.append(
        HelpEntry(
            "`/doughnut settings`",
            "the workspace's idea reaction, kudos emoji, daily kudos and whether kudos need a "
            "reason (admins and owners); in a community's channel, its digests and timezone "
            "(its coordinators)",
        )
    )
    app.view_submission(ids.SETTINGS_VIEW)(listeners.submit_settings)
    app.action(digest_ids.CHOOSE_COMMUNITY_ACTION)(listeners.chosen)
    app.action(digest_ids.CHOOSE_WORKSPACE_ACTION)(listeners.chosen)


CAPABILITY = Capability(
    name="settings",
    register=register,
    scopes=("users:read",),  # users.info: is the person a workspace admin or owner
)
