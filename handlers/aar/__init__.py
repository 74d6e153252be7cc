"""After Action Reviews: `/doughnut aar` runs the four questions in a channel's thread, hears the
replies, and sums them up with a button that turns them into a lesson."""

from __future__ import annotations

from typing import Any

from bot.registry import Capability, HelpEntry, Registry
from handlers.aar import ids, listeners


def register(app: Any, registry: Registry) -> None:
    registry.subcommands.add(ids.AAR_SUBCOMMAND, listeners.aar_command)
    registry.help.append(
        HelpEntry(
            "`/doughnut aar [project] [in 2h|tomorrow 10:00] [for 48h]`",
            "an After Action Review in this channel: the four questions in a thread, then a "
            "summary to turn into a lesson",
        )
    )
    app.action(ids.TURN_INTO_LESSON_ACTION)(listeners.turn_into_lesson)
    # Only replies in an open run's thread: other channel messages go on to other listeners.
    for channel_type in ("channel", "group"):
        app.event(
            {"type": "message", "channel_type": channel_type},
            matchers=[listeners.in_aar_thread],
        )(listeners.collect_reply)
    registry.jobs.every_tick("After Action Reviews", listeners.run_due)


CAPABILITY = Capability(
    name="aar",
    register=register,
    scopes=(
        "channels:join",  # joins a public channel to hear its AAR thread's replies
        "channels:read",  # what the channel is (conversations.info) before scheduling
        "groups:read",  # the same for a private channel the bot is in
        "channels:history",  # message.channels: replies in an AAR thread
        "groups:history",  # message.groups: the same in a private channel
    ),
    events=("message.channels", "message.groups"),
)
