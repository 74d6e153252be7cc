"""Kudos: Block Kit from the service's dataclasses (pure builders; user text escaped)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.blocks import (
    Block,
    actions,
    button,
    context,
    divider,
    lead_message,
    notice_modal,
    plain,
    section,
    text_input,
    truncated,
    users_input,
)
from bot.core.kudos import (
    Allowance,
    HomeKudos,
    KudosView,
    Outcome,
    Refusal,
    Skip,
)
from bot.text import channel_link, escape, mention
from handlers.kudos import ids
from storage.models import Visibility
from storage.models.kudos import REASON_MAX

TITLE = "Give kudos"
USAGE = (
    "Say who and why, like `/kudos @ana @ben for walking us through the failover "
    "#reliability`. A user group (`@sre-team`) gives kudos to each of its members."
)
NO_REASON = (
    "Say why, so they know what they did well: `/kudos @ana for walking us through the failover`."
)
TOO_LONG = (
    f"A reason can be at most {REASON_MAX:,} characters; yours has {{length:,}}. Nothing was given."
)
TOO_MANY = "That is more people than kudos allow at once. Nothing was given."
READING_GROUPS = "I'm reading who is in {groups}; I'll tell you here how it went."
GROUP_UNREAD = (
    "I couldn't read who is in that user group, so nothing was given to it. Try again later."
)
UNDONE = "Undone: the kudos to {who} are taken back."
UNDO_NOT_GIVER = "Only the person who gave these kudos can undo them."
UNDO_TOO_LATE = "Undo works for 10 minutes after giving kudos."
GONE = "Those kudos are gone (undone already)."
NOT_A_PERSON = "Kudos go to people: this message was posted by an app or a bot."
LOADING_FAILED = (
    ":warning: Sorry, I couldn't load this form and nothing was given. Close it and try again "
    "(reference `{reference}`)."
)
HOME_INTRO = "thank people with kudos (`/kudos`, or the kudos emoji) and see the ones you received"
HOME_EMPTY = "No kudos received yet."


def _who(user_ids: list[str]) -> str:
    return ", ".join(mention(u) for u in user_ids)


def _tags(tags: tuple[str, ...]) -> str:
    return " ".join(f"`#{escape(t)}`" for t in tags)


def _in_hours(resets_at: datetime, now: datetime) -> str:
    minutes = max(1, int((resets_at - now).total_seconds() // 60))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def allowance_line(allowance: Allowance, now: datetime) -> str:
    zone, wait = escape(allowance.timezone), _in_hours(allowance.resets_at, now)
    return (
        f"You have {allowance.left} of your {allowance.allowance} kudos left today; they reset "
        f"at midnight your time ({zone}), in {wait}."
    )


def skipped_line(skipped: tuple[tuple[str, Skip], ...]) -> str:
    return "Skipped: " + "; ".join(f"{mention(u)} ({why})" for u, why in skipped) + "."


def refusal_text(outcome: Outcome, now: datetime, length: int = 0) -> str:
    """What a refused ask says; nothing was stored."""
    refusal = outcome.refusal
    if refusal is Refusal.NO_RECIPIENT:
        return USAGE
    if refusal is Refusal.NO_REASON:
        return NO_REASON
    if refusal is Refusal.TOO_LONG:
        return TOO_LONG.format(length=length)
    if refusal is Refusal.TOO_MANY:
        return TOO_MANY
    assert outcome.allowance is not None
    wanted = f"That user group has {outcome.group_size} members: " if outcome.group_size else ""
    return f"{wanted}Not enough kudos left today, so nothing was given. " + allowance_line(
        outcome.allowance, now
    )


def _undo(outcome: Outcome) -> Block:
    value = ",".join(str(k.id) for k in outcome.stored)
    return actions(button("Undo", ids.UNDO_ACTION, value=value))


def outcome_lines(outcome: Outcome, now: datetime) -> list[str]:
    """What the giver is told: who got kudos, who is being checked, who was skipped and why."""
    lines: list[str] = []
    if outcome.given:
        reason = f" for _{escape(outcome.reason)}_" if outcome.reason else ""
        lines.append(f":tada: Kudos to {_who([k.receiver_id for k in outcome.given])}{reason}.")
    if outcome.pending:
        pending = _who([k.receiver_id for k in outcome.pending])
        lines.append(
            f"Checking with Slack who {pending} is; I'll tell you if they can't get kudos."
        )
    if outcome.skipped:
        lines.append(skipped_line(outcome.skipped))
    if not outcome.stored and not outcome.groups_to_read:
        lines.append("Nothing was given.")
    if outcome.allowance is not None and outcome.stored:
        lines.append(allowance_line(outcome.allowance, now))
    return lines


def outcome_message(outcome: Outcome, now: datetime) -> dict[str, Any]:
    """The giver's confirmation (an ephemeral), with Undo when something was stored."""
    lead = " ".join(outcome_lines(outcome, now))
    if outcome.groups_to_read:
        groups = ", ".join(f"<!subteam^{g}>" for g in outcome.groups_to_read if g.isalnum())
        lead = (lead + " " if outcome.stored or outcome.skipped else "") + READING_GROUPS.format(
            groups=groups
        )
    blocks = [_undo(outcome)] if outcome.stored else []
    return lead_message(lead, blocks)


