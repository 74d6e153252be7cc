"""The book of knowledge over the wire: `/lessons` search and pages, review buttons and their
notes, "I used this", Publish for private-channel lessons (both databases)."""

from __future__ import annotations

import re
from typing import Any

from bot.core import lessons
from bot.core.communities import SetupForm, save_setup
from bot.core.lessons import LessonView
from bot.emulator import Message
from handlers.book import ids
from storage.models import LessonStatus, Visibility
from tests.conftest import Bot, capture, lesson_community, unit_of_work


async def search(bot: Bot, user: str, channel: str, text: str = "") -> Message:
    """`/lessons text`; the ephemeral answer as the person sees it."""
    reply = await bot.driver.command(user, channel, ids.LESSONS_COMMAND, text)
    assert reply.status == 200
    return bot.state.ephemerals_for(user, channel)[-1]


def shown(message: Message) -> str:
    return str(message.blocks)


def buttons(message: Message, action_id: str) -> list[str]:
    return [
        element["value"]
        for block in message.blocks or []
        for element in block.get("elements") or []
        if isinstance(element, dict) and element.get("action_id") == action_id
    ]


async def status_of(bot: Bot, lesson_id: int, user: str) -> LessonView:
    found = await lessons.get_lesson(unit_of_work(bot), lesson_id, lessons.Viewer(user))
    assert found is not None
    return found


