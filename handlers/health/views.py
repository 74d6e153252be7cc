"""Community health's Block Kit and text: pure builders, frozen dataclasses in, dicts out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.blocks import Block, context, divider, ephemeral, section, truncated
from bot.core.health import CommunityHealth, Figures, HomeHealth, Monthly, Stats, StatsVerdict
from bot.text import channel_link, escape
from handlers.health import ids

USAGE = (
    "Use `/doughnut stats` in a community's channel, `/doughnut stats <community name>`, "
    "or `/doughnut stats all` (the support team). Add a period like `90d` (1 to 366 days); "
    "the default is the last 30 days against the 30 before."
)
NO_COMMUNITY = (
    "This channel is not a community. Name one: `/doughnut stats <community name>`{choices}."
)
UNKNOWN_COMMUNITY = "I know no community named “{asked}”{choices}."
NOT_ALLOWED = (
    "Only the coordinators and sponsors of *{name}* ({leads}), and the support team, can see "
    "its health. Ask one of them."
)
SUPPORT_ONLY = (
    "Only the support team (workspace admins and owners, and those they granted it) can see "
    "every community's health. Ask one of them, or use `/doughnut stats` in your community."
)
ALL_COMING = ":hourglass_flowing_sand: Gathering every community's health: it appears here shortly."
STATS_COMING = (
    ":hourglass_flowing_sand: Counting this community's figures: they appear here shortly."
)
CHART_COMING = "A chart of the last 12 months is on its way to your DM with me."
NO_CHARTS = (
    'No chart: charts are not installed on this Doughnut (`pip install "doughnut[charts]"`).'
)
CHART_COMMENT = "{name}: the last 12 months (lessons captured, validated, reused; active members)."
HOME_INTRO = "see how the communities you lead are doing (`/doughnut stats`)"
ALL_SHOWN = 40  # communities side by side in one answer (Slack's 50 blocks)
UP, DOWN, SAME = "↑", "↓", "→"


def arrow(now: float | None, before: float | None) -> str:
    if now is None or before is None or now == before:
        return SAME
    return UP if now > before else DOWN


def duration(span: timedelta | None) -> str:
    """`45 min`, `5 h`, `2.5 d`; `–` when nothing counted."""
    if span is None:
        return "–"
    hours = span.total_seconds() / 3600
    if hours < 1:
        return f"{round(hours * 60)} min"
    if hours < 48:
        return f"{_number(hours)} h"
    return f"{_number(hours / 24)} d"


def _number(value: float) -> str:
    rounded = round(value, 1)
    return f"{rounded:g}"


def _seconds(span: timedelta | None) -> float | None:
    return None if span is None else span.total_seconds()


def _count(label: str, now: int, before: int, one: str | None = None) -> str:
    """`7 active members ↑ (5)`; `one` is the label for exactly one (`1 active member`)."""
    if now == 1 and one is not None:
        label = one
    return f"{now} {label} {arrow(now, before)} ({before})"


def _span(label: str, now: timedelta | None, before: timedelta | None) -> str:
    """A median: no arrow when either period had nothing to measure."""
    if now is None or before is None:
        return f"{label} {duration(now)} ({duration(before)})"
    return f"{label} {duration(now)} {arrow(_seconds(now), _seconds(before))} ({duration(before)})"


def share(figures: Figures) -> str:
    value = figures.outside_share
    return "–" if value is None else f"{round(value * 100)}%"


def figure_lines(health: CommunityHealth) -> list[str]:
    """The compact text: each figure, its trend arrow, and the previous period's value."""
    now, was = health.current, health.previous
    return [
        _count("active members", now.active_members, was.active_members, "active member"),
        "Lessons: "
        + " · ".join(
            (
                _count("captured", now.lessons_captured, was.lessons_captured),
                _count("validated", now.lessons_validated, was.lessons_validated),
                _count("reused", now.lessons_reused, was.lessons_reused),
                _span(
                    "median time to validation",
                    now.median_time_to_validation,
                    was.median_time_to_validation,
                ),
            )
        ),
        "Peer assists: "
        + " · ".join(
            (
                _count("requested", now.assists_requested, was.assists_requested),
                _count("completed", now.assists_completed, was.assists_completed),
                _span("median time to match", now.median_time_to_match, was.median_time_to_match),
            )
        ),
        "Gaps: "
        + " · ".join(
            (
                _count("opened", now.gaps_opened, was.gaps_opened),
                _count("answered", now.gaps_answered, was.gaps_answered),
            )
        ),
        "Proposals: "
        + " · ".join(
            (
                _count("answered", now.proposals_answered, was.proposals_answered),
                _span(
                    "median time to answer", now.median_time_to_answer, was.median_time_to_answer
                ),
            )
        ),
        "Recognition: "
        + " · ".join(
            (
                _count(
                    "people recognised",
                    now.people_recognised,
                    was.people_recognised,
                    "person recognised",
                ),
                f"{share(now)} recognised outside their own channel "
                f"{arrow(now.outside_share, was.outside_share)} ({share(was)})",
            )
        ),
    ]


