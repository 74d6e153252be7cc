"""The services a request or a job needs, passed in (never imported as globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.metrics import Metrics
from bot.settings import Settings
from storage.db import Database


@dataclass
class Deps:
    settings: Settings
    db: Database
    clock: Clock
    client: AsyncWebClient
    metrics: Metrics
    # Called after a transaction that wrote deliveries commits (wakes the outbox sender).
    outbox_wakers: list[Callable[[], None]] = field(default_factory=list)

    def wake_outbox(self) -> None:
        for wake in self.outbox_wakers:
            wake()
