"""The local Slack emulator and the request driver, over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.emulator import (
    APP_TOKEN,
    BOT_TOKEN,
    BOT_USER_ID,
    TEAM_ID,
    Message,
    SlackDriver,
    SlackEmulator,
    Workspace,
)
from bot.emulator.driver import NotShown, NotSubscribed
from bot.emulator.scopes import Grants

SECRET = "test-signing-secret"
# Every scope and event Doughnut will ask for once all capabilities have landed (DESIGN.md);
# the emulator's own tests use them all, the bot's tests get only the manifest's.
ALL_SCOPES = {
    "commands", "chat:write", "chat:write.public", "im:write", "mpim:write", "users:read",
    "channels:read", "groups:read", "channels:history", "groups:history", "im:history",
    "mpim:history", "reactions:read", "app_mentions:read", "files:write", "usergroups:read",
    "team:read", "channels:join", "im:read", "mpim:read", "reactions:write",
}  # fmt: skip
ALL_EVENTS = {
    "app_home_opened", "member_joined_channel", "app_uninstalled", "tokens_revoked",
    "app_mention", "message.im", "message.channels", "message.groups", "reaction_added",
    "reaction_removed", "user_change",
}  # fmt: skip


def all_grants() -> Grants:
    return Grants(set(ALL_SCOPES), set(ALL_EVENTS))


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def modal(title: str = "Capture a lesson", blocks: int = 1, **extra: Any) -> dict[str, Any]:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "What happened?"}}
    return {
        "type": "modal",
        "callback_id": "lesson_modal",
        "title": {"type": "plain_text", "text": title},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [dict(section, block_id=f"b{i}") for i in range(blocks)],
        **extra,
    }


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def emu(clock: FakeClock) -> AsyncIterator[SlackEmulator]:
    state = Workspace.with_sample_members()
    async with SlackEmulator(state, clock=clock, grants=all_grants()) as emulator:
        yield emulator


@pytest.fixture
def client(emu: SlackEmulator) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url)


def ids(emu: SlackEmulator) -> tuple[str, str, str]:
    ws = emu.state
    return ws.user_by_name("alice").id, ws.user_by_name("bob").id, ws.channel_by_name("general").id


# auth and dispatch


async def test_auth_test_and_bad_tokens(emu: SlackEmulator, client: AsyncWebClient) -> None:
    me = await client.auth_test()
    assert (me["user_id"], me["team_id"], me["bot_id"]) == (BOT_USER_ID, TEAM_ID, "B0BOT0001")

    wrong = AsyncWebClient(token="xoxb-wrong", base_url=emu.api_url)
    with pytest.raises(SlackApiError) as err:
        await wrong.auth_test()
    assert err.value.response["error"] == "invalid_auth"

    anonymous = AsyncWebClient(base_url=emu.api_url)
    with pytest.raises(SlackApiError) as err:
        await anonymous.auth_test()
    assert err.value.response["error"] == "not_authed"

    with pytest.raises(SlackApiError) as err:
        await client.api_call("chat.frobnicate")
    assert err.value.response["error"] == "unknown_method"


async def test_form_bodies_and_token_parameter(emu: SlackEmulator) -> None:
    _, _, general = ids(emu)
    metadata = {"event_type": "doughnut_delivery", "event_payload": {"key": "d-2"}}
    form = {
        "token": BOT_TOKEN,
        "channel": general,
        "text": "from a form",
        "metadata": json.dumps(metadata),
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(emu.api_url + "chat.postMessage", data=form) as resp:
            assert (await resp.json())["ok"]
        query = {"token": BOT_TOKEN, "user": ids(emu)[0]}
        async with session.get(emu.api_url + "users.info", params=query) as resp:
            assert (await resp.json())["user"]["name"] == "alice"
        async with session.post(emu.api_url + "auth.test", data={"token": "xoxb-nope"}) as resp:
            assert await resp.json() == {"ok": False, "error": "invalid_auth"}
    (message,) = emu.state.history(general)
    assert (message.text, message.metadata) == ("from a form", metadata)
    assert emu.calls_to("chat.postMessage")[0].args["metadata"] == metadata


async def test_calls_are_recorded_with_decoded_arguments(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    _, _, general = ids(emu)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    await client.chat_postMessage(channel=general, text="hi", blocks=blocks)
    (call,) = emu.calls_to("chat.postMessage")
    assert call.args["blocks"] == blocks
    assert call.ok and "token" not in call.args
    emu.clear_calls()
    assert emu.calls == []


# triggers


async def test_trigger_id_works_once(emu: SlackEmulator, client: AsyncWebClient) -> None:
    alice, _, _ = ids(emu)
    trigger = emu.issue_trigger_id(alice)
    opened = await client.views_open(trigger_id=trigger, view=modal())
    assert opened["view"]["id"].startswith("V")
    assert emu.state.modal_stack(alice)[0]["callback_id"] == "lesson_modal"

    with pytest.raises(SlackApiError) as err:
        await client.views_open(trigger_id=trigger, view=modal())
    assert err.value.response["error"] == "exchanged_trigger_id"

    with pytest.raises(SlackApiError) as err:
        await client.views_open(trigger_id="12345.98765.abcd2358fdea", view=modal())
    assert err.value.response["error"] == "invalid_trigger_id"


async def test_late_trigger_id_is_expired(
    emu: SlackEmulator, client: AsyncWebClient, clock: FakeClock
) -> None:
    alice, _, _ = ids(emu)
    in_time = emu.issue_trigger_id(alice)
    late = emu.issue_trigger_id(alice)
    clock.advance(2.9)
    assert (await client.views_open(trigger_id=in_time, view=modal()))["ok"]
    clock.advance(0.2)
    with pytest.raises(SlackApiError) as err:
        await client.views_open(trigger_id=late, view=modal())
    assert err.value.response["error"] == "expired_trigger_id"


# Block Kit limits


async def test_over_long_views_are_refused(emu: SlackEmulator, client: AsyncWebClient) -> None:
    alice, _, _ = ids(emu)
    refusals = {
        "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]": modal(blocks=101),
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]": modal(
            title="x" * 25
        ),
    }
    for expected, view in refusals.items():
        with pytest.raises(SlackApiError) as err:
            await client.views_open(trigger_id=emu.issue_trigger_id(alice), view=view)
        assert err.value.response["error"] == "invalid_arguments"
        assert err.value.response["response_metadata"]["messages"] == [expected]
    assert emu.state.modal_stack(alice) == []
    # The limits themselves are accepted.
    ok = await client.views_open(
        trigger_id=emu.issue_trigger_id(alice), view=modal(title="x" * 24, blocks=100)
    )
    assert len(ok["view"]["blocks"]) == 100

    with pytest.raises(SlackApiError) as err:
        await client.views_publish(user_id=alice, view={"type": "home", "blocks": [{}] * 101})
    assert err.value.response["error"] == "invalid_arguments"


async def test_other_view_limits(emu: SlackEmulator, client: AsyncWebClient) -> None:
    alice, _, _ = ids(emu)
    button = {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "b" * 76}}
    long_button = {"type": "actions", "elements": [button]}
    bad_views = [
        modal(private_metadata="m" * 3001),
        modal(callback_id="c" * 256),
        modal(submit={"type": "plain_text", "text": "s" * 25}),
        dict(modal(), blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "t" * 3001}}]),
        dict(modal(), blocks=[{"type": "divider", "block_id": "d" * 256}]),
        dict(modal(), blocks=[long_button]),
    ]
    for view in bad_views:
        with pytest.raises(SlackApiError) as err:
            await client.views_open(trigger_id=emu.issue_trigger_id(alice), view=view)
        assert err.value.response["error"] == "invalid_arguments", view


async def test_message_limits(emu: SlackEmulator, client: AsyncWebClient) -> None:
    _, _, general = ids(emu)
    divider = {"type": "divider"}
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel=general, text="x", blocks=[divider] * 51)
    assert err.value.response["error"] == "invalid_blocks"
    assert "no more than 50 items" in err.value.response["response_metadata"]["messages"][0]
    assert (await client.chat_postMessage(channel=general, text="x", blocks=[divider] * 50))["ok"]

    with pytest.raises(SlackApiError) as err, pytest.warns(UserWarning):
        await client.chat_postMessage(channel=general)
    assert err.value.response["error"] == "no_text"

    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel=general, text="x" * 40001)
    assert err.value.response["error"] == "msg_too_long"


# views


async def test_views_update_push_and_publish(emu: SlackEmulator, client: AsyncWebClient) -> None:
    alice, _, _ = ids(emu)
    opened = (await client.views_open(trigger_id=emu.issue_trigger_id(alice), view=modal()))["view"]
    updated = await client.views_update(
        view_id=opened["id"], hash=opened["hash"], view=modal(title="Step 2")
    )
    assert updated["view"]["id"] == opened["id"]
    assert updated["view"]["hash"] != opened["hash"]
    with pytest.raises(SlackApiError) as err:  # the old hash is stale now
        await client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal())
    assert err.value.response["error"] == "hash_conflict"

    pushed = await client.views_push(
        trigger_id=emu.issue_trigger_id(alice), view=modal(external_id="ext-1")
    )
    assert pushed["view"]["previous_view_id"] == opened["id"]
    by_external = await client.views_update(external_id="ext-1", view=modal(title="Again"))
    assert by_external["view"]["id"] == pushed["view"]["id"]
    assert [v["title"]["text"] for v in emu.state.modal_stack(alice)] == ["Step 2", "Again"]

    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
    }
    published = await client.views_publish(user_id=alice, view=home)
    assert emu.state.home_views[alice]["id"] == published["view"]["id"]
    republished = await client.views_publish(user_id=alice, view=home)
    assert republished["view"]["id"] == published["view"]["id"]
    assert emu.open_home(alice)["view"]["id"] == published["view"]["id"]


# posting rules


async def test_posting_where_slack_refuses(emu: SlackEmulator, client: AsyncWebClient) -> None:
    alice, bob, _ = ids(emu)
    ws = emu.state
    secret = ws.add_channel("secret", private=True, members=[alice])
    archived = ws.add_channel("old", members=[alice, BOT_USER_ID], archived=True)
    gone = ws.add_user("gone", deleted=True)
    cases = {
        secret.id: "not_in_channel",
        "C0NOPE": "channel_not_found",
        archived.id: "is_archived",
        gone.id: "user_not_found",
    }
    for channel, error in cases.items():
        with pytest.raises(SlackApiError) as err:
            await client.chat_postMessage(channel=channel, text="hello")
        assert err.value.response["error"] == error
    # A public channel the bot is not in is fine: the app has chat:write.public.
    random_id = ws.channel_by_name("random").id
    assert (await client.chat_postMessage(channel=random_id, text="hello"))["ok"]
    assert [m.text for m in ws.history(random_id)] == ["hello"]


async def test_post_to_user_id_opens_a_dm(emu: SlackEmulator, client: AsyncWebClient) -> None:
    alice, _, _ = ids(emu)
    posted = await client.chat_postMessage(channel=alice, text="Your lesson was validated")
    assert posted["channel"].startswith("D")
    assert posted["message"]["bot_id"] == "B0BOT0001"
    opened = await client.conversations_open(users=alice)
    assert opened["channel"]["id"] == posted["channel"]
    assert emu.state.dm_channel(alice).id == posted["channel"]
    assert [m.text for m in emu.state.history(posted["channel"])] == ["Your lesson was validated"]


async def test_ephemeral_update_delete_permalink(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    alice, _, general = ids(emu)
    outsider = emu.state.add_user("dave")
    with pytest.raises(SlackApiError) as err:
        await client.chat_postEphemeral(channel=general, user=outsider.id, text="psst")
    assert err.value.response["error"] == "user_not_in_channel"
    await client.chat_postEphemeral(channel=general, user=alice, text="psst")
    assert [m.text for m in emu.state.ephemerals_for(alice)] == ["psst"]
    assert emu.state.history(general) == []

    posted = await client.chat_postMessage(channel=general, text="v1")
    updated = await client.chat_update(channel=general, ts=posted["ts"], text="v2")
    assert updated["text"] == "v2" and "edited" in updated["message"]
    link = await client.chat_getPermalink(channel=general, message_ts=posted["ts"])
    assert link["permalink"].endswith(f"/archives/{general}/p{posted['ts'].replace('.', '')}")

    mine, _ = emu.user_message(alice, general, "my own words")
    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel=general, ts=mine.ts, text="edited by bot")
    assert err.value.response["error"] == "cant_update_message"
    await client.chat_delete(channel=general, ts=posted["ts"])
    assert [m.text for m in emu.state.history(general)] == ["my own words"]


# reading


async def test_history_returns_metadata_newest_first(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    _, _, general = ids(emu)
    metadata = {"event_type": "doughnut_delivery", "event_payload": {"key": "d-1"}}
    first = await client.chat_postMessage(channel=general, text="one", metadata=metadata)
    other_app = {"event_type": "their_event", "event_payload": {"x": 1}}
    theirs = emu.state.add_message(
        Message(general, emu.state.new_ts(), "theirs", bot_id="B0OTHER", metadata=other_app)
    )
    second = await client.chat_postMessage(channel=general, text="two")
    await client.chat_postMessage(channel=general, text="reply", thread_ts=first["ts"])

    plain = await client.conversations_history(channel=general)
    assert [m["text"] for m in plain["messages"]] == ["two", "theirs", "one"]
    # The app's own posts come with their metadata; another app's only when asked for.
    assert plain["messages"][2]["metadata"] == metadata
    assert "metadata" not in plain["messages"][1]

    full = await client.conversations_history(channel=general, include_all_metadata=True)
    assert full["messages"][1]["metadata"] == other_app
    assert full["messages"][2]["reply_count"] == 1

    newest = await client.conversations_history(channel=general, limit=2)
    assert [m["ts"] for m in newest["messages"]] == [second["ts"], theirs.ts]
    assert newest["has_more"] is True
    rest = await client.conversations_history(
        channel=general, limit=2, cursor=newest["response_metadata"]["next_cursor"]
    )
    assert [m["ts"] for m in rest["messages"]] == [first["ts"]]
    assert rest["messages"][0]["metadata"] == metadata and rest["has_more"] is False
    after_first = await client.conversations_history(channel=general, oldest=first["ts"])
    assert [m["ts"] for m in after_first["messages"]] == [second["ts"], theirs.ts]

    thread = await client.conversations_replies(channel=general, ts=first["ts"])
    assert [m["text"] for m in thread["messages"]] == ["one", "reply"]


async def test_users_info_and_list_pagination(emu: SlackEmulator, client: AsyncWebClient) -> None:
    alice, _, _ = ids(emu)
    info = (await client.users_info(user=alice))["user"]
    assert (info["tz"], info["tz_offset"], info["is_bot"], info["deleted"]) == (
        "Europe/Paris",
        3600,
        False,
        False,
    )
    assert info["profile"]["real_name"] == "Alice Martin"

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await client.users_list(limit=2, cursor=cursor)
        seen += [m["id"] for m in page["members"]]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == 2
    assert seen == list(emu.state.users)


async def test_conversations_join_info_members(emu: SlackEmulator, client: AsyncWebClient) -> None:
    alice, _, _ = ids(emu)
    random_id = emu.state.channel_by_name("random").id
    assert (await client.conversations_info(channel=random_id))["channel"]["is_member"] is False
    with pytest.raises(SlackApiError) as err:
        await client.conversations_history(channel=random_id)
    assert err.value.response["error"] == "not_in_channel"
    await client.conversations_join(channel=random_id)
    assert BOT_USER_ID in (await client.conversations_members(channel=random_id))["members"]

    secret = emu.state.add_channel("secret", private=True, members=[alice])
    with pytest.raises(SlackApiError) as err:
        await client.conversations_join(channel=secret.id)
    assert err.value.response["error"] == "method_not_supported_for_channel_type"


# members acting


async def test_mention_yields_message_and_app_mention(emu: SlackEmulator) -> None:
    alice, _, general = ids(emu)
    message, events = emu.user_message(alice, general, f"<@{BOT_USER_ID}> how do we deploy?")
    assert [e["type"] for e in events] == ["message", "app_mention"]
    msg_event, mention = events
    assert msg_event["channel_type"] == "channel"
    for event in events:
        assert event["user"] == alice and event["channel"] == general
        assert event["ts"] == event["event_ts"] == message.ts
        assert event["team"] == TEAM_ID

    random_id = emu.state.channel_by_name("random").id  # the bot is not a member there
    _, unheard = emu.user_message(alice, random_id, f"<@{BOT_USER_ID}> hello?")
    assert unheard == []

    _, dm_events = emu.user_message(alice, BOT_USER_ID, f"<@{BOT_USER_ID}> hi")
    assert [(e["type"], e["channel_type"]) for e in dm_events] == [("message", "im")]


async def test_reactions_joins_and_item_user(emu: SlackEmulator, client: AsyncWebClient) -> None:
    alice, bob, general = ids(emu)
    message, _ = emu.user_message(alice, general, "ship it")
    event = emu.add_reaction(bob, general, message.ts, "doughnut")
    assert event is not None
    assert event["type"] == "reaction_added" and event["item_user"] == alice
    assert event["item"] == {"type": "message", "channel": general, "ts": message.ts}
    got = await client.reactions_get(channel=general, timestamp=message.ts)
    assert got["message"]["reactions"] == [{"name": "doughnut", "users": [bob], "count": 1}]
    removed = emu.remove_reaction(bob, general, message.ts, "doughnut")
    assert removed is not None and removed["type"] == "reaction_removed"

    webhook = emu.state.add_message(Message(general, emu.state.new_ts(), "cron", bot_id="B0HOOK"))
    no_author = emu.add_reaction(bob, general, webhook.ts, "bulb")
    assert no_author is not None and "item_user" not in no_author

    carol = emu.state.add_user("erin")
    with pytest.raises(ValueError):
        emu.user_message(carol.id, general, "not a member yet")
    joined = emu.join(carol.id, general)
    assert joined == {
        "type": "member_joined_channel",
        "user": carol.id,
        "channel": general,
        "channel_type": "C",
        "team": TEAM_ID,
        "event_ts": joined["event_ts"],
    }


# faults


async def test_rate_limit_then_success(emu: SlackEmulator, client: AsyncWebClient) -> None:
    _, _, general = ids(emu)
    emu.fail("chat.postMessage", status=429, retry_after=7, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as err:
            await client.chat_postMessage(channel=general, text="hello")
        assert err.value.response.status_code == 429
        assert err.value.response.headers["Retry-After"] == "7"
        assert err.value.response["error"] == "ratelimited"
    assert (await client.chat_postMessage(channel=general, text="hello"))["ok"]
    assert [(c.ok, c.injected) for c in emu.calls_to("chat.postMessage")] == [
        (False, True),
        (False, True),
        (True, False),
    ]
    assert [m.text for m in emu.state.history(general)] == ["hello"]

    emu.fail("views.publish", error="internal_error", status=500)
    with pytest.raises(SlackApiError) as err:
        await client.views_publish(user_id=ids(emu)[0], view={"type": "home", "blocks": []})
    assert err.value.response.status_code == 500


async def test_hang_after_accept_stores_but_never_answers(emu: SlackEmulator) -> None:
    _, _, general = ids(emu)
    impatient = AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url, timeout=1, retry_handlers=[])
    emu.hang_after_accept("chat.postMessage")
    with pytest.raises((asyncio.TimeoutError, aiohttp.ClientError)):
        await impatient.chat_postMessage(channel=general, text="did it land?")
    assert [m.text for m in emu.state.history(general)] == ["did it land?"]
    assert emu.calls_to("chat.postMessage")[0].hung is True
    # The next call is answered normally.
    assert (await impatient.chat_postMessage(channel=general, text="again"))["ok"]


# files and response URLs


async def test_file_upload_shares_a_file_message(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    _, _, general = ids(emu)
    result = await client.files_upload_v2(
        channel=general, content="a,b\n1,2\n", filename="report.csv", initial_comment="Report"
    )
    assert result["ok"]
    (message,) = emu.state.history(general)
    assert message.text == "Report" and message.files[0]["name"] == "report.csv"
    assert emu.state.files[message.files[0]["id"]]["content"] == b"a,b\n1,2\n"


async def test_response_url(emu: SlackEmulator) -> None:
    alice, _, general = ids(emu)
    posted = emu.state.add_message(
        Message(general, emu.state.new_ts(), "original", user=BOT_USER_ID, bot_id="B0BOT0001")
    )
    url = emu.issue_response_url(alice, general, posted.ts)
    async with aiohttp.ClientSession() as session:
        for body in (
            {"text": "only you"},
            {"text": "everyone", "response_type": "in_channel"},
            {"text": "replaced", "replace_original": True},
        ):
            async with session.post(url, json=body) as resp:
                assert (await resp.json())["ok"]
        async with session.post(emu.base_url + "response/nope", json={"text": "x"}) as resp:
            assert resp.status == 404
    assert [m.text for m in emu.state.ephemerals_for(alice)] == ["only you"]
    assert [m.text for m in emu.state.history(general)] == ["replaced", "everyone"]


# Socket Mode


async def test_socket_mode_hello_and_ack(emu: SlackEmulator) -> None:
    app_client = AsyncWebClient(token=APP_TOKEN, base_url=emu.api_url)
    opened = await app_client.apps_connections_open(app_token=APP_TOKEN)
    assert opened["url"].startswith(emu.socket_url)
    with pytest.raises(SlackApiError) as err:
        await AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url).apps_connections_open(
            app_token=BOT_TOKEN
        )
    assert err.value.response["error"] == "not_allowed_token_type"

    async with aiohttp.ClientSession() as session, session.ws_connect(opened["url"]) as ws:
        assert (await ws.receive_json())["type"] == "hello"

        async def ack_one() -> dict[str, Any]:
            envelope = await ws.receive_json()
            await ws.send_json({"envelope_id": envelope["envelope_id"], "payload": {"x": 1}})
            return envelope

        acker = asyncio.create_task(ack_one())
        ack = await emu.socket_send("events_api", {"event": {"type": "app_mention"}})
        envelope = await acker
    assert ack["payload"] == {"x": 1}
    assert envelope["type"] == "events_api" and envelope["accepts_response_payload"] is False


# the driver


class Recorder:
    """A stand-in for the bot's HTTP endpoint that keeps every request."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answer: Any = ""
        self.script: list[tuple[int, float]] = []  # (status, delay) for the next requests

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        if self.script:
            status, delay = self.script.pop(0)
            await asyncio.sleep(delay)
            return web.Response(status=status)
        if isinstance(self.answer, dict):
            return web.json_response(self.answer)
        return web.Response(text=self.answer)


