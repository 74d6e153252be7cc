"""The shell's clock, which `:time` moves forward, and how `:time` reads a moment."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.clock import Clock


class ShellClock:
    """Wall time plus an offset that `:time` moves (the domain's time, not the wire's)."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def set(self, moment: datetime) -> None:
        self._offset = moment - datetime.now(UTC)

    def advance(self, delta: timedelta) -> datetime:
        self._offset += delta
        return self.now()


class MovableClock(Clock, Protocol):
    def set(self, moment: datetime) -> None: ...

    def advance(self, delta: timedelta) -> datetime: ...


_DELTA = re.compile(r"(\d+)\s*([wdhm])")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}


def parse_time(arg: str, now: datetime) -> datetime:
    """`+2d`, `+1d3h`, `+90m`, `2026-12-04 15:00` (UTC) or ISO with an offset; ValueError else."""
    arg = arg.strip()
    if arg.startswith("+"):
        body = arg[1:].replace(" ", "")
        parts = _DELTA.findall(body)
        if not parts or "".join(n + u for n, u in parts) != body:
            raise ValueError(f"can't read {arg!r}: use +30m, +3h, +2d or +1w")
        delta = timedelta(**{_UNITS[u]: 0 for u in _UNITS})
        for number, unit in parts:
            delta += timedelta(**{_UNITS[unit]: int(number)})
        return now + delta
    try:
        moment = datetime.fromisoformat(arg.replace(" ", "T", 1) if " " in arg else arg)
    except ValueError:
        raise ValueError(f"can't read {arg!r}: use +2d or 2026-12-04 15:00") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
