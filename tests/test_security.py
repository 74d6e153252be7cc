"""Hostile requests: forged signatures, malformed bodies, other workspaces, hangs."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from urllib.parse import urlencode

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from sqlalchemy import func, select

from bot.emulator import SlackDriver
from bot.emulator.state import Message
from storage.models import Community, Delivery, ProcessedEvent, Workspace
from tests.conftest import SIGNING_SECRET, Bot, open_setup, setup_values

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
OTHER_TEAM = "T0002"
# Put in payloads: it must never show up in a log line.
MARKER = "body-text-that-must-not-be-logged"


async def count(bot: Bot, model: type) -> int:
    async with bot.db.reading() as session:
        return await session.scalar(select(func.count()).select_from(model))  # type: ignore[return-value]


def bot_calls(bot: Bot) -> list[str]:
    """Web API methods the bot called (auth.test at start is not one a person would see)."""
    return [c.method for c in bot.emu.calls if c.method != "auth.test"]


def logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records)


def home_opened(user: str) -> dict:
    return {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home",
            "event_ts": f"{time.time():.6f}"}  # fmt: skip


@contextmanager
def as_team(bot: Bot, team_id: str) -> Iterator[None]:
    """The driver's requests say they come from `team_id` (another workspace's)."""
    ours = bot.state.team_id
    bot.state.team_id = team_id
    try:
        yield
    finally:
        bot.state.team_id = ours


def a_message(bot: Bot) -> Message:
    message, _ = bot.emu.user_message(bot.user("alice"), bot.channel("general"), "hello")
    return message


# 1. Only signed requests reach the bot.


@pytest.mark.parametrize(
    "forgery",
    [
        {"timestamp": "abc"},
        {"timestamp": ""},
        {"timestamp": "12e3"},
        {"timestamp": int(time.time()) - 6 * 60},
        {"signing_secret": "not-the-secret"},
        {"sign": False},
    ],
    ids=["letters", "empty", "exponent", "stale", "wrong-secret", "unsigned"],
)
async def test_a_forged_button_click_is_refused_and_nothing_is_stored_or_sent(
    bot: Bot, forgery: dict, caplog: pytest.LogCaptureFixture
) -> None:
    message = bot.shown_button("anything", value=MARKER)
    action = {"action_id": "anything", "value": MARKER}

    with caplog.at_level(logging.DEBUG):
        replies = [
            await bot.driver.block_actions(bot.user("bob"), [action], message=message, **forgery)
            for _ in range(3)
        ]
    await bot.settle()

    assert [r.status for r in replies] == [401, 401, 401]
    assert bot_calls(bot) == []  # no post, no ephemeral, nothing
    assert bot.state.ephemerals == []
    assert await count(bot, Workspace) == 0
    assert await count(bot, Delivery) == 0
    assert MARKER not in logged(caplog)
    assert "Traceback" not in caplog.text


async def test_a_signature_header_that_is_not_ascii_is_refused(bot: Bot) -> None:
    body = urlencode({"payload": json.dumps({"type": "block_actions"})}).encode()
    headers = bot.signed_headers(body, FORM)
    headers["X-Slack-Signature"] = "v0=é"

    reply = await bot.driver.post(body, headers)

    assert reply.status == 401


# 2. Malformed bodies: 400 when signed, 401 when not; never 500, one log line.

MALFORMED = {
    "json-list": (b"[1, 2]", JSON),
    "json-string": (b'"hello"', JSON),
    "json-null": (b"null", JSON),
    "payload-null": (b"payload=null", FORM),
    "payload-list": (b"payload=%5B1%5D", FORM),
    "payload-number": (b"payload=123", FORM),
    "payload-not-json": (b"payload=%7Bnope", FORM),
    "not-utf8": (b"payload=\xff\xfe" + MARKER.encode(), FORM),
    "team-not-an-object": (b'{"type": "event_callback", "team": 5}', JSON),
}


def signed_raw(body: bytes, content_type: str) -> dict[str, str]:
    """Slack's signature over raw bytes (the test helper's verifier needs UTF-8 text)."""
    timestamp = str(int(time.time()))
    base = b"v0:" + timestamp.encode() + b":" + body
    digest = hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": "v0=" + digest}  # fmt: skip


@pytest.mark.parametrize("name", list(MALFORMED))
async def test_a_malformed_signed_body_gets_400_and_one_log_line(
    bot: Bot, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    body, content_type = MALFORMED[name]

    with caplog.at_level(logging.INFO):
        reply = await bot.driver.post(body, signed_raw(body, content_type))

    assert reply.status == 400
    ours = [r for r in caplog.records if r.name.startswith("doughnut")]
    assert [r.getMessage() for r in ours] == [ours[0].getMessage()]
    assert "malformed" in ours[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)
    assert MARKER not in logged(caplog)
    assert bot_calls(bot) == []


@pytest.mark.parametrize("name", list(MALFORMED))
async def test_a_malformed_unsigned_body_gets_401(bot: Bot, name: str) -> None:
    body, content_type = MALFORMED[name]
    headers = signed_raw(body, content_type)
    headers["X-Slack-Signature"] = "v0=" + "0" * 64

    reply = await bot.driver.post(body, headers)

    assert reply.status == 401


async def test_slacks_own_checks_still_pass_when_signed(bot: Bot) -> None:
    challenge = await bot.driver.url_verification("the-challenge")
    ssl_body = b"ssl_check=1&token=local-verification-token"
    ssl_check = await bot.driver.post(ssl_body, bot.signed_headers(ssl_body, FORM))
    unsigned = await bot.driver.post(ssl_body, {"Content-Type": FORM})

    assert (challenge.status, challenge.json) == (200, {"challenge": "the-challenge"})
    assert ssl_check.status == 200
    assert unsigned.status == 401


# 4. Only the installation's workspace is served.


async def test_a_command_from_another_workspace_is_refused_with_an_ephemeral(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    with as_team(bot, OTHER_TEAM), caplog.at_level(logging.DEBUG):
        reply = await bot.driver.command(
            bot.user("alice"), bot.channel("general"), "/doughnut", f"setup {MARKER}"
        )
    await bot.settle()

    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert "not installed in this workspace" in reply.json["text"]
    assert bot_calls(bot) == []  # no modal opened
    assert await count(bot, Workspace) == 0
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1 and OTHER_TEAM in refusals[0]
    assert MARKER not in logged(caplog)
    assert "local-verification-token" not in logged(caplog)


async def test_a_setup_submitted_from_another_workspace_creates_nothing_and_posts_nothing(
    bot: Bot,
) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    modal = await open_setup(bot, alice, general)
    deliveries_before = await count(bot, Delivery)
    bot.emu.clear_calls()

    with as_team(bot, OTHER_TEAM):
        reply = await bot.driver.view_submission(alice, modal, setup_values(coordinators=[alice]))
    await bot.settle()

    assert reply.status == 200
    assert reply.json["response_action"] == "update"
    assert "not installed in this workspace" in json.dumps(reply.json["view"])
    assert await count(bot, Community) == 0
    assert await count(bot, Delivery) == deliveries_before
    assert bot_calls(bot) == []
    assert [m for m in bot.state.history(general) if m.user == bot.state.bot_user_id] == []


async def test_an_event_from_another_workspace_is_acked_and_does_nothing(bot: Bot) -> None:
    with as_team(bot, OTHER_TEAM):
        reply = await bot.driver.event(home_opened(bot.user("alice")))
    await bot.settle()

    assert (reply.status, reply.text) == (200, "")  # Slack does not retry
    assert await count(bot, ProcessedEvent) == 0
    assert await count(bot, Workspace) == 0
    assert bot_calls(bot) == []


async def test_one_event_id_under_two_team_ids_is_handled_once(bot: Bot) -> None:
    alice = bot.user("alice")
    ours = await bot.driver.event(home_opened(alice), event_id="Ev0TWICE")
    with as_team(bot, OTHER_TEAM):
        theirs = await bot.driver.event(home_opened(alice), event_id="Ev0TWICE")
    await bot.settle()

    assert (ours.status, theirs.status) == (200, 200)
    assert len(bot.emu.calls_to("views.publish")) == 1
    assert await count(bot, ProcessedEvent) == 1
    async with bot.db.reading() as session:
        keys = list(await session.scalars(select(Workspace.install_key)))
    assert keys == [bot.state.team_id]


async def test_an_org_wide_install_keys_events_once_by_the_enterprise(bot: Bot) -> None:
    """Two workspaces of the org deliver the same event: one workspace row, handled once."""
    installation = bot.app.deps.installation
    assert installation is not None
    bot.app.deps.installation = replace(
        installation, enterprise_id="E0ORG", is_enterprise_install=True
    )
    replies = []
    for team in (bot.state.team_id, "T0SISTER"):
        envelope = bot.driver.event_envelope(home_opened(bot.user("alice")), "Ev0ORG")
        envelope.update(team_id=team, context_enterprise_id="E0ORG", enterprise_id="E0ORG")
        envelope["authorizations"][0].update(
            team_id=team, enterprise_id="E0ORG", is_enterprise_install=True
        )
        body = json.dumps(envelope).encode()
        replies.append(await bot.driver.post(body, bot.signed_headers(body, JSON)))
    outsider = bot.driver.event_envelope(home_opened(bot.user("alice")), "Ev0OUT")
    outsider["authorizations"][0].update(enterprise_id="E0OTHER", is_enterprise_install=True)
    body = json.dumps(outsider).encode()
    replies.append(await bot.driver.post(body, bot.signed_headers(body, JSON)))
    await bot.settle()

    assert [r.status for r in replies] == [200, 200, 200]
    assert len(bot.emu.calls_to("views.publish")) == 1
    async with bot.db.reading() as session:
        keys = list(await session.scalars(select(Workspace.install_key)))
    assert keys == ["E0ORG"]
    assert await count(bot, ProcessedEvent) == 1


# The 2.5 s rule: a listener that hangs is stopped, rolled back, and the person told.


async def test_a_command_whose_slack_call_hangs_is_answered_and_saves_nothing(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    bot.app.request_deadline = 0.3
    bot.emu.hang_after_accept("views.open")

    @bot.app.command("/stuck")
    async def stuck(ack, body, client, context):  # type: ignore[no-untyped-def]
        general = body["channel_id"]
        await context["uow"].deliver("chat.postMessage", {"channel": general, "text": "saved?"})
        await client.views_open(trigger_id=body["trigger_id"], view={"type": "modal"})
        await ack()

    with caplog.at_level(logging.INFO):
        reply = await bot.driver.command(bot.user("alice"), bot.channel("general"), "/stuck")
    await bot.settle()

    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert "nothing was saved" in reply.json["text"]
    assert any("over its deadline" in r.getMessage() for r in caplog.records)
    assert await count(bot, Delivery) == 0
    assert "saved?" not in str(bot.state.history(bot.channel("general")))


async def test_a_button_whose_listener_hangs_tells_the_person(bot: Bot) -> None:
    bot.app.request_deadline = 0.3

    @bot.app.action("stuck_button")
    async def stuck(ack, context):  # type: ignore[no-untyped-def]
        await context["uow"].workspace()
        await asyncio.Event().wait()  # a lock that never comes, say

    reply = await bot.driver.click(
        bot.user("bob"), bot.shown_button("stuck_button"), "stuck_button"
    )
    await bot.settle()

    assert reply.status == 200
    notices = [e for e in bot.state.ephemerals if "nothing was saved" in (e.text or "")]
    assert [n.ephemeral_to for n in notices] == [bot.user("bob")]


async def test_an_event_whose_listener_hangs_is_left_for_slacks_retry(bot: Bot) -> None:
    bot.app.request_deadline = 0.3
    attempts: list[str] = []
    bot.emu.subscribe("reaction_added")

    @bot.app.event("reaction_added")
    async def stuck(event, context):  # type: ignore[no-untyped-def]
        await context["uow"].workspace()
        attempts.append(event["reaction"])
        if len(attempts) == 1:
            await asyncio.Event().wait()

    event = {"type": "reaction_added", "user": bot.user("alice"), "reaction": "clap",
             "item": {"type": "message", "channel": bot.channel("general"), "ts": "1.0"},
             "event_ts": "2.0"}  # fmt: skip
    reply = await bot.driver.event(event, event_id="Ev0HANG")

    assert [a.status for a in reply.attempts] == [503, 200]  # Slack's retry came at once
    assert attempts == ["clap", "clap"]  # the hung try recorded nothing
    assert await count(bot, ProcessedEvent) == 1


async def test_socket_mode_requests_from_another_workspace_are_refused_too(bot: Bot) -> None:
    """The socket authenticates Slack, not the tenant: the same refusal applies."""
    handler = AsyncSocketModeHandler(bot.app, app_token=bot.state.app_token)
    await handler.connect_async()
    try:
        async with SlackDriver(bot.emu, None, SIGNING_SECRET) as slack:
            alice, general = bot.user("alice"), bot.channel("general")
            ours = await slack.command(alice, general, "/doughnut", "help")
            with as_team(bot, OTHER_TEAM):
                theirs = await slack.command(alice, general, "/doughnut", "help")
                await slack.event(home_opened(alice))
    finally:
        await handler.close_async()
    await bot.settle()

    assert "Doughnut today" in json.dumps(ours.json)
    assert "not installed in this workspace" in theirs.json["text"]
    assert bot.emu.calls_to("views.publish") == []
    assert await count(bot, ProcessedEvent) == 0