@pytest.fixture
async def bot() -> AsyncIterator[tuple[Recorder, str]]:
    recorder = Recorder()
    app = web.Application()
    app.router.add_post("/slack/events", recorder.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield recorder, f"http://127.0.0.1:{port}/slack/events"
    await runner.cleanup()


@pytest.fixture
async def driver(emu: SlackEmulator, bot: tuple[Recorder, str]) -> AsyncIterator[SlackDriver]:
    async with SlackDriver(emu, bot[1], SECRET) as slack:
        yield slack


def verify(headers: dict[str, str], body: bytes, secret: str = SECRET) -> bool:
    return SignatureVerifier(secret).is_valid(
        body=body,
        timestamp=headers["X-Slack-Request-Timestamp"],
        signature=headers.get("X-Slack-Signature"),
    )


async def test_driver_command_is_signed_and_shaped_like_slack(
    emu: SlackEmulator, driver: SlackDriver, bot: tuple[Recorder, str], client: AsyncWebClient
) -> None:
    recorder, _ = bot
    alice, _, general = ids(emu)
    reply = await driver.command(alice, general, "/lesson", "Confirm the rollback plan #deploys")
    assert reply.status == 200
    (headers, body) = recorder.requests[0]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert verify(headers, body)
    assert not verify(headers, body, secret="another-secret")
    fields = dict(parse_qsl(body.decode()))
    assert list(fields) == [
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    ]
    assert fields["team_id"] == TEAM_ID and fields["channel_name"] == "general"
    assert (fields["user_id"], fields["user_name"]) == (alice, "alice")
    assert fields["text"] == "Confirm the rollback plan #deploys"
    assert fields["is_enterprise_install"] == "false"
    assert fields["response_url"].startswith(emu.base_url + "response/")
    # The trigger_id is a real one, and the response_url reaches the emulator.
    assert (await client.views_open(trigger_id=fields["trigger_id"], view=modal()))["ok"]
    async with (
        aiohttp.ClientSession() as session,
        session.post(fields["response_url"], json={"text": "Saved"}) as resp,
    ):
        assert resp.status == 200
    assert [m.text for m in emu.state.ephemerals_for(alice, general)] == ["Saved"]


async def test_driver_bad_signatures_and_ack_bodies(
    emu: SlackEmulator, driver: SlackDriver, bot: tuple[Recorder, str]
) -> None:
    recorder, _ = bot
    alice, _, general = ids(emu)
    await driver.command(alice, general, "/kudos", sign=False)
    await driver.command(alice, general, "/kudos", timestamp=1_000_000)
    await driver.command(alice, general, "/kudos", signing_secret="wrong")
    unsigned, stale, wrong = recorder.requests
    assert "X-Slack-Signature" not in unsigned[0]
    assert stale[0]["X-Slack-Request-Timestamp"] == "1000000" and not verify(*stale)
    assert not verify(*wrong)

    recorder.answer = {"text": "Thanks, kudos given"}
    await driver.command(alice, general, "/kudos", "<@U1> for the runbook")
    assert emu.state.ephemerals_for(alice)[-1].text == "Thanks, kudos given"


async def test_driver_events_and_interactions(
    emu: SlackEmulator, driver: SlackDriver, bot: tuple[Recorder, str], client: AsyncWebClient
) -> None:
    recorder, _ = bot
    alice, _, general = ids(emu)
    message, replies = await driver.say(alice, general, f"<@{BOT_USER_ID}> anyone?")
    assert [r.status for r in replies] == [200, 200]
    envelopes = [json.loads(body) for _, body in recorder.requests]
    assert [e["event"]["type"] for e in envelopes] == ["message", "app_mention"]
    first = envelopes[0]
    assert first["type"] == "event_callback" and first["event_id"].startswith("Ev")
    assert first["authorizations"][0] == {
        "enterprise_id": None,
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "is_bot": True,
        "is_enterprise_install": False,
    }
    assert recorder.requests[0][0]["Content-Type"] == "application/json"
    assert all(verify(h, b) for h, b in recorder.requests)

    await driver.event(envelopes[0]["event"], event_id="Ev0SAME", retry_num=1)
    headers, body = recorder.requests[-1]
    assert (headers["X-Slack-Retry-Num"], headers["X-Slack-Retry-Reason"]) == ("1", "http_timeout")
    assert json.loads(body)["event_id"] == "Ev0SAME"

    button = {
        "type": "button",
        "action_id": "validate",
        "value": "42",
        "text": {"type": "plain_text", "text": "Validate"},
    }
    review = {"type": "actions", "block_id": "review", "elements": [button]}
    posted = await client.chat_postMessage(channel=general, text="Review", blocks=[review])
    stored = emu.state.find_message(general, posted["ts"])
    await driver.block_actions(
        alice, [{"action_id": "validate", "block_id": "review", "value": "42"}], message=stored
    )
    headers, body = recorder.requests[-1]
    payload = json.loads(dict(parse_qsl(body.decode()))["payload"])
    assert payload["type"] == "block_actions" and payload["user"]["id"] == alice
    assert payload["container"]["message_ts"] == posted["ts"]
    assert payload["actions"][0]["action_id"] == "validate"
    assert payload["channel"]["id"] == general and payload["response_url"]

    opened = await client.views_open(
        trigger_id=emu.issue_trigger_id(alice), view=modal(private_metadata=general)
    )
    recorder.answer = {"response_action": "errors", "errors": {"b0": "Say more"}}
    await driver.view_submission(alice, opened["view"]["id"], {"b0": {"title": "Rollbacks"}})
    payload = json.loads(dict(parse_qsl(recorder.requests[-1][1].decode()))["payload"])
    assert payload["view"]["state"]["values"]["b0"]["title"]["value"] == "Rollbacks"
    assert payload["view"]["private_metadata"] == general
    assert len(emu.state.modal_stack(alice)) == 1  # errors keep the modal open
    recorder.answer = ""
    await driver.view_submission(alice, opened["view"]["id"], {"b0": {"title": "Rollbacks"}})
    assert emu.state.modal_stack(alice) == []  # an empty ack closes it

    await driver.message_action(alice, general, message.ts, "save_as_lesson")
    payload = json.loads(dict(parse_qsl(recorder.requests[-1][1].decode()))["payload"])
    assert (payload["type"], payload["callback_id"]) == ("message_action", "save_as_lesson")
    assert payload["message"]["text"] == message.text and payload["trigger_id"]
    await driver.shortcut(alice, "capture_lesson")
    payload = json.loads(dict(parse_qsl(recorder.requests[-1][1].decode()))["payload"])
    assert (payload["type"], payload["callback_id"]) == ("shortcut", "capture_lesson")


async def test_driver_over_socket_mode(emu: SlackEmulator) -> None:
    alice, _, general = ids(emu)
    async with aiohttp.ClientSession() as session, session.ws_connect(emu.socket_url) as ws:
        assert (await ws.receive_json())["type"] == "hello"

        async def bot_side() -> dict[str, Any]:
            envelope = await ws.receive_json()
            answer = {"text": "Opening the form…"}
            await ws.send_json({"envelope_id": envelope["envelope_id"], "payload": answer})
            return envelope

        task = asyncio.create_task(bot_side())
        async with SlackDriver(emu, None, SECRET) as slack:
            reply = await slack.command(alice, general, "/lesson")
        envelope = await task
    assert envelope["type"] == "slash_commands"
    assert envelope["payload"]["command"] == "/lesson"
    assert reply.json == {"text": "Opening the form…"}
    assert emu.state.ephemerals_for(alice)[-1].text == "Opening the form…"


# the real stack: Bolt's AsyncApp, over HTTP and over Socket Mode


def bolt_app(emu: SlackEmulator) -> Any:
    from slack_bolt.async_app import AsyncApp

    app = AsyncApp(
        signing_secret=SECRET,
        client=AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url),
        process_before_response=True,
    )

    @app.command("/lesson")
    async def open_lesson(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await client.views_open(trigger_id=body["trigger_id"], view=modal())
        await ack("Opening the form")

    @app.event("app_mention")
    async def answer(event: dict[str, Any], say: Any) -> None:
        await say(text="Here is what we know", thread_ts=event["ts"])

    @app.event("message")
    async def ignore() -> None:
        return None

    return app


async def test_bolt_over_http(emu: SlackEmulator) -> None:
    alice, _, general = ids(emu)
    runner = web.AppRunner(bolt_app(emu).web_app(path="/slack/events"))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    try:
        async with SlackDriver(emu, url, SECRET) as slack:
            reply = await slack.command(alice, general, "/lesson")
            assert (reply.status, reply.text) == (200, "Opening the form")
            assert emu.state.modal_stack(alice)[0]["callback_id"] == "lesson_modal"
            assert emu.state.ephemerals_for(alice)[-1].text == "Opening the form"

            question, replies = await slack.say(alice, general, f"<@{BOT_USER_ID}> deploys?")
            assert [r.status for r in replies] == [200, 200]
            answer = emu.state.history(general)[-1]
            assert (answer.text, answer.thread_ts) == ("Here is what we know", question.ts)

            assert (await slack.command(alice, general, "/lesson", sign=False)).status == 401
            stale = await slack.command(alice, general, "/lesson", timestamp=1_000_000)
            assert stale.status == 401
    finally:
        await runner.cleanup()


async def test_bolt_over_socket_mode(emu: SlackEmulator) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    alice, _, general = ids(emu)
    handler = AsyncSocketModeHandler(bolt_app(emu), app_token=APP_TOKEN)
    await handler.connect_async()
    try:
        async with SlackDriver(emu, None, SECRET) as slack:
            reply = await slack.command(alice, general, "/lesson")
            assert reply.json == {"text": "Opening the form"}
            assert len(emu.state.modal_stack(alice)) == 1
            await slack.say(alice, general, f"<@{BOT_USER_ID}> deploys?")
        for _ in range(50):  # events are acked before the listener has run
            if emu.calls_to("chat.postMessage"):
                break
            await asyncio.sleep(0.02)
        assert emu.state.history(general)[-1].text == "Here is what we know"
    finally:
        await handler.close_async()


async def test_invalid_ack_body_is_recorded(
    emu: SlackEmulator, driver: SlackDriver, bot: tuple[Recorder, str]
) -> None:
    recorder, _ = bot
    alice, _, general = ids(emu)
    recorder.answer = {"text": "too many", "blocks": [{"type": "divider"}] * 51}
    await driver.command(alice, general, "/lessons")
    (ack,) = emu.acks
    assert (ack.method, ack.ok, ack.error) == ("command", False, "invalid_blocks")
    assert emu.state.ephemerals_for(alice) == []
    assert emu.calls == []  # acks are not Web API calls


async def test_users_conversations_lists_what_the_bot_can_see(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    alice = emu.state.user_by_name("alice").id
    hidden = emu.state.add_channel("hidden", private=True, members=[alice])
    shared = emu.state.add_channel("shared", private=True, members=[alice, emu.state.bot_user_id])

    public_only = await client.users_conversations(user=alice)
    both = await client.users_conversations(user=alice, types="public_channel,private_channel")

    assert {c["name"] for c in public_only["channels"]} == {"general", "random"}
    names = {c["name"] for c in both["channels"]}
    assert shared.name in names and hidden.name not in names


# strict as Slack: scopes, subscriptions, deadlines, retries, clicks, OAuth


@pytest.fixture
async def manifest_emu(clock: FakeClock) -> AsyncIterator[SlackEmulator]:
    """An emulator granting only what the repository's manifest.yml asks for."""
    async with SlackEmulator(Workspace.with_sample_members(), clock=clock) as emulator:
        yield emulator


async def test_a_call_without_its_scope_is_refused_with_what_is_needed(
    manifest_emu: SlackEmulator,
) -> None:
    emu = manifest_emu
    client = AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url)
    alice, _, general = ids(emu)
    await client.chat_postMessage(channel=general, text="hi")

    with pytest.raises(SlackApiError) as refused:
        await client.team_info()
    assert refused.value.response["error"] == "missing_scope"
    assert refused.value.response["needed"] == "team:read"
    assert "chat:write" in refused.value.response["provided"].split(",")
    dm = emu.state.dm_channel(alice).id
    assert (await client.conversations_info(channel=dm))["ok"]  # a DM needs im:read
    # A group DM needs mpim:write (peer assists ask for it), a DM im:write.
    assert (await client.conversations_open(users=f"{alice},{ids(emu)[1]}"))["ok"]
    emu.grants.scopes.discard("mpim:write")
    with pytest.raises(SlackApiError) as refused:
        await client.conversations_open(users=f"{alice},{ids(emu)[1]}")
    assert refused.value.response["needed"] == "mpim:write"
    assert (await client.conversations_info(channel=general))["ok"]
    assert (await client.conversations_history(channel=dm))["ok"]  # im:history is granted

    # chat:write.public is what lets the bot post where it is not a member.
    random = emu.state.channel_by_name("random").id
    assert (await client.chat_postMessage(channel=random, text="hello"))["ok"]
    emu.grants.scopes.discard("chat:write.public")
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel=random, text="hello again")
    assert refused.value.response["error"] == "not_in_channel"
    assert [m.text for m in emu.state.history(random)] == ["hello"]


