"""Digests, prompts and the community's settings: pure Block Kit builders (dataclasses in).

Every message stays inside Slack's limits: at most 50 blocks, at most 3,000 characters in a
section's text (a list that would not fit ends with "and N more"). User text is escaped; people
are mentioned only from stored ids.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.blocks import (
    Block,
    actions,
    button,
    context,
    date_input,
    divider,
    header,
    message,
    notice_modal,
    plain,
    section,
    select_input,
    text_input,
)
from bot.core.digests import (
    DAYS,
    JOB_TITLES,
    CommunitySettings,
    CoordinatorDigest,
    Counted,
    Gaps,
    ReviewNudge,
    SponsorDigest,
    WeeklyDigest,
    WhereNext,
)
from bot.core.health import CommunityHealth
from bot.text import escape
from handlers.digests import ids
from handlers.health.views import figure_lines
from handlers.lessons.ids import HOME_CAPTURE_ACTION

MAX_BLOCKS = 50
SECTION_MAX = 3000
REASON_SHOWN = 300
TITLE_SHOWN = 150

SETTINGS_TITLE = "Community settings"
NOT_A_COMMUNITY = (
    "This channel is not a community yet, so there is no digest to preview. "
    "`/doughnut setup` makes it one."
)
PREVIEW_NOTE = "_Preview: only you see this. The digest itself is posted on its day._"
SAVED = "Saved. The next digests follow these settings."
NO_LONGER_COORDINATOR = "Only the community's coordinators can change its settings."
BOTH = (
    "You coordinate this community and you are a workspace admin: which settings do you want "
    "to change?"
)


def _who(user_id: str) -> str:
    """A mention from a stored id; anything else is shown as escaped text."""
    return f"<@{user_id}>" if re.fullmatch(r"[UW][A-Z0-9]+", user_id or "") else escape(user_id)


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _linked(title: str, permalink: str | None) -> str:
    shown = escape(_cut(title, TITLE_SHOWN))
    if permalink and re.fullmatch(r"https://[^\s<>|]+", permalink):
        return f"<{permalink}|{shown}>"
    return f"*{shown}*"


def listed(title: str, lines: list[str], total: int | None = None) -> Block:
    """A section titled `title` with as many lines as fit in 3,000 characters, then
    "and N more" (N counted from `total`, which may exceed the lines given)."""
    total = len(lines) if total is None else max(total, len(lines))
    text = title
    shown = 0
    for line in lines:
        rest = total - shown - 1
        tail = f"\n_and {rest} more_" if rest else ""
        if len(text) + 1 + len(line) + len(tail) > SECTION_MAX - 20:
            break
        text += "\n" + line
        shown += 1
    if total > shown:
        text += f"\n_and {total - shown} more_"
    return section(text)


def _counted(title: str, counted: Counted, line: Any) -> Block:
    return listed(title, [line(row) for row in counted.rows], counted.total)


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _lesson_line(row: Any) -> str:
    return f"• {_linked(row.title, row.permalink)} by {_who(row.author_id)}"


def _capped(blocks: list[Block]) -> list[Block]:
    """At most 50 blocks (the lists are sections already; this is a last guard)."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    return [*blocks[: MAX_BLOCKS - 1], context(f"_and {len(blocks) - MAX_BLOCKS + 1} more_")]


# ---- The weekly recognition digest ---------------------------------------------------------


def weekly_summary(d: WeeklyDigest) -> str:
    parts = []
    if d.breadth.kudos:
        parts.append(
            f"{_plural(d.breadth.kudos, 'kudos', 'kudos')}"
            f" from {_plural(d.breadth.givers, 'person', 'people')}"
            f" to {_plural(d.breadth.receivers, 'person', 'people')}"
            f" in {_plural(d.breadth.channels, 'channel')}"
        )
    if d.captured.total:
        parts.append(f"{_plural(d.captured.total, 'lesson')} captured")
    if d.validated.total:
        parts.append(f"{d.validated.total} validated")
    if d.reused.total:
        parts.append(f"{_plural(d.reused.total, 'reuse')}")
    if d.assists.total:
        parts.append(f"{_plural(d.assists.total, 'peer assist')} done")
    return ", ".join(parts)


