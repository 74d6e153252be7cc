"""The shell's terminal side: lines read from a terminal or a script, the console that prints
the transcript, and the log (a file, plus the errors shown after each input)."""

from __future__ import annotations

import contextlib
import io
import logging
import re
import signal
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console
from rich.text import Text

WIDTH = 100

# ---- input -------------------------------------------------------------------------------------


class LineReader(Protocol):
    async def read(self, prompt: str) -> str | None:
        """The next line (without its newline), or None at the end of input."""
        ...


class ScriptReader:
    """Lines from a script; each is echoed after its prompt so the transcript reads well."""

    def __init__(self, lines: Iterable[str], console: Console) -> None:
        self._lines = iter(lines)
        self._console = console

    async def read(self, prompt: str) -> str | None:
        line = next(self._lines, None)
        if line is None:
            return None
        line = line.rstrip("\r\n")
        self._console.print(Text(prompt + line))
        return line


class TerminalReader:
    """Lines typed at a terminal, with readline's line editing and history."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._history = Path.home() / ".doughnut_shell_history"
        try:
            import readline
        except ImportError:  # no readline on this platform: plain input() still works
            self._readline = None
        else:
            self._readline = readline
            with contextlib.suppress(OSError):
                readline.read_history_file(self._history)

    async def read(self, prompt: str) -> str | None:
        # asyncio.run's SIGINT handler would cancel the whole session; at the prompt, Ctrl-C
        # only abandons the line.
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            while True:
                try:
                    # Blocking on purpose: nothing runs until the next input anyway, and the
                    # outbox is drained after each one.
                    return input(prompt)  # noqa: ASYNC250
                except EOFError:
                    self._console.print()
                    return None
                except KeyboardInterrupt:
                    self._console.print("\n(:quit or Ctrl-D to leave)")
        finally:
            signal.signal(signal.SIGINT, previous)

    def close(self) -> None:
        if self._readline is not None:
            with contextlib.suppress(OSError):
                self._readline.write_history_file(self._history)


# ---- output ------------------------------------------------------------------------------------


_TRAILING_SPACES = re.compile(r"[ \t]+\n")


class _PlainWriter(io.TextIOBase):
    """Plain transcripts without the spaces Rich pads lines with."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def write(self, text: str) -> int:
        self._target.write(_TRAILING_SPACES.sub("\n", text))
        return len(text)

    def flush(self) -> None:
        self._target.flush()


def make_console(*, plain: bool, file: Any = None, width: int | None = None) -> Console:
    """A colourful console for a terminal; plain text (no colours) for scripts and pipes."""
    if plain:
        return Console(
            file=_PlainWriter(file or sys.stdout),
            no_color=True,
            force_terminal=False,
            highlight=False,
            emoji=False,
            width=width or WIDTH,
            soft_wrap=False,
        )
    return Console(file=file, highlight=False, emoji=False, width=width)


# ---- logs --------------------------------------------------------------------------------------


class ErrorCollector(logging.Handler):
    """Keeps the ERROR records the bot logs, to show them after each input."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def describe_error(error: BaseException) -> str:
    """One line: the exception's type and, for Slack errors, Slack's error code."""
    response = getattr(error, "response", None)
    if response is not None and hasattr(response, "get") and response.get("error"):
        return f"{type(error).__name__}: {response.get('error')}"
    first_line = (str(error).strip().splitlines() or [""])[0][:200]
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


@dataclass
class ShellLogging:
    """The shell's logging: WARNING and above to a file, ERROR also collected for the screen."""

    path: Path
    errors: ErrorCollector = field(default_factory=ErrorCollector)
    file: logging.Handler | None = None
    previous_level: int = logging.WARNING

    def install(self) -> None:
        root = logging.getLogger()
        self.previous_level = root.level
        # Made now, not at the first warning: the banner names this file.
        self.file = logging.FileHandler(self.path, encoding="utf-8")
        self.file.setLevel(logging.WARNING)
        self.file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(self.file)
        root.addHandler(self.errors)
        root.setLevel(logging.WARNING)

    def uninstall(self) -> None:
        root = logging.getLogger()
        root.removeHandler(self.errors)
        if self.file is not None:
            root.removeHandler(self.file)
            self.file.close()
        root.setLevel(self.previous_level)