async def test_only_subscribed_events_are_delivered(
    manifest_emu: SlackEmulator, bot: tuple[Recorder, str]
) -> None:
    recorder, url = bot
    alice, _, general = ids(manifest_emu)
    async with SlackDriver(manifest_emu, url, SECRET) as slack:
        _, replies = await slack.say(alice, general, f"<@{BOT_USER_ID}> there?")
        # `message.channels` (After Action Review threads, kudos) and `app_mention`.
        assert len(replies) == 2
        sent = {json.loads(body)["event"]["type"] for _, body in recorder.requests[:2]}
        assert sent == {"message", "app_mention"}
        message, _ = manifest_emu.user_message(alice, general, "plain")
        with pytest.raises(NotSubscribed):  # pin_added is not in the manifest
            await slack.event({"type": "pin_added", "user": alice, "channel_id": general})
        channel_message = {"type": "message", "channel": general, "channel_type": "mpim",
                           "user": alice, "text": "x", "ts": message.ts}  # fmt: skip
        with pytest.raises(NotSubscribed):  # no `message.mpim`
            await slack.event(channel_message)
        dm_reply = await slack.event({**channel_message, "channel_type": "im"})
        assert dm_reply.status == 200  # message.im is subscribed
        manifest_emu.subscribe("reaction_added")
        assert await slack.react(alice, general, message.ts, "bulb") is not None
    assert "reactions:read" in manifest_emu.grants.scopes


