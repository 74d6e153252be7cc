"""The wire: signatures, malformed requests, failures inside listeners, unhandled requests."""

from __future__ import annotations

import json
import logging
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from storage.models import ProcessedEvent, Workspace
from tests.conftest import Bot


async def count(bot: Bot, model: type) -> int:
    async with bot.db.reading() as session:
        return await session.scalar(select(func.count()).select_from(model))  # type: ignore[return-value]


def home_opened(user: str) -> dict:
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D0HOME",
        "tab": "home",
        "event_ts": f"{time.time():.6f}",
    }


@pytest.mark.parametrize(
    "forgery",
    [
        {"signing_secret": "not-the-secret"},
        {"timestamp_offset": -6 * 60},  # stale: more than five minutes old
        {"timestamp_offset": 6 * 60},  # from the future
        {"sign": False},  # no signature headers at all
    ],
    ids=["forged", "stale", "future", "unsigned"],
)
async def test_unverifiable_requests_are_refused_and_change_nothing(
    bot: Bot, forgery: dict
) -> None:
    if "timestamp_offset" in forgery:
        # Taken when the test runs: a time taken at collection drifts during a long run.
        forgery = {"timestamp": int(time.time()) + forgery["timestamp_offset"]}
    command = await bot.driver.command(
        bot.user("alice"), bot.channel("general"), "/doughnut", "help", **forgery
    )
    event = await bot.driver.event(home_opened(bot.user("alice")), **forgery)

    assert command.status == 401
    assert "Doughnut today" not in command.text and "What works today" not in command.text
    assert event.status == 401
    assert await count(bot, Workspace) == 0
    assert await count(bot, ProcessedEvent) == 0
    assert bot.emu.calls_to("views.publish") == []


async def test_malformed_bodies_get_400_without_a_traceback(bot: Bot) -> None:
    body = b"{not json"
    headers = bot.signed_headers(body, "application/json")
    reply = await bot.driver.post(body, headers)

    assert reply.status == 400
    assert "Traceback" not in reply.text


async def test_unknown_payload_type_is_acked(bot: Bot) -> None:
    body = "payload=" + json.dumps({"type": "something_new", "team": {"id": bot.state.team_id}})
    headers = bot.signed_headers(body.encode(), "application/x-www-form-urlencoded")
    reply = await bot.driver.post(body.encode(), headers)

    assert reply.status == 200


async def test_an_unhandled_event_type_is_acked_not_404(bot: Bot) -> None:
    bot.emu.subscribe("emoji_changed")
    reply = await bot.driver.event(
        {"type": "emoji_changed", "subtype": "add", "name": "doughnut", "event_ts": "1.0"}
    )

    assert reply.status == 200


async def test_a_failing_command_tells_the_user_and_logs_the_traceback(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    @bot.app.command("/explode")
    async def explode(ack, body):  # type: ignore[no-untyped-def]
        raise RuntimeError("kaboom inside the listener")

    with caplog.at_level(logging.ERROR):
        reply = await bot.driver.command(bot.user("alice"), bot.channel("general"), "/explode")

    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert "something went wrong" in reply.json["text"]
    assert "kaboom" not in reply.text  # internals stay in the log
    failure = next(r for r in caplog.records if "listener failed" in r.getMessage())
    assert failure.exc_info and "kaboom inside the listener" in str(failure.exc_info[1])
    reference = failure.getMessage().split("reference=")[1].rstrip(")")
    assert reference in reply.json["text"]


async def test_a_failing_button_tells_the_user_in_a_message(bot: Bot) -> None:
    @bot.app.action("explode_button")
    async def explode(ack, body):  # type: ignore[no-untyped-def]
        raise RuntimeError("kaboom")

    reply = await bot.driver.click(
        bot.user("bob"), bot.shown_button("explode_button"), "explode_button"
    )
    await bot.settle()

    assert reply.status == 200
    notices = [e for e in bot.state.ephemerals if "something went wrong" in (e.text or "")]
    assert [n.ephemeral_to for n in notices] == [bot.user("bob")]


async def test_an_event_that_fails_for_a_passing_reason_is_retried_by_slack(bot: Bot) -> None:
    general = bot.channel("general")
    attempts: list[str] = []
    bot.emu.subscribe("reaction_added")

    @bot.app.event("reaction_added")
    async def flaky(event, context):  # type: ignore[no-untyped-def]
        uow = context["uow"]
        await uow.workspace()  # a duplicate delivery stops here, at its first database use
        attempts.append(event["reaction"])
        if len(attempts) == 1:
            raise OperationalError("SELECT 1", {}, ConnectionResetError("connection reset"))
        thanks = {"channel": general, "text": "thanks for the doughnut"}
        await uow.deliver("chat.postMessage", thanks, channel=general)

    event = {"type": "reaction_added", "user": bot.user("alice"), "reaction": "clap",
             "item": {"type": "message", "channel": general, "ts": "1.0"},
             "event_ts": "2.0"}  # fmt: skip
    delivered = await bot.driver.event(event, event_id="Ev0FLAKY")
    # A later retry of Slack's (its own clock ran out, say): a duplicate by now.
    again = await bot.driver.event(event, event_id="Ev0FLAKY", retry_num=2)
    await bot.settle()

    # The 503 made Slack redeliver at once, marked as its first retry after an HTTP error.
    assert [a.status for a in delivered.attempts] == [503, 200]
    assert again.status == 200 and len(again.attempts) == 1
    assert len(attempts) == 2  # the failed try and the retry; the third was a duplicate
    thanks = [m for m in bot.state.history(general) if m.text == "thanks for the doughnut"]
    assert len(thanks) == 1
    assert await count(bot, ProcessedEvent) == 1


async def test_messages_from_bots_reach_only_listeners_that_ask_for_them(bot: Bot) -> None:
    heard_by_default: list[str] = []
    heard_with_bots: list[str] = []
    bot.emu.subscribe("message.channels")

    @bot.app.message("standup")
    async def default(message):  # type: ignore[no-untyped-def]
        heard_by_default.append(message["text"])

    @bot.app.message("standup", include_bots=True)
    async def with_bots(message):  # type: ignore[no-untyped-def]
        heard_with_bots.append(message["text"])

    general = bot.channel("general")
    await bot.driver.say(bot.user("alice"), general, "standup from a person")
    for i, author in enumerate(({"bot_id": "B0OTHER"}, {"subtype": "bot_message"})):
        await bot.driver.event(
            {"type": "message", "channel": general, "text": f"standup from a bot {i}",
             "ts": f"170000000{i}.000100", "channel_type": "channel", **author}
        )  # fmt: skip

    assert heard_by_default == ["standup from a person"]
    # Bolt runs the first listener that matches: the person's message stopped at the first.
    assert heard_with_bots == ["standup from a bot 0", "standup from a bot 1"]