def weekly_digest(d: WeeklyDigest) -> dict[str, Any]:
    """The community channel's weekly digest, or a short nudge for a quiet week."""
    name = escape(d.community)
    if d.quiet:
        lead = (
            f":doughnut: A quiet week in *{name}*: no kudos and no new lessons. "
            "Who helped you this week? Thank them with `/kudos @name what they did`, "
            "or capture what you learned with `/lesson`."
        )
        return message(lead, [section(lead)])
    summary = weekly_summary(d)
    fallback = f"This week in {name}: {summary}."
    blocks: list[Block] = [header(f"This week in {_cut(d.community, 120)}"), section(summary + ".")]
    if d.kudos:
        lines = [
            f"• {_who(k.giver_id)} → {_who(k.receiver_id)}: {escape(_cut(k.reason, REASON_SHOWN))}"
            if k.reason.strip()
            else f"• {_who(k.giver_id)} → {_who(k.receiver_id)}"
            for k in d.kudos
        ]
        blocks.append(listed(":doughnut: *Kudos*", lines, d.breadth.kudos))
    if d.first_time:
        people = ", ".join(_who(u) for u in d.first_time)
        blocks.append(section(_cut(f":tada: *Recognised for the first time:* {people}", 2900)))
    if d.captured.total:
        blocks.append(_counted(":seedling: *Lessons captured*", d.captured, _lesson_line))
    if d.validated.total:
        blocks.append(
            _counted(":white_check_mark: *Validated practices*", d.validated, _lesson_line)
        )
    if d.reused.total:
        lines = [
            f"• {_linked(r.title, r.permalink)}: used by {_plural(r.count, 'person', 'people')}"
            for r in d.reused.rows
        ]
        blocks.append(listed(":recycle: *Most reused*", lines, len(d.reused.rows)))
    if d.assists.total:
        blocks.append(
            _counted(
                ":handshake: *Peer assists done*",
                d.assists,
                lambda r: f"• {_linked(r.title, r.permalink)} for {_who(r.author_id)}",
            )
        )
    blocks.append(
        context("Thank someone with `/kudos @name what they did` · capture a lesson with `/lesson`")
    )
    return message(fallback, _capped(blocks))


def preview(d: WeeklyDigest | None) -> dict[str, Any]:
    """`/doughnut digest`: the digest as it would be posted, only to the one who asked."""
    if d is None:
        return {"response_type": "ephemeral", "text": NOT_A_COMMUNITY}
    body = weekly_digest(d)
    blocks = [context(PREVIEW_NOTE), *body["blocks"]][:MAX_BLOCKS]
    return {"response_type": "ephemeral", "text": body["text"], "blocks": blocks}


# ---- The fortnightly project snapshot prompt ---------------------------------------------


def snapshot_prompt(community: str) -> dict[str, Any]:
    lead = (
        f":camera_with_flash: *Project snapshot for {escape(community)}*: what did you learn "
        "these two weeks? One lesson is enough: what you expected, what happened, why, and "
        "what you will do next time."
    )
    return message(
        lead,
        [
            section(lead),
            actions(
                button("Capture a lesson", HOME_CAPTURE_ACTION, value="snapshot", style="primary")
            ),
        ],
    )


# ---- The reviewer's Monday nudge -------------------------------------------------------------


def review_nudge(n: ReviewNudge) -> dict[str, Any]:
    lead = (
        f":inbox_tray: {_plural(n.total, 'lesson is', 'lessons are')} waiting for your review "
        "for more than three days."
    )
    lines = [
        f"• {_linked(row.title, row.permalink)} by {_who(row.author_id)} ({escape(name)})"
        for row, name in n.lessons
    ]
    blocks = [
        section(lead),
        listed("*Waiting*", lines, n.total),
        context("Review them in your Home tab, or with `/lessons status:captured`."),
    ]
    return message(lead, blocks)


# ---- Monthly: where do we go now? ------------------------------------------------------------


def _gap_lines(gaps: Gaps) -> list[str]:
    return [
        f"• {_linked(question, permalink)} ({_plural(votes, '+1')})"
        for _, question, votes, permalink in gaps.rows
    ]


def where_next(w: WhereNext) -> dict[str, Any]:
    name = escape(w.community)
    lead = f":compass: *Where do we go now, {name}?* A look back at {escape(w.month)}, and ahead."
    blocks: list[Block] = [section(lead)]
    if w.gaps.total:
        blocks.append(
            listed("*Open questions we cannot answer yet*", _gap_lines(w.gaps), w.gaps.total)
        )
    else:
        blocks.append(section("No open knowledge gaps: what do we not know yet?"))
    if w.tags:
        tags = ", ".join(f"#{escape(tag)} ({n})" for tag, n in w.tags)
        blocks.append(section(_cut(f"*What we learned about most:* {tags}", 2900)))
    blocks.append(
        context("Raise a gap with `/doughnut gap <question>`; +1 the ones you need answered.")
    )
    return message(lead, blocks)


# ---- Monthly, by DM: sponsors and coordinators ---------------------------------------------


def health_lines(health: CommunityHealth) -> str:
    """The figures as `/doughnut stats` shows them, with the month before for the trend."""
    return "\n".join(figure_lines(health))


def sponsor_digest(s: SponsorDigest) -> dict[str, Any]:
    name = escape(s.community)
    lead = f":bar_chart: *{name}* in {escape(s.month)}: your sponsor's digest."
    blocks: list[Block] = [section(lead), section(health_lines(s.health)), divider()]
    if s.validated.total:
        blocks.append(_counted("*Validated practices*", s.validated, _lesson_line))
    proposals = [f"• {escape(_cut(text, 300))} ({_who(by)})" for _, text, by in s.proposals]
    if s.proposals_total:
        blocks.append(listed("*Proposals awaiting your answer*", proposals, s.proposals_total))
    if s.gaps.total:
        blocks.append(listed("*Open knowledge gaps*", _gap_lines(s.gaps), s.gaps.total))
    return message(lead, _capped(blocks))