def _link(kudos: KudosView) -> str:
    if kudos.permalink and kudos.permalink.startswith("https://"):
        return f"<{escape(kudos.permalink)}|See the message>"
    if kudos.channel_id and kudos.channel_id[0] in "CG":
        return f"Given in {channel_link(kudos.channel_id)}"
    return ""


def received_dm(kudos: KudosView) -> dict[str, Any]:
    """The recipient's DM: who, why (escaped) and a link."""
    why = f" for _{escape(kudos.reason)}_" if kudos.reason else " for their message"
    lead = f":doughnut: {mention(kudos.giver_id)} gave you kudos{why}."
    extra = [t for t in (_tags(kudos.tags), _link(kudos)) if t]
    return lead_message(lead, [context(*extra)] if extra else [])


def channel_post(kudos: KudosView) -> dict[str, Any]:
    """The community channel's post (public sources only: the caller checks)."""
    why = f" for _{escape(kudos.reason)}_" if kudos.reason else ""
    lead = f":doughnut: {mention(kudos.giver_id)} gave kudos to {mention(kudos.receiver_id)}{why}."
    extra = [t for t in (_tags(kudos.tags), _link(kudos)) if t]
    return lead_message(lead, [context(*extra)] if extra else [])


def refused_dm(kudos: KudosView, why: Skip) -> dict[str, Any]:
    lead = f"Your kudos to {mention(kudos.receiver_id)} were not given: {why}."
    return lead_message(lead, [])


# ---- Modals ----------------------------------------------------------------------------------


def loading_modal(external_id: str) -> dict[str, Any]:
    return notice_modal(":hourglass_flowing_sand: One moment…", TITLE, external_id=external_id)


def _fields(reason_required: bool) -> list[Block]:
    return [
        text_input(
            ids.REASON_BLOCK, ids.FIELD_ACTION, "Why", multiline=True, max_length=REASON_MAX,
            optional=not reason_required, hint="What they did well, in a sentence.",
        ),
        text_input(
            ids.TAGS_BLOCK, ids.FIELD_ACTION, "Tags", optional=True,
            hint="Optional, like #reliability #mentoring",
        ),
    ]  # fmt: skip


def message_modal(
    author_id: str, metadata: dict[str, Any], reason_required: bool, external_id: str
) -> dict[str, Any]:
    """Kudos for a message: to its author, linked to it."""
    return {
        "type": "modal",
        "callback_id": ids.MESSAGE_VIEW,
        "external_id": external_id,
        "title": plain(TITLE),
        "submit": plain("Give"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps(metadata),
        "blocks": [section(f"Kudos to {mention(author_id)} for this message."),
                   *_fields(reason_required)],
    }  # fmt: skip


def give_modal(reason_required: bool) -> dict[str, Any]:
    """Kudos from the Home tab: pick people, say why."""
    return {
        "type": "modal",
        "callback_id": ids.GIVE_VIEW,
        "title": plain(TITLE),
        "submit": plain("Give"),
        "close": plain("Cancel"),
        "blocks": [
            users_input(ids.RECEIVERS_BLOCK, ids.FIELD_ACTION, "To"),
            *_fields(reason_required),
        ],
    }


def given_modal(outcome: Outcome, now: datetime) -> dict[str, Any]:
    """The modal after giving: what happened, and Undo."""
    view = notice_modal(" ".join(outcome_lines(outcome, now)), TITLE)
    if outcome.stored:
        view["blocks"].append(_undo(outcome))
    return view


# ---- The Home tab ---------------------------------------------------------------------------


def _received_block(kudos: KudosView) -> Block:
    why = f": _{escape(kudos.reason)}_" if kudos.reason else ""
    private = " :lock:" if kudos.visibility is not Visibility.PUBLIC else ""
    extra = " ".join(t for t in (_tags(kudos.tags), _link(kudos)) if t)
    return section(
        f"From {mention(kudos.giver_id)}{why}{private}" + (f"\n{extra}" if extra else "")
    )


def home_section(home: HomeKudos, room: int, now: datetime) -> list[Block]:
    """Kudos received recently (reasons shown: it is the recipient's own tab), the allowance
    left today, and the Give kudos button."""
    head = [
        divider(),
        section(f"*Kudos you received* ({home.total})",
                accessory=button("Give kudos", ids.HOME_GIVE_ACTION)),
        context(allowance_line(home.allowance, now)),
    ]  # fmt: skip
    if room < len(head):
        return []
    items = [_received_block(k) for k in home.received] or [context(HOME_EMPTY)]
    return [*head, *truncated(items, room - len(head))]