async def test_a_lesson_is_found_by_a_word_of_its_why_with_what_a_reader_needs(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    lesson = await capture(
        bot, alice, general, why="The escalation policy was muted over the weekend.",
        tags=("deploys", "on-call"),
    )  # fmt: skip
    await capture(bot, alice, general, "Write the agenda first", next_time="Share it a day early.",
                  tags=("meetings",))  # fmt: skip

    answer = await search(bot, bob, general, "escalation")

    assert "Confirm the rollback plan" in answer.text
    blocks = shown(answer)
    assert "Rehearse the rollback steps" in blocks and "Write the agenda" not in blocks
    assert "captured" in blocks and f"<@{alice}>" in blocks
    assert "#deploys" in blocks and "#on-call" in blocks
    assert "not reused yet" in blocks and f"<#{general}>" in blocks
    assert buttons(answer, ids.USED_ACTION) == [str(lesson.id)]
    assert buttons(answer, ids.PUBLISH_ACTION) == []  # public already
    assert buttons(answer, ids.VALIDATE_ACTION) == []  # bob reviews nothing


async def test_five_a_page_and_more_shows_the_rest(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    for n in range(7):
        await capture(bot, alice, general, f"Kafka lesson number {n}", tags=("kafka",))

    first = await search(bot, bob, general, "kafka")
    assert len(buttons(first, ids.USED_ACTION)) == 5
    await bot.driver.click(bob, first, ids.MORE_ACTION)
    await bot.settle()
    second = bot.state.ephemerals_for(bob, general)[-1]

    assert second is not first
    assert len(buttons(second, ids.USED_ACTION)) == 2
    assert buttons(second, ids.MORE_ACTION) == []
    seen = set(buttons(first, ids.USED_ACTION)) | set(buttons(second, ids.USED_ACTION))
    assert len(seen) == 7


async def test_more_reaches_the_person_in_a_channel_the_bot_is_not_in(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    for n in range(7):
        await capture(bot, alice, general, f"Kafka lesson number {n}", tags=("kafka",))
    quiet = bot.state.add_channel("quiet", members=[bob]).id  # public; the bot never joined

    first = await search(bot, bob, quiet, "kafka")
    await bot.driver.click(bob, first, ids.MORE_ACTION)
    await bot.settle()

    second = bot.state.ephemerals_for(bob, quiet)[-1]
    assert second is not first
    assert len(buttons(second, ids.USED_ACTION)) == 2
    [call] = bot.emu.calls_to("response_url")
    assert call.ok
    assert bot.emu.calls_to("chat.postEphemeral") == []


async def test_no_query_shows_recent_validated_and_most_reused(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    empty = await search(bot, bob, general)
    assert "No validated practices yet" in empty.text

    sre = await lesson_community(bot, general, alice, bob)
    lesson = await capture(bot, alice, general, community_id=sre)
    uow = unit_of_work(bot)
    await lessons.validate(uow, lesson.id, lessons.Viewer(bob, general), "Every team")
    await uow.finish(ok=True)

    answer = await search(bot, bob, general)
    assert "Recent validated practices" in answer.text
    assert "Confirm the rollback plan" in shown(answer)


async def test_nothing_found_suggests_fewer_filters_and_capturing(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    await capture(bot, alice, general)

    answer = await search(bot, alice, general, "zeppelin #airships status:validated")
    assert "Nothing in the book of knowledge matches" in answer.text
    assert "remove a filter" in answer.text and "/lesson" in answer.text

    unknown = await search(bot, alice, general, "rollback by:@nobody")
    assert "Pick a person for by:" in shown(unknown)
    bad_status = await search(bot, alice, general, "rollback status:done")
    assert "status:validated" in shown(bad_status)


async def test_a_private_channel_lesson_is_found_elsewhere_only_once_published(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    secret = bot.state.add_channel("secret", private=True, members=[alice]).id
    lesson = await capture(bot, alice, secret, visibility=Visibility.PRIVATE)

    assert "Nothing in the book" in (await search(bot, bob, general, "rollback")).text
    # Bob can't publish it even with a button: he can't see it, only its author can.
    await bot.driver.click(bob, bot.shown_button(ids.PUBLISH_ACTION, value=str(lesson.id)),
                           ids.PUBLISH_ACTION)  # fmt: skip
    await bot.settle()
    assert "Nothing in the book" in (await search(bot, bob, general, "rollback")).text
    bobs = [m.text for m in bot.state.history(bot.state.dm_channel(bob).id) if m.bot_id]
    assert bobs == ["I can't find that lesson (it may be private to another channel)."]

    mine = await search(bot, alice, secret, "rollback")
    assert buttons(mine, ids.PUBLISH_ACTION) == [str(lesson.id)]
    await bot.driver.click(alice, mine, ids.PUBLISH_ACTION)
    await bot.settle()
    told = [m.text for m in bot.state.history(bot.state.dm_channel(alice).id) if m.bot_id]
    assert "is published" in told[-1] and "Only the lesson's author" not in str(told)

    found = await search(bot, bob, general, "rollback")
    assert buttons(found, ids.USED_ACTION) == [str(lesson.id)]


async def submit_note(bot: Bot, user: str, note: str) -> dict[str, Any]:
    modal = bot.state.modal_stack(user)[-1]
    reply = await bot.driver.view_submission(user, modal, {ids.NOTE_BLOCK: {ids.NOTE_ACTION: note}})
    assert reply.status == 200
    await bot.settle()
    return reply.json or {}


async def test_a_reviewer_validates_with_a_note_and_others_are_refused(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    sre = await lesson_community(bot, general, alice, bob)
    lesson = await capture(bot, alice, general, community_id=sre)

    # Carol is no reviewer: the button (say, on an old message) refuses at once, before any note.
    await bot.driver.click(carol, bot.shown_button(ids.VALIDATE_ACTION, value=str(lesson.id)),
                           ids.VALIDATE_ACTION)  # fmt: skip
    [refused] = bot.state.modal_stack(carol)
    assert "Only the reviewers and coordinators" in str(refused["blocks"])
    assert [b["type"] for b in refused["blocks"]] == ["section"] and not refused.get("submit")
    assert (await status_of(bot, lesson.id, carol)).status is LessonStatus.CAPTURED

    # Bob reviews: he sees the buttons; the note modal opens; a note is required.
    answer = await search(bot, bob, general, "rollback")
    assert buttons(answer, ids.VALIDATE_ACTION) == [str(lesson.id)]
    await bot.driver.click(bob, answer, ids.VALIDATE_ACTION)
    [form] = bot.state.modal_stack(bob)
    assert form["callback_id"] == ids.REVIEW_VIEW and ids.NOTE_BLOCK in str(form["blocks"])
    assert (await submit_note(bot, bob, "  "))["response_action"] == "errors"
    assert (await status_of(bot, lesson.id, bob)).status is LessonStatus.CAPTURED
    await submit_note(bot, bob, "Any team deploying on Fridays")

    assert (await status_of(bot, lesson.id, bob)).status is LessonStatus.VALIDATED
    assert "is validated" in str(bot.state.modal_stack(bob)[-1]["blocks"])
    history = await lessons.decisions(unit_of_work(bot), lesson.id)
    assert [(d.by_user, d.note) for d in history] == [(bob, "Any team deploying on Fridays")]
    [dm] = [m for m in bot.state.history(bot.state.dm_channel(alice).id) if m.bot_id]
    assert f"<@{bob}> validated your lesson" in dm.text
    assert "Any team deploying on Fridays" in str(dm.blocks)
    # Accountability: anyone who finds it sees who validated it, when, and where it applies.
    found = await search(bot, carol, general, "rollback")
    day = f"{bot.clock.now():%Y-%m-%d}"
    shown = f"Validated by <@{bob}> on {day}: applies to Any team deploying on Fridays"
    assert shown in str(found.blocks)


async def test_a_reviewer_dropped_while_writing_the_note_is_refused_on_submit(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    sre = await lesson_community(bot, general, alice, bob)
    lesson = await capture(bot, alice, general, community_id=sre)
    await bot.driver.click(bob, await search(bot, bob, general, "rollback"), ids.RETIRE_ACTION)
    assert bot.state.modal_stack(bob)[-1]["callback_id"] == ids.REVIEW_VIEW

    # Meanwhile the coordinator takes Bob off the reviewers: the submission checks again.
    uow = unit_of_work(bot)
    form = SetupForm(name="SRE", description="", timezone="UTC", coordinators=[alice],
                     reviewers=[])  # fmt: skip
    assert (await save_setup(uow, alice, general, form, editing=True, is_private=False)).saved
    await uow.finish(ok=True)

    await submit_note(bot, bob, "Superseded")
    assert "Only the reviewers and coordinators" in str(bot.state.modal_stack(bob)[-1]["blocks"])
    assert (await status_of(bot, lesson.id, bob)).status is LessonStatus.CAPTURED


async def test_needs_work_tells_the_author_and_retire_needs_a_reason(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    sre = await lesson_community(bot, general, alice, bob)
    lesson = await capture(bot, alice, general, community_id=sre)

    answer = await search(bot, bob, general, "rollback")
    await bot.driver.click(bob, answer, ids.NEEDS_WORK_ACTION)
    await submit_note(bot, bob, "Say which deploys")
    [dm] = [m for m in bot.state.history(bot.state.dm_channel(alice).id) if m.bot_id]
    assert "needs work" in dm.text and "Say which deploys" in str(dm.blocks)

    await bot.driver.click(bob, answer, ids.RETIRE_ACTION)
    await submit_note(bot, bob, "Superseded")
    assert (await status_of(bot, lesson.id, bob)).status is LessonStatus.RETIRED


async def test_i_used_this_twice_counts_once_and_offers_to_take_it_back(bot: Bot) -> None:
    alice, carol, general = bot.user("alice"), bot.user("carol"), bot.channel("general")
    lesson = await capture(bot, alice, general)

    answer = await search(bot, carol, general, "rollback")
    await bot.driver.click(carol, answer, ids.USED_ACTION)
    await submit_note(bot, carol, "Saved our Friday")
    [dm] = [m for m in bot.state.history(bot.state.dm_channel(alice).id) if m.bot_id]
    assert f"<@{carol}> used your lesson" in dm.text and "Saved our Friday" in str(dm.blocks)

    await bot.driver.click(carol, answer, ids.USED_ACTION)
    await submit_note(bot, carol, "Again")
    offer = bot.state.modal_stack(carol)[-1]
    assert offer["callback_id"] == ids.UNUSE_VIEW
    counted = await status_of(bot, lesson.id, carol)
    assert (counted.used_by, counted.used_in) == (1, 1)
    assert "used by 1 person in 1 channel" in shown(await search(bot, carol, general, "rollback"))

    await bot.driver.view_submission(carol, offer, {})
    assert (await status_of(bot, lesson.id, carol)).used_by == 0


async def test_a_question_to_doughnut_gets_top_practices_and_who_knows(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    secret = bot.state.add_channel("secret", private=True, members=[carol]).id
    sre = await lesson_community(bot, general, alice, bob)
    lesson = await capture(bot, alice, general, community_id=sre)
    for n in range(3):
        await capture(bot, alice, general, f"Rollback drill {n}", community_id=sre)
    # Carol's own lesson from a private channel is not told to #general.
    await capture(bot, carol, secret, "Rollback secrets", visibility=Visibility.PRIVATE)
    uow = unit_of_work(bot)
    await lessons.validate(uow, lesson.id, lessons.Viewer(bob, general), "Every team")
    await lessons.mark_used(uow, lesson.id, lessons.Viewer(carol, general))
    await uow.finish(ok=True)

    question, _ = await bot.driver.say(
        carol, general, f"<@{bot.state.bot_user_id}> how do we rehearse a rollback?"
    )
    await bot.settle()

    [answer] = [m for m in bot.state.replies(general, question.ts) if m.bot_id]
    assert answer.thread_ts == question.ts
    shown_text = str(answer.blocks)
    assert shown_text.count(":seedling:") + shown_text.count(":white_check_mark:") == 3
    assert "Confirm the rollback plan" in shown_text and "Rollback secrets" not in shown_text
    assert f"Who knows: <@{alice}>, <@{bob}>, <@{carol}>." in answer.text


async def test_a_bare_mention_says_how_to_ask(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    question, _ = await bot.driver.say(alice, general, f"<@{bot.state.bot_user_id}>")
    await bot.settle()
    [answer] = [m for m in bot.state.replies(general, question.ts) if m.bot_id]
    assert answer.text.startswith("Hi! Ask me a question after my name")


# ---- The Home tab -----------------------------------------------------------------------------


async def home_of(bot: Bot, user: str) -> dict[str, Any]:
    await bot.driver.open_home(user)
    await bot.settle()
    return bot.state.home_views[user]


def part(home: dict[str, Any], title: str) -> str:
    """The blocks of one list of the book's Home section, from its title to the next divider."""
    blocks = home["blocks"]
    start = next(i for i, b in enumerate(blocks) if title in str(b.get("text", "")))
    end = next((i for i in range(start, len(blocks)) if blocks[i]["type"] == "divider"), None)
    return str(blocks[start:end])


async def test_home_shows_my_lessons_the_review_queue_to_reviewers_and_recent_validated(
    bot: Bot,
) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    dave = bot.state.add_user("dave").id
    general = bot.channel("general")
    secret = bot.state.add_channel("secret", private=True, members=[dave]).id
    sre = await lesson_community(bot, general, alice, bob)
    waiting = await capture(bot, carol, general, "Page the on-call twice", community_id=sre)
    await capture(bot, dave, secret, "Dave's secret outage", community_id=sre,
                  visibility=Visibility.PRIVATE)  # fmt: skip
    practice = await capture(bot, carol, general, "Write the agenda first", community_id=sre)
    uow = unit_of_work(bot)
    await lessons.validate(uow, practice.id, lessons.Viewer(bob, general), "Every meeting")
    await uow.finish(ok=True)

    bobs = await home_of(bot, bob)
    queue = part(bobs, "Waiting for your review")
    assert "Page the on-call twice" in queue and "secret outage" not in queue
    assert "Write the agenda first" in part(bobs, "Recent validated practices")
    assert "You have not captured a lesson yet" in part(bobs, "Your lessons")
    assert "secret outage" not in str(bobs)

    carols = await home_of(bot, carol)
    mine = part(carols, "Your lessons")
    assert "Page the on-call twice" in mine and "Write the agenda first" in mine
    assert "Waiting for your review" not in str(carols)
    assert ids.VALIDATE_ACTION not in str(carols)
    daves = await home_of(bot, dave)
    assert "Dave's secret outage" in part(daves, "Your lessons")  # the author sees their own

    # The queue's Validate button is the one /lessons shows: a note, then the lesson is validated.
    await bot.driver.click(bob, bobs, ids.VALIDATE_ACTION)
    await submit_note(bot, bob, "Any on-call rotation")
    assert (await status_of(bot, waiting.id, bob)).status is LessonStatus.VALIDATED
    told = [m.text for m in bot.state.history(bot.state.dm_channel(carol).id) if m.bot_id]
    assert "validated your lesson" in told[-1]


async def test_home_keeps_within_slacks_block_budget_with_many_lessons(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    sre = await lesson_community(bot, general, alice, bob)
    for n in range(30):
        await capture(bot, bob, general, f"Captured lesson {n}", community_id=sre)
    for n in range(12):
        done = await capture(bot, alice, general, f"Practice {n}", community_id=sre)
        uow = unit_of_work(bot)
        await lessons.validate(uow, done.id, lessons.Viewer(bob, general), "Everywhere")
        await uow.finish(ok=True)

    home = await home_of(bot, bob)

    assert len(home["blocks"]) <= 100
    assert "Your communities" in str(home["blocks"])  # the other sections keep their share
    # Each section ends with "and N more"; N depends on the share the other sections take.
    for name, total in (("Your lessons", 30), ("Waiting for your review", 30),
                        ("Recent validated practices", 12)):  # fmt: skip
        more = re.search(r"_and (\d+) more", part(home, name))
        assert more is not None and 0 < int(more.group(1)) < total


async def test_a_decision_made_on_the_home_tab_refreshes_it(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    sre = await lesson_community(bot, general, alice, bob)
    await capture(bot, carol, general, "Page the on-call twice", community_id=sre)
    bobs = await home_of(bot, bob)
    assert "Page the on-call twice" in part(bobs, "Waiting for your review")
    published = len(bot.emu.calls_to("views.publish"))

    await bot.driver.click(bob, bobs, ids.VALIDATE_ACTION)
    await submit_note(bot, bob, "Any on-call rotation")

    # Without reopening the tab: Slack got bob's fresh Home tab.
    assert len(bot.emu.calls_to("views.publish")) == published + 1
    fresh = bot.state.home_views[bob]
    assert "Page the on-call twice" not in part(fresh, "Waiting for your review")
    assert "Page the on-call twice" in part(fresh, "Recent validated practices")


async def test_a_decision_made_in_a_channel_leaves_the_home_tab_alone(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    sre = await lesson_community(bot, general, alice, bob)
    await capture(bot, carol, general, "Page the on-call twice", community_id=sre)
    published = len(bot.emu.calls_to("views.publish"))

    answer = await search(bot, bob, general, "on-call")
    await bot.driver.click(bob, answer, ids.VALIDATE_ACTION)
    await submit_note(bot, bob, "Any on-call rotation")

    assert len(bot.emu.calls_to("views.publish")) == published


async def test_i_used_this_on_the_home_tab_refreshes_it(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    sre = await lesson_community(bot, general, alice, bob)
    practice = await capture(bot, carol, general, "Write the agenda first", community_id=sre)
    uow = unit_of_work(bot)
    await lessons.validate(uow, practice.id, lessons.Viewer(alice, general), "Every meeting")
    await uow.finish(ok=True)
    bobs = await home_of(bot, bob)
    assert "not reused yet" in part(bobs, "Recent validated practices")

    await bot.driver.click(bob, bobs, ids.USED_ACTION)
    await submit_note(bot, bob, "Our retro went well")

    recent = part(bot.state.home_views[bob], "Recent validated practices")
    assert "Write the agenda first" in recent and "not reused yet" not in recent
