"""The services a request or a job needs, passed in (never imported as globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slack_sdk.web.async_client import AsyncWebClient

from bot.after_ack import AfterAck
from bot.clock import Clock
from bot.metrics import Metrics
from bot.settings import Settings
from bot.tenancy import Installation
from storage.db import Database

if TYPE_CHECKING:
    from bot.installations import Installations


@dataclass
class Deps:
    settings: Settings
    db: Database
    clock: Clock
    client: AsyncWebClient
    metrics: Metrics
    # The outbox's own client: a longer timeout than the inline one, its own connection pool.
    outbox_client: AsyncWebClient
    # The workspace the bot token serves (from auth.test at start); None only before it is known.
    installation: Installation | None = None
    # OAuth installs into many workspaces: the store says who is served, with which token.
    installations: Installations | None = None
    # Called after a transaction that wrote deliveries commits (wakes the outbox sender).
    outbox_wakers: list[Callable[[], None]] = field(default_factory=list)
    # Work a request hands off to finish after its ack (filling a modal); shutdown drains it.
    after_ack: AfterAck = field(default_factory=AfterAck)

    def wake_outbox(self) -> None:
        for wake in self.outbox_wakers:
            wake()
