"""Workspace settings: pure Block Kit builders."""

from __future__ import annotations

from typing import Any

from bot.blocks import context, notice_modal, plain, text_input
from bot.core.settings import MAX_EMOJI
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


def settings_form(idea_reaction: str) -> dict[str, Any]:
    """The form for an admin, prefilled with the current setting (plain text: shown as typed)."""
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
            context("Only workspace admins and owners can change these."),
        ],
    }


def read_only(idea_reaction: str) -> dict[str, Any]:
    return notice_modal(ONLY_ADMINS.format(emoji=escape(idea_reaction)), TITLE)


def saved(idea_reaction: str) -> dict[str, Any]:
    return notice_modal(SAVED.format(emoji=escape(idea_reaction)), TITLE)
