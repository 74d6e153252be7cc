"""Capturing lessons: `/lesson`, the After Action Review modal, the Save as lesson and Capture a
lesson shortcuts. The book (search, review, reuse) is `handlers/book`."""

from __future__ import annotations

from typing import Any

from bot.registry import Capability, HelpEntry, QuickAction, Registry
from handlers.lessons import ids, listeners


def register(app: Any, registry: Registry) -> None:
    registry.help += [
        HelpEntry(
            "`/lesson`",
            "capture a lesson: alone for the After Action Review form, or "
            "`/lesson what we will do next time #tags` at once",
        ),
        HelpEntry("*Save as lesson*", "on a message's menu: a lesson from what was said"),
        HelpEntry("*Capture a lesson*", "in the shortcuts menu: the form, from anywhere"),
        HelpEntry(
            ":bulb: on a message",
            "asks its author whether to make it a lesson (`/doughnut settings` picks the emoji)",
        ),
    ]
    registry.quick_actions.append(QuickAction("Capture a lesson", ids.HOME_CAPTURE_ACTION))
    app.command(ids.LESSON_COMMAND)(listeners.lesson_command)
    app.shortcut(ids.SAVE_AS_LESSON_SHORTCUT)(listeners.save_as_lesson)
    app.shortcut(ids.CAPTURE_SHORTCUT)(listeners.capture_shortcut)
    app.action(ids.HOME_CAPTURE_ACTION)(listeners.capture_shortcut)  # the same form, from Home
    app.action(ids.UNDO_ACTION)(listeners.undo_clicked)
    app.action(ids.ADD_DETAILS_ACTION)(listeners.add_details_clicked)
    app.view_submission(ids.LESSON_VIEW)(listeners.submit_lesson)
    app.action(ids.NOMINATION_ACTION)(listeners.nomination_clicked)
    # Only the idea reaction: other reactions go on to other listeners (kudos).
    app.event("reaction_added", matchers=[listeners.is_idea_reaction])(listeners.idea_reaction)


CAPABILITY = Capability(
    name="lessons",
    register=register,
    scopes=(
        "commands",  # /lesson
        "channels:read",  # what a lesson's channel is (conversations.info): public or private
        "groups:read",  # the same for private channels the bot is in
        "users:read",  # the names of the people a saved message mentions
        "im:read",  # the same for a DM (a lesson from it stays in it until published)
        "mpim:read",  # the same for a group DM
        "reactions:read",  # reaction_added: the idea reaction nominates a message
    ),
    events=("reaction_added",),
)
