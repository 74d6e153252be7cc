"""`app_uninstalled` / `tokens_revoked` (chassis): the installation ends (bot.core)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncBoltContext

from bot.core.installations import uninstall
from bot.registry import Capability, Registry


async def uninstalled(context: AsyncBoltContext) -> None:
    await uninstall(context["uow"], context["deps"])


async def tokens_revoked(event: dict, context: AsyncBoltContext) -> None:
    # Only the bot token matters to Doughnut; revoked user tokens change nothing.
    if (event.get("tokens") or {}).get("bot"):
        await uninstalled(context)


def register(app: Any, registry: Registry) -> None:
    app.event("app_uninstalled")(uninstalled)
    app.event("tokens_revoked")(tokens_revoked)


CAPABILITY = Capability(
    name="installation",
    register=register,
    events=("app_uninstalled", "tokens_revoked"),
)
