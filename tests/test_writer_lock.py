"""The SQLite writer lock under a burst: a turn handed over as its waiter times out is passed on."""

from __future__ import annotations

import asyncio
import time

import pytest

from storage.sqlite import WriterBusy, WriterLock


async def test_a_turn_handed_over_as_its_waiter_times_out_is_passed_on() -> None:
    lock = WriterLock()
    await lock.acquire(1.0, urgent=True)
    loop = asyncio.get_running_loop()
    waiter = asyncio.create_task(lock.acquire(0.05, urgent=True))
    await asyncio.sleep(0)  # queued, its timeout armed
    # The holder lets go just before the waiter's time runs out, and both come due in the same
    # pass of the loop (a busy loop under a burst): the hand-over, then the timeout.
    loop.call_at(loop.time() + 0.04, lock.release)
    time.sleep(0.1)  # noqa: ASYNC251 - the busy loop, on purpose
    with pytest.raises(WriterBusy):
        await waiter
    # Nobody holds the lock now: the next writer gets it at once.
    await lock.acquire(0.05, urgent=False)
    lock.release()


async def test_background_writers_are_paced_while_requests_come_and_requests_never_wait() -> None:
    now = [100.0]
    lock = WriterLock(background_gap=3600.0, busy_window=10.0, clock=lambda: now[0])
    await lock.acquire(1.0, urgent=True)  # a request writes
    lock.release()
    await lock.acquire(1.0, urgent=False)  # the outbox's first write goes at once
    lock.release()
    # A burst is on: the outbox's next write waits its turn (here, past its own bound)...
    with pytest.raises(WriterBusy):
        await lock.acquire(0.05, urgent=False)
    # ...while a request is never held back by that pacing.
    await lock.acquire(0.05, urgent=True)
    lock.release()
    # The burst is over: the outbox writes at once again.
    now[0] += 11.0
    await lock.acquire(0.05, urgent=False)
    lock.release()