async def test_an_event_is_retried_as_slack_does(
    emu: SlackEmulator, bot: tuple[Recorder, str]
) -> None:
    recorder, url = bot
    event = {"type": "app_home_opened", "user": ids(emu)[0], "tab": "home", "event_ts": "1.0"}
    # A short deadline stands for Slack's 3 seconds, so the test does not wait them.
    async with SlackDriver(emu, url, SECRET, timeout=0.2) as slack:
        recorder.script = [(200, 0.5), (500, 0), (200, 0)]
        reply = await slack.event(event, event_id="Ev0RETRY")
        assert [(a.timed_out, a.status) for a in reply.attempts] == [
            (True, 0),
            (False, 500),
            (False, 200),
        ]
        headers = [h for h, _ in recorder.requests]
        assert "X-Slack-Retry-Num" not in headers[0]
        assert [(h["X-Slack-Retry-Num"], h["X-Slack-Retry-Reason"]) for h in headers[1:]] == [
            ("1", "http_timeout"),
            ("2", "http_error"),
        ]
        assert {json.loads(b)["event_id"] for _, b in recorder.requests} == {"Ev0RETRY"}

        recorder.requests.clear()
        recorder.script = [(503, 0)] * 5
        gave_up = await slack.event(event)
        assert [a.status for a in gave_up.attempts] == [503] * 4  # the first try and 3 retries
        assert len(recorder.requests) == 4 and recorder.script == [(503, 0)]

        recorder.script = []
        once = await slack.event(event, retries=False)
        assert len(once.attempts) == 1


