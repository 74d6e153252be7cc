"""Capturing lessons over the wire: `/lesson`, the modal, Save as lesson, Undo, Add details."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.emulator import Message
from handlers.lessons import ids
from storage.models import Lesson, LessonTag, Visibility
from tests.conftest import Bot


async def stored(bot: Bot) -> list[Lesson]:
    async with bot.db.reading() as session:
        found = list(await session.scalars(select(Lesson).order_by(Lesson.id)))
        for lesson in found:
            session.expunge(lesson)
        return found


async def tags_of(bot: Bot, lesson_id: int) -> set[str]:
    async with bot.db.reading() as session:
        rows = await session.scalars(select(LessonTag.tag).where(LessonTag.lesson_id == lesson_id))
        return set(rows)


def escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def quick(bot: Bot, user: str, channel: str, text: str) -> Message:
    reply = await bot.driver.command(user, channel, "/lesson", escaped(text))
    assert reply.status == 200
    await bot.app.deps.after_ack.idle()
    return bot.state.ephemerals_for(user, channel)[-1]


def modal_values(
    title: str = "Confirm the rollback plan",
    next_time: str = "Write the rollback plan before a Friday deploy",
    tags: str = "#deploys",
    **others: str,
) -> dict[str, Any]:
    fields = {ids.TITLE_BLOCK: title, ids.NEXT_TIME_BLOCK: next_time, ids.TAGS_BLOCK: tags}
    fields |= {getattr(ids, f"{k.upper()}_BLOCK"): v for k, v in others.items()}
    return {block: {ids.FIELD_ACTION: value} for block, value in fields.items()}


async def test_quick_capture_stores_the_lesson_with_tags_and_source(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    text = "Always confirm the rollback plan. Before a Friday deploy #deploys #Rollback"
    shown = await quick(bot, alice, general, text)

    [lesson] = await stored(bot)
    assert lesson.title == "Always confirm the rollback plan."
    assert lesson.next_time == "Always confirm the rollback plan. Before a Friday deploy"
    assert await tags_of(bot, lesson.id) == {"deploys", "rollback"}
    assert (lesson.author_id, lesson.source_channel_id) == (alice, general)
    # Private until Slack said, after the ack: #general is public.
    assert lesson.visibility == Visibility.PUBLIC
    assert bot.emu.calls_to("conversations.info")
    assert "Saved your lesson *Always confirm the rollback plan*." in shown.text  # one full stop
    assert "Add details" in str(shown.blocks) and "Undo" in str(shown.blocks)


async def test_quick_capture_of_only_tags_asks_for_the_lesson(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    reply = await bot.driver.command(alice, general, "/lesson", "#deploys #ops")
    assert "not the lesson itself" in reply.json["text"]
    assert await stored(bot) == []


async def test_injection_text_is_stored_as_typed_and_echoed_escaped(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    text = "Never <!channel> & <@U123> on a deploy"
    shown = await quick(bot, alice, general, text)

    [lesson] = await stored(bot)
    assert lesson.next_time == text
    rendered = shown.text + str(shown.blocks)
    assert "<!channel>" not in rendered and "<@U123>" not in rendered
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in shown.text


async def test_undo_deletes_only_for_its_author_within_ten_minutes(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    shown = await quick(bot, alice, general, "Pin the dependency versions #builds")

    await bot.driver.click(bob, shown, ids.UNDO_ACTION)
    await bot.settle()
    assert "Only the person who captured" in bot.state.ephemerals_for(bob, general)[-1].text
    assert len(await stored(bot)) == 1

    bot.clock.advance(timedelta(minutes=11))
    await bot.driver.click(alice, shown, ids.UNDO_ACTION)
    await bot.settle()
    assert "10 minutes" in bot.state.ephemerals_for(alice, general)[-1].text
    assert len(await stored(bot)) == 1


async def test_undo_by_the_author_deletes_it(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    shown = await quick(bot, alice, general, "Pin the dependency versions #builds")
    await bot.driver.click(alice, shown, ids.UNDO_ACTION)
    await bot.settle()
    assert "Undone" in bot.state.ephemerals_for(alice, general)[-1].text
    assert await stored(bot) == []


async def test_add_details_opens_the_form_prefilled_and_saves_the_details(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    shown = await quick(bot, alice, general, "Pin the dependency versions #builds")
    await bot.driver.click(alice, shown, ids.ADD_DETAILS_ACTION)
    await bot.app.deps.after_ack.idle()
    modal = bot.state.modal_stack(alice)[-1]
    assert "Pin the dependency versions" in str(modal["blocks"])

    values = modal_values("Pin versions", "Pin every dependency", "#builds #ci", why="Drift")
    reply = await bot.driver.view_submission(alice, modal, values)
    assert reply.json["response_action"] == "update"
    [lesson] = await stored(bot)
    assert (lesson.title, lesson.next_time, lesson.why) == (
        "Pin versions", "Pin every dependency", "Drift",
    )  # fmt: skip
    assert await tags_of(bot, lesson.id) == {"builds", "ci"}


async def test_empty_lesson_opens_the_modal_and_field_errors_keep_it(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    reply = await bot.driver.command(alice, general, "/lesson", "")
    assert reply.status == 200 and not reply.text
    await bot.app.deps.after_ack.idle()
    modal = bot.state.modal_stack(alice)[-1]
    assert modal["callback_id"] == ids.LESSON_VIEW

    reply = await bot.driver.view_submission(alice, modal, modal_values("x" * 151, ""))
    assert reply.json["response_action"] == "errors"
    assert set(reply.json["errors"]) == {ids.TITLE_BLOCK, ids.NEXT_TIME_BLOCK}
    assert await stored(bot) == []

    reply = await bot.driver.view_submission(alice, modal, modal_values())
    assert reply.json["response_action"] == "update"
    [lesson] = await stored(bot)
    assert lesson.source_channel_id == general and lesson.title == "Confirm the rollback plan"


async def test_similar_lesson_notice_for_a_near_duplicate(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    await quick(bot, alice, general, "Confirm the rollback plan before a Friday deploy #deploys")
    shown = await quick(
        bot, bob, general, "Confirm the rollback plan before Friday deploys #deploys"
    )
    assert "similar lesson" in shown.text
    assert "Confirm the rollback plan before a Friday deploy" in str(shown.blocks)


async def test_save_as_lesson_keeps_the_permalink_and_the_source(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    message, _ = await bot.driver.say(bob, general, f"The canary caught it. Ask <@{alice}> & co")
    reply = await bot.driver.message_action(alice, general, message.ts, ids.SAVE_AS_LESSON_SHORTCUT)
    assert reply.status == 200
    await bot.app.deps.after_ack.idle()
    modal = bot.state.modal_stack(alice)[-1]
    assert modal["callback_id"] == ids.LESSON_VIEW
    shown = str(modal["blocks"])
    assert "The canary caught it." in shown and "@alice" in shown  # the mention as a name

    reply = await bot.driver.view_submission(alice, modal, modal_values())
    assert reply.json["response_action"] == "update"
    [lesson] = await stored(bot)
    permalink = bot.emu.calls_to("chat.getPermalink")
    assert permalink and lesson.permalink and message.ts.replace(".", "") in lesson.permalink
    assert (lesson.source_channel_id, lesson.source_ts) == (general, message.ts)
    assert lesson.visibility == Visibility.PUBLIC


async def test_capture_shortcut_opens_the_form_with_no_channel(bot: Bot) -> None:
    alice = bot.user("alice")
    await bot.driver.shortcut(alice, ids.CAPTURE_SHORTCUT)
    await bot.app.deps.after_ack.idle()
    modal = bot.state.modal_stack(alice)[-1]
    reply = await bot.driver.view_submission(alice, modal, modal_values())
    assert reply.json["response_action"] == "update"
    [lesson] = await stored(bot)
    assert lesson.source_channel_id is None and lesson.visibility == Visibility.PUBLIC


async def test_capture_a_lesson_on_the_home_tab_opens_the_same_form(bot: Bot) -> None:
    alice = bot.user("alice")
    home = await bot.driver.open_home(alice)
    assert home is not None
    await bot.settle()
    await bot.driver.click(alice, bot.state.home_views[alice], ids.HOME_CAPTURE_ACTION)
    await bot.app.deps.after_ack.idle()
    modal = bot.state.modal_stack(alice)[-1]
    assert modal["callback_id"] == ids.LESSON_VIEW
    reply = await bot.driver.view_submission(alice, modal, modal_values())
    assert reply.json["response_action"] == "update"
    [lesson] = await stored(bot)
    assert lesson.author_id == alice


async def test_a_lesson_from_a_channel_slack_wont_show_stays_private(bot: Bot) -> None:
    alice = bot.user("alice")
    secret = bot.state.add_channel("secret", private=True, members=[alice]).id
    await quick(bot, alice, secret, "Rotate the keys before the audit #security")

    [lesson] = await stored(bot)
    # conversations.info answered channel_not_found: private, never public.
    assert lesson.visibility == Visibility.PRIVATE


async def test_the_idea_reaction_asks_the_author_once_by_dm_with_the_prefilled_form(
    bot: Bot,
) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    message, _ = await bot.driver.say(bob, general, "Feature flags let us roll back in seconds.")
    event = {
        "type": "reaction_added", "user": alice, "reaction": ids.IDEA_REACTION,
        "item": {"type": "message", "channel": general, "ts": message.ts},
        "item_user": bob, "event_ts": bot.state.new_ts(),
    }  # fmt: skip
    first = await bot.driver.event(event, event_id="Ev0IDEA1")
    retried = await bot.driver.event(event, event_id="Ev0IDEA1", retry_num=1)
    await bot.driver.react(carol, general, message.ts, ids.IDEA_REACTION)  # another: once
    await bot.settle()
    assert first.status == 200 and retried.status == 200

    dms = [c for c in bot.emu.calls_to("chat.postMessage") if c.args.get("channel") == bob]
    assert len(dms) == 1
    assert f"<@{alice}>" in dms[0].args["text"]
    [dm] = bot.state.history(bot.state.dm_channel(bob).id)
    assert f"<@{alice}>" in dm.text
    await bot.driver.click(bob, dm, ids.NOMINATION_ACTION)
    await bot.app.deps.after_ack.idle()
    modal = bot.state.modal_stack(bob)[-1]
    assert "Feature flags let us roll back in seconds." in str(modal["blocks"])
    assert bot.emu.calls_to("conversations.replies")

    reply = await bot.driver.view_submission(bob, modal, modal_values())
    assert reply.json["response_action"] == "update"
    [lesson] = await stored(bot)
    assert (lesson.source_ts, lesson.author_id) == (message.ts, bob)
    assert lesson.permalink


async def test_only_the_author_may_use_the_nomination(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    message, _ = await bot.driver.say(bob, general, "Small batches ship faster.")
    await bot.driver.react(alice, general, message.ts, ids.IDEA_REACTION)
    await bot.settle()
    [dm] = bot.state.history(bot.state.dm_channel(bob).id)
    # The button is in Bob's DM; were it clicked by someone else (a forwarded payload):
    await bot.driver.click(alice, dm, ids.NOMINATION_ACTION)
    await bot.settle()
    [refusal] = bot.state.history(bot.state.dm_channel(alice).id)
    assert "Only the message's author" in refusal.text
    assert bot.state.modal_stack(alice) == []


async def test_hostile_text_in_the_form_is_stored_as_typed_and_never_pings(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    hostile = "<!channel> <!here> <@U123> <https://evil|click> & co"
    await bot.driver.command(alice, general, "/lesson", "")
    await bot.app.deps.after_ack.idle()
    modal = bot.state.modal_stack(alice)[-1]
    values = modal_values(hostile[:150], hostile, "#x", why=hostile)
    reply = await bot.driver.view_submission(alice, modal, values)

    [lesson] = await stored(bot)
    assert (lesson.title, lesson.next_time, lesson.why) == (hostile, hostile, hostile)
    shown = str(reply.json["view"])
    for raw in ("<!channel>", "<!here>", "<@U123>", "<https://evil|click>"):
        assert raw not in shown
    assert "&lt;!channel&gt;" in shown and "&amp; co" in shown


async def test_quick_capture_answers_while_slack_hangs_and_keeps_the_lesson_private(
    bot: Bot,
) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    bot.emu.hang_after_accept("conversations.info")
    reply = await bot.driver.command(alice, general, "/lesson", "Tag every release #releases")

    # conversations.info is asked only after the ack: the answer does not wait for it.
    assert reply.status == 200 and "Tag every release" in reply.json["text"]
    [lesson] = await stored(bot)
    assert lesson.visibility == Visibility.UNKNOWN  # private until Slack has said


async def test_what_slack_said_about_a_channel_is_kept_not_asked_again(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    await quick(bot, alice, general, "Tag every release #releases")
    await quick(bot, alice, general, "Write the changelog first #releases")

    assert len(bot.emu.calls_to("conversations.info")) == 1
    assert [lesson.visibility for lesson in await stored(bot)] == [Visibility.PUBLIC] * 2


async def test_a_long_message_is_cut_to_slacks_input_limits_with_a_note(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    text = "Long retro notes. " + "word " * 7000
    message, _ = await bot.driver.say(bob, general, text)
    await bot.driver.message_action(alice, general, message.ts, ids.SAVE_AS_LESSON_SHORTCUT)
    await bot.app.deps.after_ack.idle()
    modal = bot.state.modal_stack(alice)[-1]

    initial = {
        b["block_id"]: b["element"].get("initial_value", "")
        for b in modal["blocks"]
        if b["type"] == "input"
    }
    assert initial[ids.TITLE_BLOCK] == "Long retro notes."
    assert len(initial[ids.NEXT_TIME_BLOCK]) <= 3000
    assert initial[ids.NEXT_TIME_BLOCK].endswith("its link is kept with the lesson]")
    assert len(modal["private_metadata"]) < 3000


async def test_a_lesson_captured_in_a_dm_is_recorded_as_from_a_dm(bot: Bot) -> None:
    alice = bot.user("alice")
    dm = bot.state.dm_channel(alice).id
    await quick(bot, alice, dm, "Say no to Friday deploys #deploys")

    [lesson] = await stored(bot)
    assert (lesson.source_channel_id, lesson.visibility) == (dm, Visibility.DM)


async def test_the_form_offers_the_tags_in_use_and_keeps_the_picked_ones(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    await quick(bot, alice, general, "Tag every release #releases")
    await bot.driver.command(alice, general, "/lesson", "")
    await bot.app.deps.after_ack.idle()
    modal = bot.state.modal_stack(alice)[-1]
    [picker] = [b for b in modal["blocks"] if b["block_id"] == ids.TAG_PICK_BLOCK]
    assert [o["value"] for o in picker["element"]["options"]] == ["releases"]

    values = modal_values(tags="#ci")
    picked = {"type": "multi_static_select", "selected_options": picker["element"]["options"]}
    values[ids.TAG_PICK_BLOCK] = {ids.FIELD_ACTION: picked}
    await bot.driver.view_submission(alice, modal, values)
    newest = (await stored(bot))[-1]
    assert await tags_of(bot, newest.id) == {"ci", "releases"}


async def test_an_after_action_review_is_found_by_lessons_with_a_word_from_its_why(
    bot: Bot,
) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    await bot.driver.command(alice, general, "/lesson", "")
    await bot.app.deps.after_ack.idle()
    modal = bot.state.modal_stack(alice)[-1]
    why = "The escalation policy was muted over the holidays"
    reply = await bot.driver.view_submission(alice, modal, modal_values(why=why))
    assert reply.json["response_action"] == "update"
    await bot.settle()  # what Slack says about #general is resolved after the ack

    # Bob asks in his own words: another form of a word of the "why" field.
    found = await bot.driver.command(bob, general, "/lessons", "escalations muted")
    assert found.status == 200
    answer = bot.state.ephemerals_for(bob, general)[-1]
    assert "Confirm the rollback plan" in str(answer.blocks)
    assert "Write the rollback plan before a Friday deploy" in str(answer.blocks)
