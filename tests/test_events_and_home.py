"""Events exactly once, and the Home tab."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select

import storage.communities
from bot.outbox import outbox_leader_work
from handlers.communities import ids
from handlers.help import ids as help_ids
from storage.models import ProcessedEvent, Workspace
from tests.conftest import Bot, open_setup, setup_values, when_parked


async def make_community(bot: Bot, channel: str, name: str, coordinator: str, **roles) -> None:  # type: ignore[no-untyped-def]
    modal = await open_setup(bot, coordinator, bot.channel(channel))
    values = setup_values(name=name, coordinators=[coordinator], **roles)
    reply = await bot.driver.view_submission(coordinator, modal, values)
    assert reply.status == 200 and not reply.text
    await bot.settle()


async def test_an_event_delivered_three_times_is_handled_once(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_community(bot, "general", "Site Reliability", bot.user("alice"))
    dave = bot.state.add_user("dave").id
    joined = bot.emu.join(dave, bot.channel("general"))

    # The first delivery holds its claim on the event (it is inside the listener) until Slack's
    # retry is asking the database for its own: the retry finds the event claimed, every time.
    find = storage.communities.community_in_channel
    finds = 0
    inside, retry_asks, release = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def held_find(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal finds
        finds += 1
        inside.set()
        await release.wait()
        return await find(*args, **kwargs)

    db = bot.app.deps.db
    request_session = db.request_session

    async def watched_session(**kwargs):  # type: ignore[no-untyped-def]
        if inside.is_set():
            retry_asks.set()
        return await request_session(**kwargs)

    monkeypatch.setattr(storage.communities, "community_in_channel", held_find)
    monkeypatch.setattr(db, "request_session", watched_session)
    first = asyncio.create_task(bot.driver.event(joined, event_id="Ev0JOIN"))
    await asyncio.wait_for(inside.wait(), 5)
    retry = asyncio.create_task(
        bot.driver.event(joined, event_id="Ev0JOIN", retry_num=1, retry_reason="http_timeout")
    )
    await asyncio.wait_for(retry_asks.wait(), 5)
    release.set()
    first_reply, retry_while_running = await first, await retry
    late_retry = await bot.driver.event(joined, event_id="Ev0JOIN", retry_num=2)
    await bot.settle()

    assert [r.status for r in (first_reply, retry_while_running, late_retry)] == [200, 200, 200]
    assert finds == 1  # the listener ran for the first delivery only; the retries stopped at once
    async with bot.db.reading() as session:
        claimed = list(await session.scalars(select(ProcessedEvent.event_id)))
    assert claimed == ["Ev0JOIN"]
    dm = bot.state.dm_channel(dave).id
    welcomes = [m for m in bot.state.history(dm) if m.user == bot.state.bot_user_id]
    assert len(welcomes) == 1


def home_sections(bot: Bot, user: str) -> tuple[str, str]:
    """What a member's Home tab lists under "Your communities" and under "Other communities"."""
    shown = str(bot.state.home_views[user]["blocks"])
    mine, _, others = shown.partition("*Other communities*")
    return mine, others


async def test_a_slow_slack_still_gets_the_home_tab_answered_and_shown(bot: Bot) -> None:
    alice, bob = bot.user("alice"), bot.user("bob")
    await make_community(bot, "general", "Site Reliability", alice, reviewers=[bob])
    bot.emu.slow_down("users.conversations", 2.5)  # alone, it would eat the event's deadline

    started = time.perf_counter()
    reply = await bot.driver.open_home(bob)
    took = time.perf_counter() - started
    await bot.settle()

    assert reply is not None and reply.status == 200 and took < 2.5
    assert len(reply.attempts) == 1  # answered at once, not after Slack retried it
    bobs, _ = home_sections(bot, bob)
    assert "*Site Reliability*" in bobs and "you are reviewer" in bobs  # from his role


