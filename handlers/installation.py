"""`app_uninstalled` / `tokens_revoked`: the installation ends (bot.installations.uninstall)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.deps import Deps
from bot.installations import uninstall


async def uninstalled(context: AsyncBoltContext) -> None:
    await uninstall(context["uow"], context["deps"])


async def tokens_revoked(event: dict, context: AsyncBoltContext) -> None:
    # Only the bot token matters to Doughnut; revoked user tokens change nothing.
    if (event.get("tokens") or {}).get("bot"):
        await uninstalled(context)


def register(app: AsyncApp, deps: Deps) -> None:
    app.event("app_uninstalled")(uninstalled)
    app.event("tokens_revoked")(tokens_revoked)