def _title(health: CommunityHealth) -> str:
    days = health.period.days
    return (
        f"*{escape(health.community.name)}* ({channel_link(health.community.channel_id)}): "
        f"the last {days} days, against the {days} before"
    )


def stats_answer(stats: Stats, *, chart: bool) -> dict[str, Any]:
    """The ephemeral answer to `/doughnut stats`: the figures, or why not."""
    if stats.verdict is not StatsVerdict.SHOWN:
        return ephemeral(refusal(stats))
    if len(stats.health) != 1 or stats.community is None:
        return all_answer(stats)
    [health] = stats.health
    lines = figure_lines(health)
    lead = _title(health)
    text = "\n".join((lead, *lines))
    blocks: list[Block] = [section(lead), section("\n".join(lines))]
    blocks.append(context(CHART_COMING if chart else NO_CHARTS))
    return ephemeral(text, blocks)


def refusal(stats: Stats) -> str:
    choices = ""
    if stats.choices:
        choices = " (you can see: " + ", ".join(escape(c) for c in stats.choices) + ")"
    if stats.verdict is StatsVerdict.NO_COMMUNITY:
        return NO_COMMUNITY.format(choices=choices)
    if stats.verdict is StatsVerdict.UNKNOWN_COMMUNITY:
        return UNKNOWN_COMMUNITY.format(asked=escape(stats.asked), choices=choices)
    if stats.verdict is StatsVerdict.SUPPORT_ONLY:
        return SUPPORT_ONLY
    community = stats.community
    assert community is not None
    leads = ", ".join(f"<@{u}>" for u in (*community.coordinators, *community.sponsors))
    return NOT_ALLOWED.format(name=escape(community.name), leads=leads or "nobody yet")


def _flags(health: CommunityHealth) -> str:
    flags = []
    if health.quiet:
        flags.append(":zzz: quiet")
    if health.missing_roles:
        flags.append(":warning: no " + ", no ".join(health.missing_roles))
    return " · ".join(flags)


def all_line(health: CommunityHealth) -> str:
    """One community, side by side with the others: its key figures and what it lacks."""
    now, was = health.current, health.previous
    figures = " · ".join(
        (
            _count("active", now.active_members, was.active_members),
            _count("captured", now.lessons_captured, was.lessons_captured),
            _count("validated", now.lessons_validated, was.lessons_validated),
            _count("reused", now.lessons_reused, was.lessons_reused),
            _count("assists done", now.assists_completed, was.assists_completed),
            _count("gaps answered", now.gaps_answered, was.gaps_answered),
            _count("recognised", now.people_recognised, was.people_recognised),
        )
    )
    head = f"*{escape(health.community.name)}* ({channel_link(health.community.channel_id)})"
    flags = _flags(health)
    return f"{head}{' · ' + flags if flags else ''}\n{figures}"


def _communities(count: int) -> str:
    return f"{count} community" if count == 1 else f"{count} communities"


def all_answer(stats: Stats) -> dict[str, Any]:
    if not stats.health:
        return ephemeral("No community here yet: `/doughnut setup` in a channel makes one.")
    days = stats.health[0].period.days
    quiet = [h for h in stats.health if h.quiet]
    lacking = [h for h in stats.health if h.missing_roles]
    lead = (
        f"*Every community*, the last {days} days against the {days} before: "
        f"{_communities(len(stats.health))}, {len(quiet)} quiet (fewer than 3 active members), "
        f"{len(lacking)} missing a coordinator, reviewer or sponsor."
    )
    lines = [all_line(h) for h in stats.health]
    blocks = [section(lead), *truncated([section(line) for line in lines], ALL_SHOWN)]
    return ephemeral("\n".join((lead, *lines[:ALL_SHOWN])), blocks)


def chart_upload(monthly: Monthly, user_id: str, content_base64: str) -> dict[str, Any]:
    """The `files.upload_v2` delivery's payload: the PNG, into the person's DM."""
    return {
        "channel": user_id,
        "filename": ids.CHART_FILENAME,
        "title": f"{monthly.community}: the last 12 months",
        "initial_comment": CHART_COMMENT.format(name=escape(monthly.community)),
        "content_base64": content_base64,
    }


def home_section(home: HomeHealth, room: int) -> list[Block]:
    """The health of the communities a person leads; nothing for anyone else."""
    if not home.health or room < 3:
        return []
    blocks: list[Block] = [divider(), section("*How your communities are doing*")]
    for health in home.health:
        blocks.append(section(all_line(health)))
    blocks.append(context("`/doughnut stats` in a community's channel: every figure, and a chart."))
    return blocks[:room]
