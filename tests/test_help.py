"""Honest surfaces over the wire: `/doughnut help`, and what the app promises in its manifest."""

from __future__ import annotations

import re
from pathlib import Path

from bot.manifest import load_manifest
from tests.conftest import Bot

README = Path(__file__).resolve().parent.parent / "README.md"
# Commands of capabilities that are not built yet: no surface may offer them.
NOT_BUILT: tuple[str, ...] = ()


def offers(shown: str, command: str) -> bool:
    return re.search(re.escape(command) + r"(?![\w-])", shown) is not None


async def test_help_is_an_ephemeral_overview_in_the_ack(bot: Bot) -> None:
    reply = await bot.driver.command(bot.user("alice"), bot.channel("general"), "/doughnut", "help")

    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    shown = str(reply.json["blocks"])
    assert "*What works today*" in shown
    assert "`/doughnut setup`: make this channel a community of practice" in shown
    # Everything on the roadmap is built (the digests last): nothing is promised for later.
    assert "Not built yet" not in shown
    assert "`/doughnut digest`: previews this week's recognition digest" in shown
    assert "`/doughnut gap &lt;question&gt; #tags`" in shown
    assert reply.json["text"].startswith("Doughnut today: `/doughnut setup`")
    assert "Not built yet" not in reply.json["text"]
    # Nothing was posted to the channel: help concerns only the person who asked.
    assert bot.emu.calls_to("chat.postMessage") == []


async def test_help_offers_no_command_that_does_not_exist(bot: Bot) -> None:
    reply = await bot.driver.command(bot.user("alice"), bot.channel("general"), "/doughnut")
    await bot.driver.open_home(bot.user("alice"))
    await bot.settle()
    home = str(bot.state.home_views[bot.user("alice")]["blocks"])

    for shown in (str(reply.json["blocks"]), reply.json["text"], home):
        assert [c for c in NOT_BUILT if offers(shown, c)] == []
    assert "Not built yet" not in home
    assert "`/doughnut setup`" in home


async def test_no_subcommand_means_help(bot: Bot) -> None:
    reply = await bot.driver.command(bot.user("bob"), bot.channel("general"), "/doughnut")

    assert reply.json["response_type"] == "ephemeral"
    assert "*What works today*" in str(reply.json["blocks"])


async def test_unknown_subcommand_gets_help_with_its_name_escaped(bot: Bot) -> None:
    reply = await bot.driver.command(
        bot.user("bob"), bot.channel("general"), "/doughnut", "<!channel>&stuff"
    )

    shown = str(reply.json["blocks"])
    assert "I don't know `&lt;!channel&gt;&amp;stuff` yet" in shown
    assert "<!channel>" not in shown
    assert "<!channel>" not in reply.json["text"]


def test_the_manifest_promises_only_what_is_built() -> None:
    info = load_manifest()["display_information"]
    commands = load_manifest()["features"]["slash_commands"]

    for text in (info["description"], info["long_description"], str(commands)):
        assert [c for c in NOT_BUILT if offers(text, c)] == []
    # Everything on the roadmap is built: nothing is announced as coming any more.
    assert "coming" not in info["description"] + info["long_description"]


def readme_scopes() -> dict[str, str]:
    """The README's "Scopes and why" table: scope → reason."""
    section = README.read_text(encoding="utf-8").split("## Scopes and why", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_.:]+)` \| (.+?) \|$", section, re.MULTILINE)
    return dict(rows)


def test_the_readme_gives_a_reason_for_every_scope_the_manifest_asks_for() -> None:
    asked = load_manifest()["oauth_config"]["scopes"]["bot"]
    explained = readme_scopes()

    assert sorted(explained) == sorted(asked)
    assert all(len(reason) > 20 for reason in explained.values())


def test_the_manifest_asks_for_the_history_the_outbox_recovery_reads() -> None:
    asked = set(load_manifest()["oauth_config"]["scopes"]["bot"])

    # Recovery reads conversations.history/replies where it posts: channels, private, DMs,
    # and group DMs (a mention there is answered in its thread); message.im needs im:history.
    assert {"channels:history", "groups:history", "im:history", "mpim:history"} <= asked
    # Nothing yet reads the team.
    assert "team:read" not in asked
