"""What a capability registers: subcommands, help entries, Home sections, jobs, scopes, events.

Each capability is one `Capability`; `handlers/__init__.py` lists them, and each `register`
adds its listeners to the app and its pieces to the one `Registry`. Help, the Home tab, the
scheduler and the manifest test are built from the registry, so they show what is registered,
nothing more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.blocks import Block
from scheduler.jobs import core_jobs
from scheduler.registry import Jobs

if TYPE_CHECKING:
    from bot.unit_of_work import UnitOfWork

# A `/doughnut <word>` handler: Bolt's `ack`, `body`, `client`, `context`, and `args` (the rest).
Subcommand = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class Capability:
    """One capability: how it registers itself, and the bot scopes and events it needs."""

    name: str
    register: Callable[[Any, Registry], None] | None = None
    scopes: tuple[str, ...] = ()
    events: tuple[str, ...] = ()


class Subcommands:
    """`/doughnut <word>`: the first word picks the handler; `fallback` takes the others."""

    def __init__(self) -> None:
        self._handlers: dict[str, Subcommand] = {}
        self.fallback: Subcommand | None = None

    def add(self, name: str, handler: Subcommand) -> None:
        if name in self._handlers:
            raise ValueError(f"subcommand {name!r} registered twice")
        self._handlers[name] = handler

    def get(self, name: str) -> Subcommand | None:
        return self._handlers.get(name)

    @property
    def names(self) -> list[str]:
        return sorted(self._handlers)


@dataclass(frozen=True)
class HelpEntry:
    """One line of help: where (a command, a tab) and what it does (mrkdwn)."""

    where: str
    what: str


@dataclass(frozen=True)
class QuickAction:
    """A button at the top of the Home tab."""

    label: str
    action_id: str
    style: str | None = None


@dataclass(frozen=True)
class HomeViewer:
    """Whose Home tab is built, and the channels Slack says they are in (read before the ack)."""

    user_id: str
    member_of: frozenset[str]


# (unit of work, viewer, the most blocks it may return) -> its blocks
HomeBuild = Callable[["UnitOfWork", HomeViewer, int], Awaitable[list[Block]]]


@dataclass(frozen=True)
class HomeSection:
    """A capability's part of the Home tab; `intro` joins the tab's opening sentence."""

    name: str
    intro: str
    build: HomeBuild


# The rest of the loop, in the product's words, and the capability that brings each: help and
# Home say "coming later" about those not registered yet (so they name no command).
ROADMAP: tuple[tuple[str, str], ...] = (
    ("lessons", "capturing lessons and After Action Reviews"),
    ("book", "a searchable book of knowledge"),
    ("peer_assists", "peer assists"),
    ("kudos", "kudos"),
    ("book", "answers to questions asked with @Doughnut"),
    ("gaps", "knowledge gaps and proposals to sponsors"),
    ("digests", "recognition and sponsor digests"),
)


@dataclass
class Registry:
    """Everything the registered capabilities added, in registration order."""

    subcommands: Subcommands = field(default_factory=Subcommands)
    help: list[HelpEntry] = field(default_factory=list)
    quick_actions: list[QuickAction] = field(default_factory=list)
    home_sections: list[HomeSection] = field(default_factory=list)
    jobs: Jobs = field(default_factory=core_jobs)
    capabilities: list[Capability] = field(default_factory=list)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(c.name for c in self.capabilities)

    @property
    def coming(self) -> tuple[str, ...]:
        """What the roadmap promises that no registered capability does yet."""
        return tuple(what for name, what in ROADMAP if name not in self.names)

    @property
    def coming_text(self) -> str:
        """One plain sentence about what is not built yet; empty once everything is."""
        return f"Not built yet, coming later: {', '.join(self.coming)}." if self.coming else ""

    @property
    def scopes(self) -> frozenset[str]:
        """The bot scopes the manifest must ask for: what each capability declared."""
        return frozenset(s for c in self.capabilities for s in c.scopes)

    @property
    def events(self) -> frozenset[str]:
        """The bot events the manifest must subscribe to."""
        return frozenset(e for c in self.capabilities for e in c.events)
