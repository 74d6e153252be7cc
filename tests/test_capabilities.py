"""A capability lands in files of its own and registers itself: subcommands, help, Home, jobs."""

from __future__ import annotations

from typing import Any

import pytest

import handlers
from bot.blocks import context, ephemeral, section, truncated
from bot.core.communities import SetupForm, apply_setup
from bot.registry import Capability, HelpEntry, HomeSection, HomeViewer, QuickAction, Registry
from handlers.home.views import HOME_MAX_BLOCKS
from scheduler import Schedule
from storage.workspaces import get_or_create_workspace
from tests.conftest import Bot

PING_SECTION_LINES = 500


async def ping(ack: Any, args: str = "", **_: Any) -> None:
    await ack(**ephemeral(f"pong {args}".strip()))


async def ping_section(uow: Any, viewer: HomeViewer, room: int) -> list[dict[str, Any]]:
    lines = [section(f"ping {n}") for n in range(PING_SECTION_LINES)]
    return [section("*Pings*"), *truncated(lines, room - 1)]


async def nothing(*_: Any) -> None:
    return None


def register_pings(app: Any, registry: Registry) -> None:
    registry.subcommands.add("ping", ping)
    registry.help.append(HelpEntry("`/doughnut ping`", "answers pong"))
    registry.quick_actions.append(QuickAction("Ping", "home_ping"))
    registry.home_sections.append(HomeSection("pings", "ping the bot", ping_section))
    registry.jobs.job("ping-digest", "Ping digest", Schedule(hour=9))(nothing)


# Named like a roadmap capability: help stops calling digests "coming later" once it registers.
PINGS = Capability(name="digests", register=register_pings, scopes=("reactions:read",))


@pytest.fixture
def with_pings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handlers, "CAPABILITIES", (*handlers.CAPABILITIES, PINGS))


async def test_a_new_capability_is_served_helped_shown_and_scheduled(with_pings, bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")

    pong = await bot.driver.command(alice, general, "/doughnut", "ping twice")
    helped = await bot.driver.command(alice, general, "/doughnut", "help")
    await bot.driver.open_home(alice)
    await bot.settle()

    assert pong.json == {"response_type": "ephemeral", "text": "pong twice"}
    shown = str(helped.json["blocks"])
    assert "• `/doughnut ping`: answers pong" in shown
    assert "• `/doughnut setup`" in shown
    # The last roadmap item is registered now: nothing is "coming later" any more.
    assert "Not built yet" not in shown and "Not built yet" not in helped.json["text"]
    home = bot.state.home_views[alice]["blocks"]
    assert len(home) <= HOME_MAX_BLOCKS
    text = str(home)
    assert "*Your communities*" in text and "*Pings*" in text  # both sections got room
    assert "ping the bot" in text
    pings = sum(1 for b in home if b.get("text", {}).get("text", "").startswith("ping "))
    assert 0 < pings < PING_SECTION_LINES
    assert home[-1] == context(f"_and {PING_SECTION_LINES - pings} more_")
    actions = [e["action_id"] for b in home if b["type"] == "actions" for e in b["elements"]]
    assert actions == ["home_help", "home_setup_community", "home_capture_lesson", "home_ping"]
    assert "ping-digest" in [job.name for job in bot.app.registry.jobs]
    assert "housekeeping" in [job.name for job in bot.app.registry.jobs]
    assert "reactions:read" in bot.app.registry.scopes


async def test_a_capability_must_declare_the_events_it_listens_to(bot: Bot) -> None:
    def listens(app: Any, registry: Registry) -> None:
        app.event("channel_rename")(nothing)

    sneaky = Capability(name="sneaky", register=listens)
    with pytest.raises(ValueError, match="sneaky"):
        handlers.register_all(bot.app, (sneaky,))
    declared = Capability(name="declared", register=nothing_registered, events=("pin_added",))
    with pytest.raises(ValueError, match="declared"):
        handlers.register_all(bot.app, (declared,))


def nothing_registered(app: Any, registry: Registry) -> None:
    return None


async def test_many_communities_fit_the_home_tab_with_and_n_more(bot: Bot) -> None:
    alice = bot.user("alice")
    async with bot.db.transaction() as session:
        workspace = await get_or_create_workspace(
            session, key=bot.state.team_id, team_id=bot.state.team_id, enterprise_id=None,
            is_enterprise_install=False, now=bot.clock.now(),
        )  # fmt: skip
        for n in range(70):
            form = SetupForm(f"Community {n:02d}", "", "UTC", coordinators=[alice])
            apply_setup(
                session, None, workspace_id=workspace.id, channel_id=f"C0MANY{n:02d}",
                is_private=False, form=form, by_user=alice, now=bot.clock.now(),
            )  # fmt: skip

    await bot.driver.open_home(alice)
    await bot.settle()

    home = bot.state.home_views[alice]["blocks"]
    assert len(home) <= HOME_MAX_BLOCKS
    text = str(home)
    assert "*Community 00*" in text and "you are coordinator" in text
    assert "*Community 69*" not in text
    # The book's section follows the communities' (which end with "and N more").
    assert any(b["type"] == "context" and "more_" in b["elements"][0]["text"] for b in home)
    shown = text.count("you are coordinator")
    assert f"_and {70 - shown} more_" in text