async def test_a_slow_command_answer_is_a_timeout(
    emu: SlackEmulator, bot: tuple[Recorder, str]
) -> None:
    recorder, url = bot
    alice, _, general = ids(emu)
    async with SlackDriver(emu, url, SECRET, timeout=0.2) as slack:
        recorder.script = [(200, 0.5)]
        reply = await slack.command(alice, general, "/doughnut")
    assert reply.timed_out and reply.failed and len(recorder.requests) == 1  # never retried


async def test_clicks_are_built_from_what_is_shown(
    emu: SlackEmulator, driver: SlackDriver, bot: tuple[Recorder, str], client: AsyncWebClient
) -> None:
    recorder, _ = bot
    alice, _, general = ids(emu)
    select = {
        "type": "static_select",
        "action_id": "pick_status",
        "placeholder": {"type": "plain_text", "text": "Status"},
        "options": [
            {"text": {"type": "plain_text", "text": "Validated"}, "value": "validated"},
            {"text": {"type": "plain_text", "text": "Draft"}, "value": "draft"},
        ],
    }
    button = {"type": "button", "action_id": "go", "value": "7", "style": "primary",
              "text": {"type": "plain_text", "text": "Go"}}  # fmt: skip
    blocks = [{"type": "actions", "block_id": "row", "elements": [select, button]}]
    posted = await client.chat_postMessage(channel=general, text="Pick", blocks=blocks)
    message = emu.state.find_message(general, posted["ts"])
    assert message is not None

    await driver.click(alice, message, "pick_status", choose="draft")
    [action] = json.loads(dict(parse_qsl(recorder.requests[-1][1].decode()))["payload"])["actions"]
    assert action["selected_option"]["value"] == "draft" and action["block_id"] == "row"
    await driver.click(alice, message, "go")
    [action] = json.loads(dict(parse_qsl(recorder.requests[-1][1].decode()))["payload"])["actions"]
    assert (action["type"], action["value"], action["style"]) == ("button", "7", "primary")

    sent = len(recorder.requests)
    with pytest.raises(NotShown):
        await driver.click(alice, message, "never_rendered")
    with pytest.raises(NotShown):
        await driver.click(alice, message, "pick_status", choose="retired")
    with pytest.raises(NotShown):
        await driver.block_actions(alice, [{"action_id": "never_rendered"}], message=message)
    opened = await client.views_open(trigger_id=emu.issue_trigger_id(alice), view=modal())
    emu.api.close_view(alice, opened["view"]["id"])
    with pytest.raises(NotShown):  # a closed modal cannot be clicked
        await driver.click(alice, opened["view"], "anything")
    assert len(recorder.requests) == sent


