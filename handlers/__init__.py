"""Slack listeners, one module per capability, each wired by its `register`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from handlers import community, help, home, installation
from handlers.commands import Subcommands


def register_all(app: AsyncApp, deps: Deps) -> None:
    subcommands = Subcommands()
    # Bolt tries listeners in order; the command, the most latency-sensitive, goes first.
    subcommands.register(app)
    help.register(app, deps, subcommands)
    community.register(app, deps, subcommands)
    home.register(app, deps)
    installation.register(app, deps)
