"""Slack listeners: the chassis, then each capability in its own package, wired by `register`."""

from __future__ import annotations

from bot.registry import Capability, Registry
from handlers import (
    aar,
    assists,
    book,
    commands,
    communities,
    digests,
    gaps,
    health,
    help,
    home,
    installation,
    kudos,
    lessons,
    members,
    profile,
    roles,
    settings,
)

# The outbox sends every post and, after a crash, reads a conversation's recent history before
# posting again (DMs are opened to be read).
OUTBOX = Capability(
    name="outbox",
    scopes=(
        "chat:write",
        "im:write",
        "channels:history",
        "groups:history",
        "im:history",
        "mpim:history",
    ),
)
# The `/doughnut` command goes first: Bolt tries listeners in order, and it is the most
# latency-sensitive.
CHASSIS: tuple[Capability, ...] = (
    commands.CAPABILITY,
    home.CAPABILITY,
    installation.CAPABILITY,
    OUTBOX,
)
# The capabilities, in the order their help lines, quick actions and Home sections appear.
# A new capability adds one line here.
CAPABILITIES: tuple[Capability, ...] = (
    help.CAPABILITY,
    communities.CAPABILITY,
    # Before the book: its Home section is often empty, and leaves its share to the book's.
    gaps.CAPABILITY,
    lessons.CAPABILITY,
    # Before the book: its one Home line leaves the rest of the tab to the book's lists.
    profile.CAPABILITY,
    book.CAPABILITY,
    members.CAPABILITY,
    kudos.CAPABILITY,
    assists.CAPABILITY,
    settings.CAPABILITY,
    aar.CAPABILITY,
    roles.CAPABILITY,
    health.CAPABILITY,
    digests.CAPABILITY,
)


def register_all(app: object, capabilities: tuple[Capability, ...] | None = None) -> Registry:
    """Register the chassis and the capabilities; each must listen to exactly what it declares."""
    if capabilities is None:
        capabilities = CAPABILITIES
    registry = Registry()
    listened: set[str] = getattr(app, "listened", {}).get("events", set())
    for capability in (*CHASSIS, *capabilities):
        before = set(listened)
        if capability.register is not None:
            capability.register(app, registry)
        registry.capabilities.append(capability)
        declared = set(capability.events)
        if hasattr(app, "listened") and not (listened - before <= declared <= listened):
            raise ValueError(
                f"capability {capability.name!r} declares the events {sorted(declared)} "
                f"but listens to {sorted(listened - before)}"
            )
    return registry