def coordinator_digest(c: CoordinatorDigest) -> dict[str, Any]:
    name = escape(c.community)
    lead = f":clipboard: *{name}* in {escape(c.month)}: your coordinator's digest."
    blocks: list[Block] = [section(lead), section(health_lines(c.health)), divider()]
    if c.unrecognised_total:
        people = [f"• {_who(u)}" for u in c.unrecognised]
        blocks.append(
            listed("*Contributed this month, not thanked yet*", people, c.unrecognised_total)
        )
    if c.stale.total:
        blocks.append(_counted("*Validated over a year ago: still true?*", c.stale, _lesson_line))
    if not c.unrecognised_total and not c.stale.total:
        blocks.append(section("Everyone who contributed was thanked, and no practice is stale."))
    return message(lead, _capped(blocks))


# ---- The coordinator's community settings --------------------------------------------------


def _checkboxes(
    block_id: str,
    label: str,
    options: list[tuple[str, str]],
    chosen: set[str],
    *,
    optional: bool = True,
) -> Block:
    choices = [{"text": plain(text[:75]), "value": value} for value, text in options]
    element: Block = {"type": "checkboxes", "action_id": ids.FIELD_ACTION, "options": choices}
    initial = [c for c in choices if c["value"] in chosen]
    if initial:
        element["initial_options"] = initial
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "optional": optional,
        "element": element,
    }


def settings_form(s: CommunitySettings) -> dict[str, Any]:
    """The coordinator's modal; the community travels in `private_metadata` (checked again)."""
    channels: Block = {
        "type": "multi_conversations_select",
        "action_id": ids.FIELD_ACTION,
        "filter": {"include": ["public", "private"], "exclude_bot_users": True,
                   "exclude_external_shared_channels": True},
        "max_selected_items": 20,
    }  # fmt: skip
    if s.snapshot_channels:
        channels["initial_conversations"] = list(s.snapshot_channels)
    days = [(d, d.capitalize()) for d in DAYS]
    return {
        "type": "modal",
        "callback_id": ids.COMMUNITY_SETTINGS_VIEW,
        "private_metadata": json.dumps({"community": s.community_id}),
        "title": plain(SETTINGS_TITLE),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": [
            section(f"Settings of *{escape(s.name)}*: when its digests go out, and where."),
            text_input(
                ids.TIMEZONE_BLOCK,
                ids.FIELD_ACTION,
                "Timezone",
                s.timezone,
                max_length=64,
                hint="An IANA name, like Europe/Berlin: every digest follows it.",
            ),  # fmt: skip
            select_input(
                ids.DAY_BLOCK, ids.FIELD_ACTION, "Weekly digest: day", days, selected=s.digest_day
            ),
            text_input(
                ids.TIME_BLOCK,
                ids.FIELD_ACTION,
                "Weekly digest: time",
                s.digest_time,
                max_length=5,
                hint="HH:MM, in the community's timezone.",
            ),  # fmt: skip
            _checkboxes(ids.JOBS_BLOCK, "What runs", list(JOB_TITLES.items()), set(s.jobs_on)),
            {
                "type": "input",
                "block_id": ids.SNAPSHOT_CHANNELS_BLOCK,
                "optional": True,
                "label": plain("Project snapshot: channels"),
                "element": channels,
                "hint": plain("Where the fortnightly snapshot is asked; none: this channel."),
            },  # fmt: skip
            date_input(
                ids.ANCHOR_BLOCK,
                ids.FIELD_ACTION,
                "Project snapshot: a week it is asked",
                initial=s.snapshot_anchor,
                optional=True,
                hint="It is asked every second week counted from this day's week.",
            ),  # fmt: skip
            _checkboxes(
                ids.KUDOS_BLOCK,
                "Kudos",
                [("on", "Post kudos to the channel too")],
                {"on"} if s.kudos_to_channel else set(),
            ),  # fmt: skip
        ],
    }


def choose_settings(channel_id: str) -> dict[str, Any]:
    """Both apply: a coordinator who is a workspace admin picks which settings to open."""
    return {
        "type": "modal",
        "title": plain("Settings"),
        "close": plain("Close"),
        "blocks": [
            section(BOTH),
            actions(
                button(
                    "This community", ids.CHOOSE_COMMUNITY_ACTION, value=channel_id, style="primary"
                ),
                button("The workspace", ids.CHOOSE_WORKSPACE_ACTION, value=channel_id),
            ),
        ],
    }


def saved() -> dict[str, Any]:
    return notice_modal(SAVED, SETTINGS_TITLE)


def refused() -> dict[str, Any]:
    return notice_modal(NO_LONGER_COORDINATOR, SETTINGS_TITLE)