async def test_errors_naming_a_block_the_view_lacks_are_refused(
    emu: SlackEmulator, driver: SlackDriver, bot: tuple[Recorder, str], client: AsyncWebClient
) -> None:
    recorder, _ = bot
    alice = ids(emu)[0]
    title = {"type": "input", "block_id": "title", "label": {"type": "plain_text", "text": "T"},
             "element": {"type": "plain_text_input", "action_id": "value"}}  # fmt: skip
    view = modal(submit={"type": "plain_text", "text": "Save"})
    view["blocks"].append(title)
    opened = await client.views_open(trigger_id=emu.issue_trigger_id(alice), view=view)

    recorder.answer = {"response_action": "errors", "errors": {"titel": "Say more"}}
    await driver.view_submission(alice, opened["view"]["id"], {"title": {"value": "x"}})
    assert (emu.acks[-1].ok, emu.acks[-1].error) == (False, "invalid_arguments")
    recorder.answer = {"response_action": "errors", "errors": {"b0": "not an input"}}
    await driver.view_submission(alice, opened["view"]["id"], {"title": {"value": "x"}})
    assert emu.acks[-1].ok is False  # a section block cannot carry an error
    recorder.answer = {"response_action": "errors", "errors": {"title": "Say more"}}
    await driver.view_submission(alice, opened["view"]["id"], {"title": {"value": "x"}})
    assert emu.acks[-1].ok is True and len(emu.state.modal_stack(alice)) == 1


