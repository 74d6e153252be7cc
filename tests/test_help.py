"""`/doughnut help` over the wire: signed, ephemeral, in the ack."""

from __future__ import annotations

from tests.conftest import Bot


async def test_help_is_an_ephemeral_overview_in_the_ack(bot: Bot) -> None:
    reply = await bot.driver.command(bot.user("alice"), bot.channel("general"), "/doughnut", "help")

    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    shown = str(reply.json["blocks"])
    for group in ("Capture", "Find", "Assist", "Recognise", "Steer"):
        assert f"*{group}*" in shown
    assert "/doughnut setup" in shown
    assert reply.json["text"].startswith("Doughnut commands:")
    # Nothing was posted to the channel: help concerns only the person who asked.
    assert bot.emu.calls_to("chat.postMessage") == []


async def test_no_subcommand_means_help(bot: Bot) -> None:
    reply = await bot.driver.command(bot.user("bob"), bot.channel("general"), "/doughnut")

    assert reply.json["response_type"] == "ephemeral"
    assert "Steer" in str(reply.json["blocks"])


async def test_unknown_subcommand_gets_help_with_its_name_escaped(bot: Bot) -> None:
    reply = await bot.driver.command(
        bot.user("bob"), bot.channel("general"), "/doughnut", "<!channel>&stuff"
    )

    shown = str(reply.json["blocks"])
    assert "I don't know `&lt;!channel&gt;&amp;stuff` yet" in shown
    assert "<!channel>" not in shown
