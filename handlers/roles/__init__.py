"""Roles: `/doughnut roles` lists who holds which role (since when, granted by whom); the
workspace's support team is granted and revoked here (and with `doughnut roles` on the command
line). Coordinators still change a community's roles with `/doughnut setup`."""

from __future__ import annotations

from typing import Any

from bot.registry import Capability, HelpEntry, Registry
from handlers.roles import ids, listeners


def register(app: Any, registry: Registry) -> None:
    registry.subcommands.add(ids.ROLES_SUBCOMMAND, listeners.roles_command)
    registry.help += [
        HelpEntry(
            "`/doughnut roles [all]`",
            "who holds which role in this channel's community (or every one), and since when",
        ),
        HelpEntry(
            "`/doughnut roles grant-support @person`",
            "the support team adds someone to it (`revoke-support` removes them)",
        ),
    ]


CAPABILITY = Capability(
    name="roles",
    register=register,
    scopes=("commands", "chat:write"),
)