async def test_the_bots_own_posts_raise_message_events_with_bot_id(
    emu: SlackEmulator, driver: SlackDriver, bot: tuple[Recorder, str], client: AsyncWebClient
) -> None:
    recorder, _ = bot
    alice, _, general = ids(emu)
    await client.chat_postMessage(channel=alice, text="a DM from the bot")
    random = emu.state.channel_by_name("random").id
    await client.chat_postMessage(channel=random, text="the bot is not in #random")

    replies = await driver.deliver_raised()
    assert [r.status for r in replies] == [200]
    event = json.loads(recorder.requests[-1][1])["event"]
    assert (event["type"], event["channel_type"], event["text"]) == (
        "message",
        "im",
        "a DM from the bot",
    )
    assert event["bot_id"] == emu.state.bot_id and event["user"] == BOT_USER_ID
    assert await driver.deliver_raised() == []


async def test_read_methods_ignore_a_json_body(emu: SlackEmulator, client: AsyncWebClient) -> None:
    alice = ids(emu)[0]
    with pytest.raises(SlackApiError) as refused:
        await client.api_call("users.info", json={"user": alice})
    assert refused.value.response["error"] == "user_not_found"
    found = await client.api_call("users.info", http_verb="GET", params={"user": alice})
    assert found["user"]["id"] == alice
    form = await client.api_call("users.info", data={"user": alice})
    assert form["user"]["id"] == alice


