"""Workspace settings: pure Block Kit builders."""

from __future__ import annotations

from typing import Any

from bot.blocks import context, notice_modal, plain, select_input, text_input
from bot.core.settings import MAX_EMOJI, KudosSettings
from bot.text import escape
from handlers.settings import ids

TITLE = "Workspace settings"
NO_WORDS = "`/doughnut settings` takes no words: it opens the workspace's settings."
ONLY_ADMINS = (
    "Only the workspace's admins and owners can change its settings. "
    "The idea reaction here is :{emoji}: (`{emoji}`): given to a message, it asks the "
    "message's author whether to make it a lesson."
)
SAVED = "Saved: :{emoji}: on a message now asks its author whether to make it a lesson."
CHECK_FAILED = "Slack did not say in time whether you may change this; try again."
LOADING_FAILED = "The settings could not be loaded (reference {reference}). Try again."


def loading_modal(external_id: str) -> dict[str, Any]:
    return notice_modal(":hourglass_flowing_sand: One moment…", TITLE, external_id=external_id)


KUDOS_SHOWN = (
    "Kudos: :{emoji}: (`{emoji}`) on a message, or in a message with mentions, gives kudos; "
    "each member may give {allowance} a day; a reason is {reason}."
)


def kudos_line(kudos: KudosSettings) -> str:
    return KUDOS_SHOWN.format(
        emoji=escape(kudos.emoji),
        allowance=kudos.allowance,
        reason="required" if kudos.reason_required else "optional",
    )


def settings_form(idea_reaction: str, kudos: KudosSettings | None = None) -> dict[str, Any]:
    """The form for an admin, prefilled with the current settings (plain text: shown as typed)."""
    kudos = kudos or KudosSettings()
    return {
        "type": "modal",
        "callback_id": ids.SETTINGS_VIEW,
        "title": plain(TITLE),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": [
            text_input(
                ids.IDEA_REACTION_BLOCK,
                ids.IDEA_REACTION_ACTION,
                "Idea reaction",
                idea_reaction,
                max_length=MAX_EMOJI + 2,
                hint="An emoji name, like bulb or star: given to a message, it asks the "
                "message's author whether to make it a lesson.",
            ),
            text_input(
                ids.KUDOS_EMOJI_BLOCK,
                ids.FIELD_ACTION,
                "Kudos emoji",
                kudos.emoji,
                max_length=MAX_EMOJI + 2,
                hint="An emoji name, like doughnut or tada: as a reaction, or in a message "
                "with mentions, it gives kudos.",
            ),
            text_input(
                ids.KUDOS_ALLOWANCE_BLOCK,
                ids.FIELD_ACTION,
                "Kudos each member may give a day",
                str(kudos.allowance),
                max_length=2,
                hint="From 1 to 50; the day is the giver's own.",
            ),
            select_input(
                ids.KUDOS_REASON_BLOCK,
                ids.FIELD_ACTION,
                "A reason with each kudos",
                [(ids.REASON_REQUIRED, "Required"), (ids.REASON_OPTIONAL, "Optional")],
                selected=ids.REASON_REQUIRED if kudos.reason_required else ids.REASON_OPTIONAL,
            ),
            context("Only workspace admins and owners can change these."),
        ],
    }


def read_only(idea_reaction: str, kudos: KudosSettings | None = None) -> dict[str, Any]:
    text = ONLY_ADMINS.format(emoji=escape(idea_reaction))
    return notice_modal(f"{text}\n{kudos_line(kudos or KudosSettings())}", TITLE)


def saved(idea_reaction: str, kudos: KudosSettings | None = None) -> dict[str, Any]:
    text = SAVED.format(emoji=escape(idea_reaction))
    return notice_modal(f"{text}\n{kudos_line(kudos or KudosSettings())}", TITLE)
