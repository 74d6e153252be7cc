"""`/doughnut settings`: admins and owners pick the workspace's idea reaction; others may not."""

from __future__ import annotations

from typing import Any

from bot.core.settings import BAD_EMOJI
from handlers.settings import ids
from handlers.settings.views import ONLY_ADMINS
from tests.conftest import Bot


def reaction_values(text: str) -> dict[str, Any]:
    return {ids.IDEA_REACTION_BLOCK: {ids.IDEA_REACTION_ACTION: text}}


async def open_settings(bot: Bot, user_id: str) -> dict[str, Any]:
    reply = await bot.driver.command(user_id, bot.channel("general"), "/doughnut", "settings")
    assert reply.status == 200
    await bot.app.deps.after_ack.idle()
    return bot.state.modal_stack(user_id)[-1]


async def nominations_to(bot: Bot, author: str) -> int:
    await bot.settle()
    return len(bot.state.history(bot.state.dm_channel(author).id))


def make_admin(bot: Bot, name: str) -> str:
    user_id = bot.user(name)
    bot.state.users[user_id].is_admin = True
    return user_id


async def test_an_admin_changes_the_idea_reaction(bot: Bot) -> None:
    alice, bob, carol = make_admin(bot, "alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    modal = await open_settings(bot, alice)
    assert "'bulb'" in str(modal["blocks"])  # prefilled with the default
    reply = await bot.driver.view_submission(alice, modal, reaction_values(":star:"))
    assert reply.json["response_action"] == "update"
    assert ":star:" in str(reply.json["view"])

    first, _ = await bot.driver.say(bob, general, "Roll back first, debug later.")
    await bot.driver.react(carol, general, first.ts, "bulb")
    assert await nominations_to(bot, bob) == 0  # :bulb: no longer nominates
    await bot.driver.react(carol, general, first.ts, "star")
    assert await nominations_to(bot, bob) == 1
    [dm] = bot.state.history(bot.state.dm_channel(bob).id)
    assert f"<@{carol}>" in dm.text


async def test_by_default_the_bulb_nominates_and_other_emoji_do_not(bot: Bot) -> None:
    bob, carol, general = bot.user("bob"), bot.user("carol"), bot.channel("general")
    message, _ = await bot.driver.say(bob, general, "Small batches ship faster.")
    await bot.driver.react(carol, general, message.ts, "star")
    assert await nominations_to(bot, bob) == 0
    await bot.driver.react(carol, general, message.ts, "bulb")
    assert await nominations_to(bot, bob) == 1


async def test_someone_not_an_admin_sees_who_may_change_it_and_cannot(bot: Bot) -> None:
    alice, bob, carol = make_admin(bot, "alice"), bot.user("bob"), bot.user("carol")
    admin_form = await open_settings(bot, alice)
    shown = await open_settings(bot, bob)
    assert "admins and owners" in str(shown["blocks"])
    assert not shown.get("submit") and ids.IDEA_REACTION_BLOCK not in str(shown["blocks"])
    # A forged submission (the admin's form, sent as Bob) is refused when Slack says who he is.
    reply = await bot.driver.view_submission(bob, admin_form, reaction_values("star"))
    assert reply.json["response_action"] == "update"
    assert ONLY_ADMINS.split(".")[0] in str(reply.json["view"])

    general = bot.channel("general")
    message, _ = await bot.driver.say(bob, general, "Write the runbook before the outage.")
    await bot.driver.react(carol, general, message.ts, "star")
    assert await nominations_to(bot, bob) == 0  # nothing changed
    await bot.driver.react(carol, general, message.ts, "bulb")
    assert await nominations_to(bot, bob) == 1


async def test_a_bad_emoji_gets_a_field_error_and_changes_nothing(bot: Bot) -> None:
    alice, bob, carol = make_admin(bot, "alice"), bot.user("bob"), bot.user("carol")
    modal = await open_settings(bot, alice)
    for bad in ("", "star struck", "x" * 101, "🙂", "::"):
        reply = await bot.driver.view_submission(alice, modal, reaction_values(bad))
        assert reply.json == {
            "response_action": "errors",
            "errors": {ids.IDEA_REACTION_BLOCK: BAD_EMOJI},
        }, bad
    general = bot.channel("general")
    message, _ = await bot.driver.say(bob, general, "Pair on the risky change.")
    await bot.driver.react(carol, general, message.ts, "bulb")
    assert await nominations_to(bot, bob) == 1


async def test_hostile_text_in_the_field_is_never_echoed(bot: Bot) -> None:
    alice = make_admin(bot, "alice")
    modal = await open_settings(bot, alice)
    hostile = "<!channel> <@U123> <https://evil|click> & co"
    reply = await bot.driver.view_submission(alice, modal, reaction_values(hostile))
    assert reply.json["response_action"] == "errors"
    shown = str(reply.json)
    for raw in ("<!channel>", "<@U123>", "<https://evil|click>", "evil"):
        assert raw not in shown
    reopened = await open_settings(bot, alice)
    assert "evil" not in str(reopened) and "'bulb'" in str(reopened["blocks"])


async def test_settings_takes_no_words(bot: Bot) -> None:
    alice = make_admin(bot, "alice")
    reply = await bot.driver.command(alice, bot.channel("general"), "/doughnut", "settings now")
    assert "takes no words" in str(reply.json)
    assert bot.state.modal_stack(alice) == []


async def test_when_slack_cannot_say_who_is_an_admin_nothing_changes(bot: Bot) -> None:
    alice, bob, carol = make_admin(bot, "alice"), bot.user("bob"), bot.user("carol")
    modal = await open_settings(bot, alice)
    bot.emu.fail("users.info", error="internal_error", status=500, times=10)
    reply = await bot.driver.view_submission(alice, modal, reaction_values("star"))
    assert reply.json["response_action"] == "errors"
    assert "try again" in reply.json["errors"][ids.IDEA_REACTION_BLOCK]
    # Opening it again says it could not be loaded, with a reference.
    shown = await open_settings(bot, alice)
    assert "could not be loaded" in str(shown["blocks"])

    general = bot.channel("general")
    message, _ = await bot.driver.say(bob, general, "Test the restore, not the backup.")
    await bot.driver.react(carol, general, message.ts, "star")
    assert await nominations_to(bot, bob) == 0


async def test_a_slow_admin_check_is_refused_with_a_field_error(bot: Bot) -> None:
    alice = make_admin(bot, "alice")
    modal = await open_settings(bot, alice)
    bot.emu.slow_down("users.info", 2.2)  # past the submission's bound, not a timing assertion
    reply = await bot.driver.view_submission(alice, modal, reaction_values("star"))
    assert reply.json["response_action"] == "errors"
    reopened = await open_settings(bot, alice)
    assert "'bulb'" in str(reopened["blocks"])
