"""The book of knowledge: `/lessons` search with pages, the review buttons and their notes,
"I used this", and Publish for private-channel lessons."""

from __future__ import annotations

from typing import Any

from bot.registry import Capability, HelpEntry, HomeSection, Registry
from handlers.book import ids, listeners, views
from handlers.home.listeners import HomeTab


def register(app: Any, registry: Registry) -> None:
    registry.help += [
        HelpEntry(
            "`/lessons [words]`",
            "search the book of knowledge (`#tag`, `status:validated`, `by:@ana`, `in:#channel`); "
            "on its own: recent validated practices and the most reused lessons",
        ),
        HelpEntry("`@Doughnut` and a question", "the best matching practices, and who knows"),
    ]
    registry.home_sections.append(HomeSection("book", views.HOME_INTRO, listeners.home_section))
    app.command(ids.LESSONS_COMMAND)(listeners.lessons_command)
    app.action(ids.MORE_ACTION)(listeners.more)
    for action_id in ids.REVIEW_ACTIONS:
        app.action(action_id)(listeners.open_review)
    decisions = listeners.Decisions(HomeTab(registry))
    app.view_submission(ids.REVIEW_VIEW)(decisions.submit_review)
    app.action(ids.USED_ACTION)(listeners.open_used)
    app.view_submission(ids.USED_VIEW)(decisions.submit_used)
    app.view_submission(ids.UNUSE_VIEW)(decisions.submit_unuse)
    app.action(ids.PUBLISH_ACTION)(decisions.publish)
    app.event("app_mention")(listeners.Mentions().answer)


CAPABILITY = Capability(
    name="book",
    register=register,
    scopes=("commands", "chat:write", "app_mentions:read"),
    events=("app_mention",),
)