async def test_oauth_exchanges_a_code_for_a_bot_token(emu: SlackEmulator, clock: FakeClock) -> None:
    anonymous = AsyncWebClient(base_url=emu.api_url)
    code = emu.authorization_code("T0OTHER01", redirect_uri="https://doughnut.example/oauth")
    granted = await anonymous.oauth_v2_access(
        client_id=emu.client_id, client_secret=emu.client_secret, code=code,
        redirect_uri="https://doughnut.example/oauth",
    )  # fmt: skip
    assert granted["token_type"] == "bot" and granted["access_token"].startswith("xoxb-")
    assert granted["team"]["id"] == "T0OTHER01" and granted["enterprise"] is None
    assert granted["bot_user_id"] == BOT_USER_ID and "chat:write" in granted["scope"]
    assert "client_secret" not in emu.calls_to("oauth.v2.access")[-1].args

    theirs = AsyncWebClient(token=granted["access_token"], base_url=emu.api_url)
    assert (await theirs.auth_test())["team_id"] == "T0OTHER01"
    with pytest.raises(SlackApiError) as refused:  # a code works once
        await anonymous.oauth_v2_access(
            client_id=emu.client_id, client_secret=emu.client_secret, code=code
        )
    assert refused.value.response["error"] == "invalid_code"
    with pytest.raises(SlackApiError) as refused:
        await anonymous.oauth_v2_access(
            client_id=emu.client_id, client_secret="guess", code=emu.authorization_code()
        )
    assert refused.value.response["error"] == "bad_client_secret"
    late = emu.authorization_code()
    clock.advance(601)
    with pytest.raises(SlackApiError) as refused:
        await anonymous.oauth_v2_access(
            client_id=emu.client_id, client_secret=emu.client_secret, code=late
        )
    assert refused.value.response["error"] == "invalid_code"

    org = emu.authorization_code(enterprise_id="E0ORG01", is_enterprise_install=True)
    org_grant = await anonymous.oauth_v2_access(
        client_id=emu.client_id, client_secret=emu.client_secret, code=org
    )
    assert org_grant["team"] is None and org_grant["enterprise"]["id"] == "E0ORG01"
    assert org_grant["is_enterprise_install"] is True
    emu.revoke(granted["access_token"])
    with pytest.raises(SlackApiError) as refused:
        await theirs.auth_test()
    assert refused.value.response["error"] == "token_revoked"
