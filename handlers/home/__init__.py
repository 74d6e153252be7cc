"""The Home tab (chassis): capabilities add sections and quick actions through the registry."""

from __future__ import annotations

from typing import Any

from bot.registry import Capability, Registry
from handlers.home.listeners import HomeTab


def register(app: Any, registry: Registry) -> None:
    app.event("app_home_opened")(HomeTab(registry).opened)


CAPABILITY = Capability(name="home", register=register, events=("app_home_opened",))
