"""Recognition beyond one's team: the contribution profile (`/doughnut me`, `/doughnut profile
@someone`) and the community's contribution ledger (`/doughnut report`, a CSV to a DM)."""

from __future__ import annotations

from typing import Any

from bot.registry import Capability, HelpEntry, HomeSection, Registry
from handlers.profile import ids, listeners, views


def register(app: Any, registry: Registry) -> None:
    registry.subcommands.add(ids.ME_SUBCOMMAND, listeners.me_command)
    registry.subcommands.add(ids.PROFILE_SUBCOMMAND, listeners.profile_command)
    registry.subcommands.add(ids.REPORT_SUBCOMMAND, listeners.report_command)
    registry.help += [
        HelpEntry(
            "`/doughnut me`",
            "your contributions, last 90 days and all time: recognition received (from how "
            "many people, in how many channels), lessons, their reuse, reviews, roles",
        ),
        HelpEntry("`/doughnut profile @someone`", "the same for one member"),
        HelpEntry(
            "`/doughnut report [last-month|last-quarter|YYYY-MM-DD..YYYY-MM-DD]`",
            "in a community's channel, for its coordinators and sponsors: the contribution "
            "ledger as a CSV file in your DM",
        ),
    ]
    registry.home_sections.append(HomeSection("profile", views.HOME_INTRO, listeners.home_section))


CAPABILITY = Capability(
    name="profile",
    register=register,
    # The report: files.getUploadURLExternal / completeUploadExternal, to the DM that
    # conversations.open gives (the outbox).
    scopes=("commands", "files:write", "im:write"),
)
