"""Help: the overview of what the registered capabilities do, and a short answer to DMs and
mentions."""

from __future__ import annotations

from typing import Any

from bot.registry import Capability, QuickAction, Registry
from handlers.help import ids
from handlers.help.listeners import Help


def register(app: Any, registry: Registry) -> None:
    help = Help(registry)
    registry.subcommands.add("help", help.show)
    registry.subcommands.fallback = help.unknown
    registry.quick_actions.append(QuickAction("Help", ids.HOME_HELP_ACTION))
    app.action(ids.HOME_HELP_ACTION)(help.open_modal)
    # `channel_type` makes this the `message.im` subscription: DMs to the app, nothing else.
    app.event({"type": "message", "channel_type": "im"})(help.answer)


CAPABILITY = Capability(
    name="help",
    register=register,
    scopes=(
        "im:history",  # DMs sent to the app (message.im); mentions are the book's (questions)
    ),
    events=("message.im",),
)