async def test_home_tab_shows_my_communities_and_roles(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    dave = bot.state.add_user("dave").id  # in no channel yet
    await make_community(bot, "general", "Site Reliability", alice, reviewers=[bob])
    secret = bot.state.add_channel("leads", private=True, members=[alice, bot.state.bot_user_id])
    await make_community(bot, "leads", "Leadership <circle>", alice)

    for user in (bob, carol, dave, alice):
        await bot.driver.open_home(user)
    await bot.settle()

    bobs, _ = home_sections(bot, bob)
    assert "*Site Reliability*" in bobs and "you are reviewer" in bobs
    carols, _ = home_sections(bot, carol)  # in the channel, without a role
    assert "*Site Reliability*" in carols and "you are" not in carols
    daves, others = home_sections(bot, dave)
    assert "You are not in a community yet" in daves
    assert "*Site Reliability*" in others
    everyone_else = str([bot.state.home_views[u]["blocks"] for u in (bob, carol, dave)])
    assert "Leadership" not in everyone_else  # a private community stays private
    alices, _ = home_sections(bot, alice)
    assert "Leadership &lt;circle&gt;" in alices and secret.id in alices
    assert "you are coordinator" in alices
    actions = [
        e["action_id"]
        for b in bot.state.home_views[dave]["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert actions == [help_ids.HOME_HELP_ACTION, ids.HOME_SETUP_ACTION, "home_capture_lesson"]


async def test_home_tab_falls_back_to_roles_when_slack_wont_list_channels(bot: Bot) -> None:
    alice, carol = bot.user("alice"), bot.user("carol")
    await make_community(bot, "general", "Site Reliability", alice)
    bot.emu.fail("users.conversations", error="internal_error", status=500, times=2)

    await bot.driver.open_home(alice)
    await bot.driver.open_home(carol)
    await bot.settle()

    assert "*Site Reliability*" in home_sections(bot, alice)[0]
    assert "*Site Reliability*" in home_sections(bot, carol)[1]


async def test_home_opened_twice_before_sending_publishes_only_the_latest(bot: Bot) -> None:
    alice = bot.user("alice")
    await bot.driver.open_home(alice)
    await make_community(bot, "general", "Site Reliability", alice)  # settles the outbox
    bot.emu.clear_calls()

    await bot.driver.open_home(alice)
    await bot.driver.open_home(alice)
    await bot.settle()

    assert len(bot.emu.calls_to("views.publish")) == 1


async def test_home_buttons_open_help_and_the_setup_form(bot: Bot) -> None:
    alice = bot.user("alice")
    await bot.driver.open_home(alice)
    await bot.settle()
    home = bot.state.home_views[alice]

    def press(action_id: str):  # type: ignore[no-untyped-def]
        return bot.driver.click(alice, home, action_id)

    await press(help_ids.HOME_HELP_ACTION)
    assert bot.state.modal_stack(alice)[-1]["title"]["text"] == "Doughnut help"

    await press(ids.HOME_SETUP_ACTION)
    pick = bot.state.modal_stack(alice)[-1]
    assert pick["blocks"][0]["block_id"] == ids.SETUP_CHANNEL_BLOCK  # the channel first
    random = bot.channel("random")
    await bot.driver.click(alice, pick, ids.SETUP_CHANNEL_ACTION, choose=random)
    await bot.app.deps.after_ack.idle()  # the channel is checked after the ack
    form = bot.state.modal_stack(alice)[-1]
    assert form["callback_id"] == ids.COMMUNITY_SETUP_VIEW

    values = setup_values(name="Sales craft", coordinators=[alice])
    await bot.driver.view_submission(alice, form, values)
    await bot.settle()
    posted = [m for m in bot.state.history(random) if m.user == bot.state.bot_user_id]
    assert len(posted) == 1 and "Sales craft" in posted[0].text


async def test_uninstall_is_remembered(bot: Bot) -> None:
    await bot.driver.open_home(bot.user("alice"))
    reply = await bot.driver.event({"type": "app_uninstalled", "event_ts": "1.0"})

    assert reply.status == 200
    async with bot.db.reading() as session:
        workspace = await session.scalar(select(Workspace))
    assert workspace is not None and workspace.uninstalled_at == bot.clock.now()


async def test_the_running_sender_is_woken_by_the_commit_not_a_poll(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    parked = when_parked(monkeypatch)
    stop = asyncio.Event()
    # A poll interval far longer than the wait below: only the post-commit wake-up can do it.
    leading = asyncio.create_task(outbox_leader_work(bot.app.deps, poll_interval=600)(stop))
    try:
        await asyncio.wait_for(parked.wait(), 5)  # its first (empty) pass is over
        await bot.driver.open_home(bot.user("alice"))
        for _ in range(100):
            if bot.user("alice") in bot.state.home_views:
                break
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await leading
    assert "Your communities" in str(bot.state.home_views[bot.user("alice")]["blocks"])


def bot_posts(bot: Bot, channel: str) -> list:  # type: ignore[type-arg]
    return [m for m in bot.state.history(channel) if m.user == bot.state.bot_user_id]


async def test_a_dm_to_the_app_is_answered_with_short_help_through_the_outbox(bot: Bot) -> None:
    alice = bot.user("alice")

    _, replies = await bot.driver.say(alice, bot.state.bot_user_id, "how do we run a retro?")
    assert [r.status for r in replies] == [200]
    assert bot.emu.calls_to("chat.postMessage") == []  # queued in the outbox, not sent inline
    await bot.settle()

    dm = bot.state.dm_channel(alice).id
    [answer] = bot_posts(bot, dm)
    assert answer.text.startswith("Hi! Ask me a question by mentioning @Doughnut in a channel.")
    assert "/doughnut setup" in answer.text
    assert "Not built yet" not in str(answer.blocks)  # the roadmap is built
    assert "/doughnut digest" in str(answer.blocks)
    assert answer.thread_ts is None  # a DM is answered where it was written


async def test_a_mention_is_answered_once_in_its_thread(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    mention = f"<@{bot.state.bot_user_id}> who knows about Kafka?"

    question, replies = await bot.driver.say(alice, general, mention)
    # `message.channels` (After Action Review threads, kudos) and `app_mention`: answered once.
    assert [r.status for r in replies] == [200, 200]
    await bot.settle()

    [answer] = bot_posts(bot, general)
    assert answer.thread_ts == question.ts and answer.is_reply
    assert answer.text.startswith("I found nothing about that in the book of knowledge yet.")


async def test_a_mention_delivered_again_is_answered_once(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    _, found = bot.emu.user_message(alice, general, f"<@{bot.state.bot_user_id}> hi")
    [mention] = [e for e in found if e["type"] == "app_mention"]

    first = await bot.driver.event(mention, event_id="Ev0MENTION")
    retry = await bot.driver.event(mention, event_id="Ev0MENTION", retry_num=1)
    await bot.settle()

    assert (first.status, retry.status) == (200, 200)
    assert len(bot_posts(bot, general)) == 1


async def test_edits_bot_messages_and_other_dms_get_no_answer(bot: Bot) -> None:
    alice = bot.user("alice")
    dm = bot.state.dm_channel(alice)
    message, _ = await bot.driver.say(alice, dm.id, "hello")
    await bot.settle()
    bot.emu.clear_calls()

    edited = bot.emu.edit_message(alice, dm.id, message.ts, "hello again")
    assert edited is not None and edited["subtype"] == "message_changed"
    from_a_bot = {
        "type": "message",
        "channel": dm.id,
        "channel_type": "im",
        "bot_id": "B0OTHER",
        "text": "I am another bot",
        "ts": "1700000000.000100",
    }
    in_a_channel = {**from_a_bot, "channel": bot.channel("general"), "channel_type": "channel"}
    in_a_channel.pop("bot_id")
    in_a_channel["user"] = alice
    # A channel message outside an After Action Review's thread is heard and left alone.
    for event in (edited, from_a_bot, in_a_channel):
        assert (await bot.driver.event(event)).status == 200
    await bot.settle()

    assert bot.emu.calls_to("chat.postMessage") == []
