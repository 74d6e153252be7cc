"""Community health: `/doughnut stats` (one community, or every one for the support team), its
twelve-month chart sent to the requester's DM, and a Home section for those who lead one."""

from __future__ import annotations

from typing import Any

from bot.registry import Capability, HelpEntry, HomeSection, Registry
from handlers.health import ids, listeners, views


def register(app: Any, registry: Registry) -> None:
    registry.subcommands.add(ids.STATS_SUBCOMMAND, listeners.stats_command)
    registry.help += [
        HelpEntry(
            "`/doughnut stats [community] [90d]`",
            "coordinators and sponsors: the community's health against the period before, "
            "and a chart of the last 12 months in your DM",
        ),
        HelpEntry(
            "`/doughnut stats all`",
            "the support team: every community side by side, and which are quiet or lack a role",
        ),
    ]
    registry.home_sections.append(HomeSection("health", views.HOME_INTRO, listeners.home_section))


CAPABILITY = Capability(
    name="health",
    register=register,
    scopes=(
        "commands",
        "files:write",  # the twelve-month chart, uploaded to the requester's DM
        "im:write",  # the DM it goes to
    ),
)
