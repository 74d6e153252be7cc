"""Events once, even when a listener uses `say`, the client, or catches a duplicate."""

from __future__ import annotations

import contextlib
import logging

import pytest

from bot.unit_of_work import DuplicateEvent
from tests.conftest import Bot


def reaction(bot: Bot) -> dict:  # type: ignore[type-arg]
    general = bot.channel("general")
    # Not the kudos emoji (nor the idea reaction): only the test's own listener takes it.
    return {"type": "reaction_added", "user": bot.user("alice"), "reaction": "clap",
            "item": {"type": "message", "channel": general, "ts": "1.0"},
            "item_user": bot.user("bob"), "event_ts": "2.0"}  # fmt: skip


def posts(bot: Bot, text: str) -> list:  # type: ignore[type-arg]
    return [m for m in bot.state.history(bot.channel("general")) if m.text == text]


async def test_say_in_an_event_listener_goes_through_the_outbox_once(bot: Bot) -> None:
    bot.emu.subscribe("reaction_added")

    @bot.app.event("reaction_added")
    async def thank(event, say):  # type: ignore[no-untyped-def]
        await say("thanks for the doughnut", channel=event["item"]["channel"])

    first = await bot.driver.event(reaction(bot), event_id="Ev0SAY")
    assert bot.emu.calls_to("chat.postMessage") == []  # queued, not sent inline
    again = await bot.driver.event(reaction(bot), event_id="Ev0SAY", retry_num=1)
    await bot.settle()

    assert (first.status, again.status) == (200, 200)
    assert len(posts(bot, "thanks for the doughnut")) == 1


async def test_a_slack_write_before_the_claim_is_refused_and_reads_are_not(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    bot.emu.subscribe("reaction_added")
    names: list[str] = []

    @bot.app.event("reaction_added")
    async def direct(event, client):  # type: ignore[no-untyped-def]
        names.append((await client.users_info(user=event["user"]))["user"]["name"])
        await client.chat_postMessage(channel=event["item"]["channel"], text="posted directly")

    with caplog.at_level(logging.ERROR):
        reply = await bot.driver.event(reaction(bot), event_id="Ev0DIRECT")
        retried = await bot.driver.event(reaction(bot), event_id="Ev0DIRECT", retry_num=1)
    await bot.settle()

    assert names == ["alice", "alice"]  # the read went through, both times
    assert posts(bot, "posted directly") == []  # the write never reached Slack
    assert bot.emu.calls_to("chat.postMessage") == []
    assert (reply.status, retried.status) == (200, 200)  # a retry would not help
    assert any("before its event was claimed" in r.getMessage() for r in caplog.records)


async def test_a_write_after_the_claim_goes_through(bot: Bot) -> None:
    bot.emu.subscribe("reaction_added")

    @bot.app.event("reaction_added")
    async def claimed_first(event, client, context):  # type: ignore[no-untyped-def]
        await context["uow"].workspace()  # claims the event id
        await client.reactions_add(
            channel=event["item"]["channel"], timestamp=event["item"]["ts"], name="eyes"
        )

    bot.emu.grants.scopes.add("reactions:write")
    message, _ = bot.emu.user_message(bot.user("bob"), bot.channel("general"), "a tip")
    event = {**reaction(bot), "item": {"type": "message", "channel": message.channel,
                                       "ts": message.ts}}  # fmt: skip
    await bot.driver.event(event)

    assert message.reactions == {"eyes": [bot.state.bot_user_id]}


async def test_a_duplicate_caught_by_the_listener_changes_nothing(bot: Bot) -> None:
    bot.emu.subscribe("reaction_added")

    @bot.app.event("reaction_added")
    async def careless(event, context):  # type: ignore[no-untyped-def]
        uow = context["uow"]
        with contextlib.suppress(DuplicateEvent):  # swallowed: still no second post
            await uow.workspace()
        payload = {"channel": event["item"]["channel"], "text": "one kudos"}
        await uow.deliver("chat.postMessage", payload, channel=payload["channel"])

    await bot.driver.event(reaction(bot), event_id="Ev0TWICE")
    again = await bot.driver.event(reaction(bot), event_id="Ev0TWICE", retry_num=1)
    await bot.settle()

    assert again.status == 200
    assert len(posts(bot, "one kudos")) == 1
