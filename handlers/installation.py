"""`app_uninstalled` / `tokens_revoked` (chassis): remember that the workspace left."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncBoltContext

from bot.registry import Capability, Registry
from bot.unit_of_work import UnitOfWork
from storage.workspaces import mark_uninstalled


async def uninstalled(context: AsyncBoltContext) -> None:
    uow: UnitOfWork = context["uow"]
    await mark_uninstalled(await uow.session(), uow.install_key, context["deps"].clock.now())


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
