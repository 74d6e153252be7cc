"""The contribution profile and the ledger: pure Block Kit and text builders."""

from __future__ import annotations

from typing import Any

from bot.blocks import Block, context, ephemeral, lead_message, section
from bot.core.contributions import Contribution, Period, Profile, short_summary
from bot.text import channel_link, escape, mention
from storage.contributions import RoleHeld

ROLES_SHOWN = 15
HOME_INTRO = "see what you gave your communities (`/doughnut me`)"
PROFILE_USAGE = (
    "Usage: `/doughnut me` (your contributions) or `/doughnut profile @someone` "
    "(one person's, mentioned with @)."
)
REPORT_USAGE = (
    "Usage: `/doughnut report [last-month|last-quarter|YYYY-MM-DD..YYYY-MM-DD]`, in a "
    "community's channel: its contribution ledger as a CSV file, sent to you in a DM. "
    "Example: `/doughnut report 2026-10-01..2026-12-31`."
)
NOT_A_COMMUNITY = (
    "`/doughnut report` works in a community's channel: run it there "
    "(`/doughnut setup` makes a channel a community)."
)
LEADS_ONLY = (
    "Only the coordinators and sponsors of {community} can download its contribution ledger. "
    "`/doughnut me` shows your own contributions."
)
ON_ITS_WAY = (
    "The contribution ledger of {community} for {period} ({count}) is on its way to your DM "
    "with me, as a CSV file."
)


def _times(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _kudos(figures: Contribution) -> str:
    line = _times(figures.kudos_received, "kudos", "kudos")
    if figures.kudos_received:
        people = _times(figures.kudos_givers, "person", "people")
        channels = _times(figures.kudos_channels, "channel", "channels")
        line += f" from {people} in {channels}"
    return line


def _role(role: RoleHeld) -> str:
    since = f", since {role.since.strftime('%-d %b %Y')}" if role.since else ""
    return f"{role.role.value} of {escape(role.community)} ({channel_link(role.channel_id)}){since}"


def profile_lines(profile: Profile) -> list[tuple[str, str, str]]:
    """(what, last days, all time) for each figure, in the profile's order."""
    recent, ever = profile.recent, profile.all_time
    return [
        ("Kudos received", _kudos(recent), _kudos(ever)),
        ("Kudos given", str(recent.kudos_given), str(ever.kudos_given)),
        ("Lessons written", str(recent.lessons_written), str(ever.lessons_written)),
        ("Lessons validated", str(recent.lessons_validated), str(ever.lessons_validated)),
        ("Reuse by others", str(recent.lesson_reuses), str(ever.lesson_reuses)),
        ("Reviews done", str(recent.reviews), str(ever.reviews)),
        ("Peer assists given", str(recent.assists_given), str(ever.assists_given)),
    ]


def profile_message(profile: Profile, viewer_id: str) -> dict[str, Any]:
    """The ephemeral profile: breadth over the last days and all time, then the roles held."""
    whose = "Your contributions" if profile.user_id == viewer_id else (
        f"Contributions of {mention(profile.user_id)}"
    )  # fmt: skip
    lead = f"*{whose}*: last {profile.days} days, and all time"
    figures = "\n".join(
        f"• {what}: *{recent}* (all time: {ever})" for what, recent, ever in profile_lines(profile)
    )
    roles = profile.roles
    held = "\n".join(f"• {_role(r)}" for r in roles[:ROLES_SHOWN]) or "No community roles held."
    if len(roles) > ROLES_SHOWN:  # a section holds 3,000 characters
        held += f"\n…and {len(roles) - ROLES_SHOWN} more"
    blocks: list[Block] = [
        section(figures),
        section(f"*Community roles*\n{held}"),
        context("Breadth, not points: who you helped and where, never a leaderboard."),
    ]
    return {"response_type": "ephemeral", **lead_message(lead, blocks)}


def usage(text: str) -> dict[str, Any]:
    return ephemeral(text)


def leads_only(community: str) -> dict[str, Any]:
    return ephemeral(LEADS_ONLY.format(community=escape(community)))


def on_its_way(community: str, period: Period, rows: int) -> dict[str, Any]:
    count = _times(rows, "member", "members")
    return ephemeral(ON_ITS_WAY.format(community=escape(community), period=period.label,
                                       count=count))  # fmt: skip


def upload_comment(community: str, period: Period, rows: tuple[Contribution, ...]) -> str:
    """The DM's words above the file (the community's name escaped)."""
    flagged = sum(1 for r in rows if r.unrecognised)
    line = (
        f"The contribution ledger of {escape(community)} for {period.label}: "
        f"{_times(len(rows), 'member', 'members')}."
    )
    if flagged:
        line += (
            f" {_times(flagged, 'member', 'members')} contributed without any kudos "
            "(column `contributed_without_kudos`)."
        )
    return line


def home_section(recent: Contribution, days: int) -> list[Block]:
    return [context(f"*Your contributions, last {days} days:* {short_summary(recent)}. "
                    "`/doughnut me` for more.")]  # fmt: skip
