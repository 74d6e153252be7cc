"""The jobs the leader's scheduler runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from scheduler.loop import Job, Scheduler
from storage.db import Database
from storage.workspaces import prune_processed_events

log = logging.getLogger(__name__)

# Slack retries an event for about an hour; a day of ids is plenty to catch every duplicate.
EVENT_ID_RETENTION = timedelta(days=1)
PRUNE_EVERY = timedelta(hours=1)
PRUNE_EVENTS = "Housekeeping"


def every(period: timedelta) -> Callable[[datetime, datetime | None], bool]:
    """Due at the first tick, then once `period` has passed since the last run."""

    def is_due(now: datetime, last: datetime | None) -> bool:
        return last is None or now - last >= period

    return is_due


def build_scheduler(db: Database) -> Scheduler:
    """The product's scheduler: the same jobs for `doughnut run` and the shell."""

    async def prune_events(now: datetime) -> None:
        async with db.transaction() as session:
            forgotten = await prune_processed_events(session, now - EVENT_ID_RETENTION)
        if forgotten:
            log.info("forgot %d handled event ids older than %s", forgotten, EVENT_ID_RETENTION)

    return Scheduler([Job(PRUNE_EVENTS, every(PRUNE_EVERY), prune_events)])
