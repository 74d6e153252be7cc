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
