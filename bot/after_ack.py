"""Work a request hands off so its ack is not held up: tracked, so shutdown waits, never silent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from bot.failures import new_reference

log = logging.getLogger("doughnut.after_ack")


class AfterAck:
    """A task group for work that finishes after the ack (e.g. filling a modal already open).

    Unlike Bolt's lazy listeners, the work gets no copy of the request: it holds what it needs
    (deps, ids), opens its own database reads, and shows its own errors to the person. It starts
    at once, alongside the ack, so hand off only work that needs nothing the request writes.
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def hand_off(self, work: Coroutine[Any, Any, None], *, what: str) -> None:
        """Run `work` without making the request wait for it."""
        task = asyncio.get_running_loop().create_task(self._run(work, what), name=what)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, work: Coroutine[Any, Any, None], what: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            # The work shows its own errors; this is the last resort, so the log has it.
            reference = new_reference()
            log.exception("work after the ack failed (what=%s, reference=%s)", what, reference)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def idle(self) -> None:
        """Until no handed-off work is left (work may hand off more)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))  # wait, unlike gather, never cancels the work

    async def drain(self, grace: float) -> None:
        """At shutdown: let the work finish for up to `grace` seconds, then cancel the rest."""
        if not self._tasks:
            return
        try:
            await asyncio.wait_for(self.idle(), grace)
        except TimeoutError:
            left = list(self._tasks)
            log.warning("stopping %d piece(s) of work after the ack unfinished", len(left))
            for task in left:
                task.cancel()
            if left:
                await asyncio.wait(left)
