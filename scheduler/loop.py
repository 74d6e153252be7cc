"""`Scheduler.tick(now)`: run every job that is due at `now` (the injected clock's time).

The real loop (APScheduler on the leader) and the shell both call `tick`, so tests and the
shell can move time forward. Jobs arrive with the digest and prompt features.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    is_due: Callable[[datetime, datetime | None], bool]  # (now, last run) -> due?
    run: Callable[[datetime], Awaitable[None]]


class Scheduler:
    def __init__(self, jobs: list[Job] | None = None) -> None:
        self.jobs = list(jobs or [])
        self._last_run: dict[str, datetime] = {}

    async def tick(self, now: datetime) -> list[str]:
        """Run the jobs due at `now`; returns their names. A failing job is logged, not fatal."""
        ran: list[str] = []
        for job in self.jobs:
            if not job.is_due(now, self._last_run.get(job.name)):
                continue
            try:
                await job.run(now)
            except Exception:
                log.exception("scheduled job %s failed at %s", job.name, now.isoformat())
                continue
            self._last_run[job.name] = now
            ran.append(job.name)
        return ran


async def run_scheduler(
    scheduler: Scheduler, now: Callable[[], datetime], stop: asyncio.Event, interval: float = 30
) -> None:
    """The leader's loop: tick every `interval` seconds until `stop` is set."""
    while not stop.is_set():
        await scheduler.tick(now())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
