"""Kudos over the wire: `/kudos`, the kudos reaction, the emoji in a message, Give kudos for this,
Undo, the allowance, the Home section; every rule from one service."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.emulator import Message
from handlers.kudos import ids
from storage.models import Community, Kudos, KudosSource, KudosStatus, KudosTag, Visibility
from tests.conftest import (
    Bot,
    fill_member_cache,
    lesson_community,
    slack_escaped,
    workspace_id,
)

HOSTILE = "<!channel> & <@U123> <https://evil.example|click>"
RAW = ("<!channel>", "<@U123>", "<https://evil.example|click>")


async def stored(bot: Bot) -> list[Kudos]:
    async with bot.db.reading() as session:
        found = list(await session.scalars(select(Kudos).order_by(Kudos.id)))
        for kudos in found:
            session.expunge(kudos)
        return found


async def given(bot: Bot) -> list[Kudos]:
    return [k for k in await stored(bot) if k.status is KudosStatus.GIVEN]


def link(bot: Bot, name: str) -> str:
    """A mention as an escaping slash command sends it."""
    return f"<@{bot.user(name)}|{name}>"


async def kudos(bot: Bot, user: str, channel: str, text: str) -> dict[str, Any]:
    reply = await bot.driver.command(user, channel, "/kudos", text)
    assert reply.status == 200
    return reply.json


def dms_to(bot: Bot, user_id: str) -> list[Message]:
    channel = bot.state.dm_channel(user_id).id
    return [m for m in bot.state.history(channel) if m.bot_id]


def people(bot: Bot, *names: str) -> list[str]:
    return [bot.state.add_user(name, tz="Europe/Paris").id for name in names]


async def test_kudos_to_two_people_two_rows_two_dms_with_the_reason_escaped(bot: Bot) -> None:
    await fill_member_cache(bot)
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    text = f"{link(bot, 'bob')} {link(bot, 'carol')} for {slack_escaped(HOSTILE)} #Reliability"
    answer = await kudos(bot, alice, general, text)

    rows = await given(bot)
    assert [(k.giver_id, k.receiver_id) for k in rows] == [(alice, bob), (alice, carol)]
    assert {k.reason for k in rows} == {f"for {HOSTILE}"}  # stored as typed
    assert {k.source for k in rows} == {KudosSource.COMMAND}
    async with bot.db.reading() as session:
        assert set(await session.scalars(select(KudosTag.tag))) == {"reliability"}
    # Queued in the outbox with the kudos, sent after the ack.
    assert bot.emu.calls_to("chat.postMessage") == []
    shown = answer["text"] + str(answer["blocks"])
    assert f"<@{bob}>" in shown and "Undo" in shown and "3 of your 5" in shown
    await bot.settle()

    for receiver in (bob, carol):
        [dm] = dms_to(bot, receiver)
        rendered = dm.text + str(dm.blocks)
        assert f"<@{alice}> gave you kudos" in dm.text
        assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in dm.text
        for raw in RAW:
            assert raw not in rendered and raw not in shown
        assert f"<#{general}>" in str(dm.blocks)  # where it was given
    # What Slack says about #general is kept after the ack: public.
    assert {k.visibility for k in await stored(bot)} == {Visibility.PUBLIC}


async def test_yourself_and_bots_are_refused_and_a_mix_gives_to_the_valid_ones(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    helper = bot.state.add_user("deploybot", is_bot=True)
    await fill_member_cache(bot)

    alone = await kudos(bot, alice, general, f"{link(bot, 'alice')} for being me")
    assert "that's you" in alone["text"] and "Nothing was given" in alone["text"]
    to_bot = await kudos(bot, alice, general, f"<@{helper.id}|deploybot> for the deploys")
    assert "a bot or an app" in to_bot["text"]
    to_app = await kudos(bot, alice, general, f"<@{bot.state.bot_user_id}|doughnut> thanks")
    assert "a bot or an app" in to_app["text"]
    assert await stored(bot) == []

    mixed = f"{link(bot, 'bob')} {link(bot, 'alice')} <@{helper.id}|deploybot> for the review"
    answer = await kudos(bot, alice, general, mixed)
    [row] = await stored(bot)
    assert (row.receiver_id, row.status) == (bob, KudosStatus.GIVEN)
    assert f"Skipped: <@{alice}> (that's you); <@{helper.id}> (a bot or an app)" in answer["text"]


async def test_bad_input_usage_reason_required_and_the_length_limit(bot: Bot) -> None:
    await fill_member_cache(bot)
    alice, general = bot.user("alice"), bot.channel("general")
    usage = await kudos(bot, alice, general, "for nothing in particular")
    assert "/kudos @ana @ben for walking us through the failover" in usage["text"]
    no_reason = await kudos(bot, alice, general, f"{link(bot, 'bob')} #teamwork")
    assert "Say why" in no_reason["text"]
    too_long = await kudos(bot, alice, general, f"{link(bot, 'bob')} {'x' * 1001}")
    assert "at most 1,000 characters" in too_long["text"] and "1,001" in too_long["text"]
    assert await stored(bot) == []


async def test_the_sixth_kudos_of_the_day_is_refused_and_the_next_local_day_allowed(
    bot: Bot,
) -> None:
    names = ("dan", "erin", "fay", "gil", "hal", "ivy")
    dan, erin, fay, gil, hal, ivy = people(bot, *names)
    await fill_member_cache(bot)
    alice, general = bot.user("alice"), bot.channel("general")  # alice is in Europe/Paris

    first = await kudos(bot, alice, general, " ".join(link(bot, n) for n in names[:3]) + " thanks")
    assert "2 of your 5" in first["text"]
    await kudos(bot, alice, general, f"{link(bot, 'gil')} {link(bot, 'hal')} for the demo")
    refused = await kudos(bot, alice, general, f"{link(bot, 'ivy')} for the notes")
    assert "nothing was given" in refused["text"]
    assert "You have 0 of your 5 kudos left today" in refused["text"]
    assert "midnight your time (Europe/Paris), in 14 h 00 min" in refused["text"]  # 10:00 there
    assert len(await stored(bot)) == 5

    # 23:30 UTC is still the same day in UTC, but the next one in Paris: Alice's day counts.
    bot.clock.advance(timedelta(hours=14, minutes=30))
    again = await kudos(bot, alice, general, f"{link(bot, 'ivy')} for the notes")
    assert "4 of your 5" in again["text"]
    rows = await stored(bot)
    assert [k.receiver_id for k in rows] == [dan, erin, fay, gil, hal, ivy]
    assert rows[-1].local_day == "2026-12-02" and rows[0].local_day == "2026-12-01"


async def test_the_kudos_reaction_retried_three_times_gives_once_and_dms_once(bot: Bot) -> None:
    await fill_member_cache(bot)
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    message, _ = await bot.driver.say(bob, general, "I wrote the failover runbook.")
    event = {
        "type": "reaction_added", "user": alice, "reaction": "doughnut",
        "item": {"type": "message", "channel": general, "ts": message.ts},
        "item_user": bob, "event_ts": bot.state.new_ts(),
    }  # fmt: skip
    replies = [
        await bot.driver.event(event, event_id="Ev0KUDOS1", retry_num=n, retries=False)
        for n in (None, 1, 2)
    ]
    assert [r.status for r in replies] == [200, 200, 200]
    await bot.settle()

    [row] = await stored(bot)
    assert (row.giver_id, row.receiver_id, row.source) == (alice, bob, KudosSource.REACTION)
    assert (row.channel_id, row.message_ts) == (general, message.ts)
    assert row.permalink and message.ts.replace(".", "") in row.permalink  # after the ack
    [dm] = dms_to(bot, bob)
    assert f"<@{alice}> gave you kudos for their message" in dm.text
    # The idea reaction still nominates: the lessons' listener is untouched.
    await bot.driver.react(alice, general, message.ts, "bulb")
    await bot.settle()
    assert len(dms_to(bot, bob)) == 2


async def test_the_reaction_removed_within_ten_minutes_takes_the_kudos_back(bot: Bot) -> None:
    await fill_member_cache(bot)
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    carol = bot.user("carol")
    first, _ = await bot.driver.say(bob, general, "Fixed the flaky test.")
    second, _ = await bot.driver.say(bob, general, "Reviewed the migration.")
    await bot.driver.react(alice, general, first.ts, "doughnut")
    await bot.driver.react(carol, general, second.ts, "doughnut")
    await bot.settle()

    await bot.driver.unreact(alice, general, first.ts, "doughnut")
    bot.clock.advance(timedelta(minutes=11))
    await bot.driver.unreact(carol, general, second.ts, "doughnut")
    await bot.settle()
    by_giver = {k.giver_id: k.status for k in await stored(bot)}
    assert by_giver == {alice: KudosStatus.UNDONE, carol: KudosStatus.GIVEN}

    # Given again after taking it back: one row still, given again.
    await bot.driver.react(alice, general, first.ts, "doughnut")
    await bot.settle()
    assert {k.giver_id: k.status for k in await stored(bot)}[alice] is KudosStatus.GIVEN
    assert len(await stored(bot)) == 2


async def test_the_kudos_emoji_in_a_message_with_two_mentions_gives_two_kudos(bot: Bot) -> None:
    await fill_member_cache(bot)
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    # What a person typed arrives escaped; a real @here arrives as <!here> and must not ping.
    text = (
        f"Thanks <@{bob}> and <@{carol}> :doughnut: for pairing on {slack_escaped(HOSTILE)} <!here>"
    )
    message, replies = await bot.driver.say(alice, general, text)
    assert [r.status for r in replies] == [200]
    await bot.settle()

    rows = await given(bot)
    assert [k.receiver_id for k in rows] == [bob, carol]
    assert {k.source for k in rows} == {KudosSource.MESSAGE}
    assert rows[0].reason.startswith("Thanks @bob and @carol :doughnut: for pairing on")
    assert rows[0].visibility is Visibility.PUBLIC and rows[0].message_ts == message.ts
    assert rows[0].reason.endswith(f"{HOSTILE} @here")
    [dm] = dms_to(bot, bob)
    rendered = dm.text + str(dm.blocks)
    assert not any(raw in rendered for raw in (*RAW, "<!here>"))
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in dm.text
    [confirmation] = bot.state.ephemerals_for(alice, general)
    assert "Undo" in str(confirmation.blocks)

    # A message without the emoji, or without mentions, gives nothing.
    await bot.driver.say(alice, general, f"Thanks <@{bob}> for the review")
    await bot.driver.say(alice, general, "Lovely :doughnut: day")
    await bot.settle()
    assert len(await stored(bot)) == 2


async def test_kudos_in_a_channel_the_bot_is_not_in_never_arrive(bot: Bot) -> None:
    await fill_member_cache(bot)
    alice, bob, random = bot.user("alice"), bot.user("bob"), bot.channel("random")
    message, replies = await bot.driver.say(alice, random, f"<@{bob}> :doughnut: thanks")
    assert replies == []  # Slack sends the app nothing from there
    assert await bot.driver.react(alice, random, message.ts, "doughnut") is None
    assert await stored(bot) == []


async def test_a_user_group_gives_to_each_member_and_a_larger_one_is_refused_whole(
    bot: Bot,
) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    team = bot.state.add_user_group("sre", [alice, bob, carol])
    crowd = bot.state.add_user_group(
        "everyone", people(bot, "dan", "erin", "fay", "gil", "hal", "ivy")
    )
    await fill_member_cache(bot)

    answer = await kudos(bot, alice, general, f"<!subteam^{team}|@sre> for the on-call week")
    assert "I'm reading who is in" in answer["text"] and await stored(bot) == []
    await bot.settle()
    rows = await given(bot)
    assert sorted(k.receiver_id for k in rows) == sorted([bob, carol])  # not Alice herself
    told = bot.state.ephemerals_for(alice, general)[-1]
    assert f"Kudos to <@{bob}>, <@{carol}>" in told.text or f"<@{carol}>, <@{bob}>" in told.text

    # Cached now: answered at once. Six members, three kudos left: refused whole.
    await bot.driver.event(bot.emu.change_group(crowd, added=[]))
    await bot.settle()
    refused = await kudos(bot, alice, general, f"<!subteam^{crowd}|@everyone> thanks all")
    assert "That user group has 6 members" in refused["text"]
    assert "You have 3 of your 5 kudos left today" in refused["text"]
    assert len(await stored(bot)) == 2


async def test_unknown_bot_and_external_receivers_are_checked_after_the_ack(bot: Bot) -> None:
    await fill_member_cache(bot)
    alice, general = bot.user("alice"), bot.channel("general")
    newcomer = bot.state.add_user("nina")  # joined after the cache was filled: given
    robot = bot.state.add_user("robot", is_bot=True)
    outsider = bot.state.add_user("xena")
    outsider.external_team_id = "T0OTHERORG"
    text = (
        f"<@{newcomer.id}|nina> <@U0NOBODY99|ghost> <@{robot.id}|robot> <@{outsider.id}|xena> "
        "for the launch"
    )
    answer = await kudos(bot, alice, general, text)
    assert "Checking with Slack" in answer["text"]
    assert {k.status for k in await stored(bot)} == {KudosStatus.PENDING}
    await bot.settle()

    status = {k.receiver_id: (k.status, k.refusal) for k in await stored(bot)}
    assert status[newcomer.id] == (KudosStatus.GIVEN, None)
    assert status["U0NOBODY99"] == (KudosStatus.REFUSED, "not a member of this workspace")
    assert status[robot.id][0] is KudosStatus.REFUSED
    assert status[outsider.id] == (
        KudosStatus.REFUSED, "a member of another organisation (Slack Connect)"
    )  # fmt: skip
    assert len(dms_to(bot, newcomer.id)) == 1 and dms_to(bot, robot.id) == []
    told = " ".join(m.text for m in dms_to(bot, alice))
    assert "<@U0NOBODY99> were not given: not a member of this workspace" in told
    assert f"<@{robot.id}> were not given: a bot or an app" in told
    # Refused ones give the allowance back.
    again = await kudos(bot, alice, general, f"{link(bot, 'bob')} for the review")
    assert "3 of your 5" in again["text"]


async def test_undo_within_ten_minutes_by_the_giver_only(bot: Bot) -> None:
    await fill_member_cache(bot)
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    await kudos(bot, alice, general, f"{link(bot, 'bob')} {link(bot, 'carol')} for the retro")
    shown = bot.state.ephemerals_for(alice, general)[-1]

    await bot.driver.click(bob, shown, ids.UNDO_ACTION)
    await bot.settle()
    assert "Only the person who gave" in bot.state.ephemerals_for(bob, general)[-1].text
    await bot.driver.click(alice, shown, ids.UNDO_ACTION)
    await bot.settle()
    assert f"Undone: the kudos to <@{bob}>, <@{carol}>" in (
        bot.state.ephemerals_for(alice, general)[-1].text
    )
    assert {k.status for k in await stored(bot)} == {KudosStatus.UNDONE}

    await kudos(bot, alice, general, f"{link(bot, 'bob')} for the demo")
    late = bot.state.ephemerals_for(alice, general)[-1]
    bot.clock.advance(timedelta(minutes=11))
    await bot.driver.click(alice, late, ids.UNDO_ACTION)
    await bot.settle()
    assert "10 minutes" in bot.state.ephemerals_for(alice, general)[-1].text
    assert (await stored(bot))[-1].status is KudosStatus.GIVEN


async def test_give_kudos_for_this_message_links_it(bot: Bot) -> None:
    await fill_member_cache(bot)
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    message, _ = await bot.driver.say(bob, general, "Here is the postmortem draft.")
    reply = await bot.driver.message_action(
        alice, general, message.ts, ids.GIVE_FOR_MESSAGE_SHORTCUT
    )
    assert reply.status == 200
    await bot.app.deps.after_ack.idle()
    modal = bot.state.modal_stack(alice)[-1]
    assert modal["callback_id"] == ids.MESSAGE_VIEW and f"<@{bob}>" in str(modal["blocks"])

    empty = {ids.REASON_BLOCK: {ids.FIELD_ACTION: ""}, ids.TAGS_BLOCK: {ids.FIELD_ACTION: ""}}
    refused = await bot.driver.view_submission(alice, modal, empty)
    assert (
        refused.json["response_action"] == "errors" and ids.REASON_BLOCK in refused.json["errors"]
    )
    values = {
        ids.REASON_BLOCK: {ids.FIELD_ACTION: HOSTILE},
        ids.TAGS_BLOCK: {ids.FIELD_ACTION: "#postmortems"},
    }
    reply = await bot.driver.view_submission(alice, modal, values)
    assert reply.json["response_action"] == "update"
    assert not any(raw in str(reply.json["view"]) for raw in RAW)
    await bot.settle()
    [row] = await stored(bot)
    assert (row.receiver_id, row.source, row.tags) == (bob, KudosSource.SHORTCUT, "postmortems")
    assert row.permalink and message.ts.replace(".", "") in row.permalink
    [dm] = dms_to(bot, bob)
    assert "See the message" in str(dm.blocks) and row.permalink in str(dm.blocks)


async def test_the_home_section_shows_kudos_received_allowance_and_gives(bot: Bot) -> None:
    await fill_member_cache(bot)
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    await kudos(bot, bob, general, f"{link(bot, 'alice')} for {slack_escaped(HOSTILE)}")
    # Another workspace's kudos to the same member id never show, nor count.
    other = await workspace_id(bot.db, bot.clock, "T0OTHER01")
    async with bot.db.transaction() as session:
        session.add(
            Kudos(
                workspace_id=other, giver_id=alice, receiver_id=alice, reason="elsewhere secret",
                tags="", source=KudosSource.COMMAND, status=KudosStatus.GIVEN,
                visibility=Visibility.PUBLIC, given_at=bot.clock.now(), local_day="2026-12-01",
            )
        )  # fmt: skip
    await bot.driver.open_home(alice)
    await bot.settle()
    home = str(bot.state.home_views[alice]["blocks"])
    assert "Kudos you received* (1)" in home and f"From <@{bob}>" in home
    assert "&lt;!channel&gt;" in home and not any(raw in home for raw in RAW)
    assert "elsewhere secret" not in home
    assert "You have 5 of your 5 kudos left today" in home

    await bot.driver.click(alice, bot.state.home_views[alice], ids.HOME_GIVE_ACTION)
    modal = bot.state.modal_stack(alice)[-1]
    values = {
        ids.RECEIVERS_BLOCK: {ids.FIELD_ACTION: {"type": "multi_users_select",
                                                 "selected_users": [bob]}},
        ids.REASON_BLOCK: {ids.FIELD_ACTION: "for the pairing"},
        ids.TAGS_BLOCK: {ids.FIELD_ACTION: ""},
    }  # fmt: skip
    reply = await bot.driver.view_submission(alice, modal, values)
    assert reply.json["response_action"] == "update"
    assert f"Kudos to <@{bob}>" in str(reply.json["view"])
    rows = [k for k in await given(bot) if k.workspace_id != other]
    assert [(k.giver_id, k.receiver_id) for k in rows] == [(bob, alice), (alice, bob)]


async def test_a_community_that_wants_it_gets_public_kudos_in_its_channel_only(bot: Bot) -> None:
    await fill_member_cache(bot)
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    public = bot.state.add_channel("cop-sre", members=[alice, bob, carol, bot.state.bot_user_id])
    secret = bot.state.add_channel(
        "cop-sec", private=True, members=[alice, bob, bot.state.bot_user_id]
    )
    for channel in (public, secret):
        community_id = await lesson_community(bot, channel.id, carol, carol)
        async with bot.db.transaction() as session:
            community = await session.get(Community, community_id)
            assert community is not None
            community.is_private = channel.is_private
            community.settings = {"kudos_to_channel": True}
    await kudos(bot, alice, public.id, f"{link(bot, 'bob')} for {slack_escaped(HOSTILE)}")
    await kudos(bot, alice, secret.id, f"{link(bot, 'bob')} for the secret audit")
    await bot.settle()

    posts = [m for m in bot.state.history(public.id) if m.bot_id]
    assert len(posts) == 1 and f"<@{alice}> gave kudos to <@{bob}>" in posts[0].text
    assert not any(raw in posts[0].text + str(posts[0].blocks) for raw in RAW)
    assert [m for m in bot.state.history(secret.id) if m.bot_id and "kudos" in m.text] == []
    assert len(dms_to(bot, bob)) == 2


async def test_admins_choose_the_emoji_the_allowance_and_whether_a_reason_is_needed(
    bot: Bot,
) -> None:
    from handlers.settings import ids as settings_ids

    await fill_member_cache(bot)
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    bot.state.users[alice].is_admin = True
    await bot.driver.command(alice, general, "/doughnut", "settings")
    await bot.app.deps.after_ack.idle()
    modal = bot.state.modal_stack(alice)[-1]
    assert "'doughnut'" in str(modal["blocks"]) and "'5'" in str(modal["blocks"])

    def values(emoji: str, allowance: str, reason: str = settings_ids.REASON_OPTIONAL) -> dict:
        text = settings_ids.FIELD_ACTION
        return {
            settings_ids.IDEA_REACTION_BLOCK: {text: "bulb"},
            settings_ids.KUDOS_EMOJI_BLOCK: {text: emoji},
            settings_ids.KUDOS_ALLOWANCE_BLOCK: {text: allowance},
            settings_ids.KUDOS_REASON_BLOCK: {
                text: {"type": "static_select", "selected_option": {"value": reason}}
            },
        }

    bad = await bot.driver.view_submission(alice, modal, values("bulb", "0"))
    assert bad.json["response_action"] == "errors"
    assert set(bad.json["errors"]) == {
        settings_ids.KUDOS_EMOJI_BLOCK,  # the idea reaction's emoji: one emoji, one meaning
        settings_ids.KUDOS_ALLOWANCE_BLOCK,
    }
    for allowance in ("abc", "51", "-1", HOSTILE):
        reply = await bot.driver.view_submission(alice, modal, values("tada", allowance))
        assert set(reply.json["errors"]) == {settings_ids.KUDOS_ALLOWANCE_BLOCK}
        assert not any(raw in str(reply.json) for raw in RAW)
    saved = await bot.driver.view_submission(alice, modal, values(":Tada:", "2"))
    assert saved.json["response_action"] == "update" and ":tada:" in str(saved.json["view"])

    # The new emoji gives kudos, the old one no longer does; a reason is optional; 2 a day.
    message, _ = await bot.driver.say(bob, general, "Shipped the fix.")
    await bot.driver.react(alice, general, message.ts, "doughnut")
    await bot.driver.react(alice, general, message.ts, "tada")
    answer = await kudos(bot, alice, general, link(bot, "carol"))
    assert "0 of your 2" in answer["text"]
    refused = await kudos(bot, alice, general, f"{link(bot, 'bob')} again")
    assert "You have 0 of your 2 kudos left today" in refused["text"]
    await bot.settle()
    rows = await stored(bot)
    assert [(k.receiver_id, k.source, k.reason) for k in rows] == [
        (bob, KudosSource.REACTION, ""),
        (carol, KudosSource.COMMAND, ""),
    ]
