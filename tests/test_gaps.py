"""Knowledge gaps over the wire (both databases): raising one, +1, a matching lesson offered to
its author and linked, the people who asked told once; a gap the book already answers; Close
for coordinators; Raise as a knowledge gap on a message; another workspace's gaps never seen."""

from __future__ import annotations

from typing import Any

from bot.core import gaps, lessons
from bot.core.gaps import GapSource
from bot.core.lessons import LessonForm, LessonSource
from bot.emulator import Message
from bot.unit_of_work import UnitOfWork
from handlers.book import ids as book_ids
from handlers.gaps import ids
from handlers.lessons import ids as lesson_ids
from storage.models import Visibility
from storage.models.gaps import GapStatus
from tests.conftest import (
    OTHER_TEAM,
    Bot,
    capture,
    community_with,
    dm_messages,
    dm_texts,
    unit_of_work,
)

QUESTION = "How do we roll back a schema migration safely? #migrations"


async def doughnut(bot: Bot, user: str, channel: str, text: str) -> Message:
    """`/doughnut text`; the ephemeral answer as the person sees it."""
    reply = await bot.driver.command(user, channel, "/doughnut", text)
    assert reply.status == 200
    await bot.settle()
    return bot.state.ephemerals_for(user, channel)[-1]


def values_of(message: Message, action_id: str) -> list[str]:
    return [
        element["value"]
        for block in message.blocks or []
        for element in block.get("elements") or []
        if isinstance(element, dict) and element.get("action_id") == action_id
    ]


async def click_gap(bot: Bot, user: str, shown: Message, action_id: str, gap_id: int) -> None:
    await bot.driver.click(user, shown, action_id, block_id=f"gap-{gap_id}")
    await bot.settle()


def last_reply(bot: Bot, user: str, channel: str | None = None) -> str:
    """The last answer only this person saw (a click's answer goes under what was clicked)."""
    return bot.state.ephemerals_for(user, channel)[-1].text


async def gap_status(bot: Bot, gap_id: int) -> GapStatus:
    found = await gaps.get_gap(unit_of_work(bot), gap_id)
    assert found is not None
    return found.status


async def validate_over_the_wire(bot: Bot, reviewer: str, channel: str, words: str) -> None:
    await bot.driver.command(reviewer, channel, book_ids.LESSONS_COMMAND, words)
    found = bot.state.ephemerals_for(reviewer, channel)[-1]
    await bot.driver.click(reviewer, found, book_ids.VALIDATE_ACTION)
    modal = bot.state.modal_stack(reviewer)[-1]
    note = {book_ids.NOTE_BLOCK: {book_ids.NOTE_ACTION: "Every team with a database"}}
    reply = await bot.driver.view_submission(reviewer, modal, note)
    assert reply.status == 200
    await bot.settle()


def people(bot: Bot) -> dict[str, str]:
    for name in ("dave", "erin", "frank"):
        bot.state.add_user(name)
    names = ("alice", "bob", "carol", "dave", "erin", "frank")
    return {name: bot.user(name) for name in names}


async def test_gap_votes_a_validated_lesson_linked_and_the_askers_told_once(bot: Bot) -> None:
    p = people(bot)
    general = bot.channel("general")
    sre = await community_with(bot, general, coordinators=(p["alice"],), reviewers=(p["bob"],))

    raised = await doughnut(bot, p["carol"], general, f"gap {QUESTION}")
    assert "Recorded a knowledge gap in *SRE*" in raised.text
    assert "How do we roll back a schema migration safely?" in raised.text

    listed = await doughnut(bot, p["dave"], general, "gaps")
    [gap_id] = [int(v) for v in values_of(listed, ids.VOTE_ACTION)]
    assert values_of(listed, ids.CLOSE_ACTION) == []  # dave is no coordinator
    await click_gap(bot, p["dave"], listed, ids.VOTE_ACTION, gap_id)
    assert "Counted your +1" in last_reply(bot, p["dave"], general)
    await click_gap(bot, p["erin"], listed, ids.VOTE_ACTION, gap_id)
    # +1 twice: counted once, and said so.
    await click_gap(bot, p["dave"], listed, ids.VOTE_ACTION, gap_id)
    assert "You already +1'd" in last_reply(bot, p["dave"], general)
    assert "(2 in all)" in last_reply(bot, p["dave"], general)
    assert (await gaps.get_gap(unit_of_work(bot), gap_id)).votes == 2  # type: ignore[union-attr]

    # Frank's lesson, validated by Bob: Frank is offered to link it, once.
    lesson = await capture(
        bot, p["frank"], general, "Roll back a schema migration with expand and contract",
        next_time="Ship every schema migration in two steps, so a roll back changes no data.",
        tags=("migrations",), community_id=sre,
    )  # fmt: skip
    await validate_over_the_wire(bot, p["bob"], general, "schema migration")
    offers = [m for m in dm_messages(bot, p["frank"]) if "may answer a knowledge gap" in m.text]
    assert len(offers) == 1
    assert "How do we roll back a schema migration safely?" in offers[0].text
    assert dm_texts(bot, p["carol"]) == []  # nobody hears about an offer
    assert dm_texts(bot, p["dave"]) == []

    await bot.driver.click(p["frank"], offers[0], ids.LINK_ACTION)
    await bot.settle()
    for asker in ("carol", "dave", "erin"):
        [told] = dm_texts(bot, p[asker])
        assert "has an answer" in told and "Roll back a schema migration" in told
        assert f"<@{p['frank']}>" in told
    assert "Linked" in last_reply(bot, p["frank"])
    assert await gap_status(bot, gap_id) is GapStatus.ANSWERED

    # A second link, and the lesson validated again: nobody told twice, no second offer.
    await bot.driver.click(p["frank"], offers[0], ids.LINK_ACTION)
    await bot.settle()
    assert "already linked" in last_reply(bot, p["frank"])
    uow = unit_of_work(bot)
    await lessons.needs_work(uow, lesson.id, lessons.Viewer(p["bob"], general), "Say why")
    await uow.finish(ok=True)
    await validate_over_the_wire(bot, p["bob"], general, "schema migration")
    for asker in ("carol", "dave", "erin"):
        assert len(dm_texts(bot, p[asker])) == 1
    offers = [m for m in dm_messages(bot, p["frank"]) if "may answer a knowledge gap" in m.text]
    assert len(offers) == 1

    left = await doughnut(bot, p["dave"], general, "gaps")
    assert "No open knowledge gaps" in left.text


async def test_a_lesson_that_does_not_answer_is_not_offered(bot: Bot) -> None:
    p = people(bot)
    general = bot.channel("general")
    sre = await community_with(bot, general, coordinators=(p["alice"],), reviewers=(p["bob"],))
    await doughnut(bot, p["carol"], general, f"gap {QUESTION}")
    await capture(bot, p["frank"], general, "Write the agenda first",
                  next_time="Share the agenda a day before the meeting.", tags=("meetings",),
                  community_id=sre)  # fmt: skip
    await validate_over_the_wire(bot, p["bob"], general, "agenda")
    assert dm_texts(bot, p["frank"])[-1].startswith(f"<@{p['bob']}> validated")
    assert not [t for t in dm_texts(bot, p["frank"]) if "knowledge gap" in t]


async def test_a_gap_the_book_already_answers_is_answered_at_once(bot: Bot) -> None:
    p = people(bot)
    general = bot.channel("general")
    sre = await community_with(bot, general, coordinators=(p["alice"],), reviewers=(p["bob"],))
    lesson = await capture(
        bot, p["frank"], general, "Roll back a schema migration with expand and contract",
        next_time="Ship every schema migration in two steps, so a roll back changes no data.",
        tags=("migrations",), community_id=sre,
    )  # fmt: skip
    uow = unit_of_work(bot)
    await lessons.validate(uow, lesson.id, lessons.Viewer(p["bob"], general), "Every team")
    await uow.finish(ok=True)

    answer = await doughnut(bot, p["carol"], general, f"gap {QUESTION}")

    assert "Already known" in answer.text
    assert "Roll back a schema migration with expand and contract" in str(answer.blocks)
    assert "Ship every schema migration in two steps" in str(answer.blocks)
    listed = await doughnut(bot, p["dave"], general, "gaps")
    assert "No open knowledge gaps" in listed.text
    assert dm_texts(bot, p["frank"]) == [] and dm_texts(bot, p["carol"]) == []


async def test_only_coordinators_close_a_gap_with_a_note(bot: Bot) -> None:
    p = people(bot)
    general = bot.channel("general")
    await community_with(bot, general, coordinators=(p["alice"],), reviewers=(p["bob"],))
    await doughnut(bot, p["carol"], general, f"gap {QUESTION}")
    listed = await doughnut(bot, p["alice"], general, "gaps")
    [gap_id] = [int(v) for v in values_of(listed, ids.CLOSE_ACTION)]

    # Dave is no coordinator: an old button refuses at once, and nothing changes.
    await bot.driver.click(p["dave"], bot.shown_button(ids.CLOSE_ACTION, value=str(gap_id)),
                           ids.CLOSE_ACTION)  # fmt: skip
    [refused] = bot.state.modal_stack(p["dave"])
    assert "Only the coordinators" in str(refused["blocks"]) and not refused.get("submit")
    assert await gap_status(bot, gap_id) is GapStatus.OPEN

    await click_gap(bot, p["alice"], listed, ids.CLOSE_ACTION, gap_id)
    modal = bot.state.modal_stack(p["alice"])[-1]
    assert modal["callback_id"] == ids.CLOSE_VIEW
    status = {"type": "static_select", "selected_option": {"value": "out_of_scope"}}
    empty: dict[str, Any] = {ids.CLOSE_STATUS_BLOCK: {ids.FIELD_ACTION: status},
                             ids.NOTE_BLOCK: {ids.FIELD_ACTION: " "}}  # fmt: skip
    reply = await bot.driver.view_submission(p["alice"], modal, empty)
    assert (reply.json or {}).get("response_action") == "errors"
    assert await gap_status(bot, gap_id) is GapStatus.OPEN
    noted = {**empty, ids.NOTE_BLOCK: {ids.FIELD_ACTION: "Ask the <!channel> DBA team & co"}}
    reply = await bot.driver.view_submission(p["alice"], modal, noted)
    await bot.settle()
    assert "out of scope" in str(bot.state.modal_stack(p["alice"])[-1]["blocks"])
    closed = await gaps.get_gap(unit_of_work(bot), gap_id)
    assert closed is not None and closed.status is GapStatus.OUT_OF_SCOPE
    assert closed.closed_by == p["alice"]
    assert closed.close_note == "Ask the <!channel> DBA team & co"
    # A closed gap takes no more +1.
    await click_gap(bot, p["dave"], listed, ids.VOTE_ACTION, gap_id)
    assert "closed already" in last_reply(bot, p["dave"], general)


async def test_bad_input_and_hostile_text(bot: Bot) -> None:
    p = people(bot)
    general = bot.channel("general")
    quiet = bot.state.add_channel("quiet", members=[p["carol"]]).id

    usage = await doughnut(bot, p["carol"], general, "gap #only-tags")
    assert "Say what the community can't answer yet" in usage.text
    nowhere = await doughnut(bot, p["carol"], quiet, "gap What is this?")
    assert "belong to a community" in nowhere.text

    await community_with(bot, general, coordinators=(p["alice"],))
    # As Slack sends it with should_escape: a special mention, a user mention, escaped & < >.
    hostile = "gap Who pages <!channel> for <@U0FAKE|mallory> &amp; &lt;b&gt; bold? #on-call"
    raised = await doughnut(bot, p["carol"], general, hostile)
    listed = await doughnut(bot, p["alice"], general, "gaps")
    for shown in (raised, listed):
        everything = shown.text + str(shown.blocks)
        assert "<!channel>" not in everything and "<@U0FAKE" not in everything
        assert "<b>" not in everything
        assert "&lt;b&gt;" in everything and "&amp;" in everything
    assert "#on-call" in str(listed.blocks)
    [gap_id] = values_of(listed, ids.VOTE_ACTION)
    await bot.driver.click(p["dave"], listed, ids.VOTE_ACTION)
    await bot.settle()
    counted = last_reply(bot, p["dave"], general)
    assert "<!channel>" not in counted and "&lt;b&gt;" in counted
    assert gap_id


async def test_raise_as_a_knowledge_gap_from_a_message_keeps_its_link(bot: Bot) -> None:
    p = people(bot)
    general = bot.channel("general")
    await community_with(bot, general, coordinators=(p["alice"],))
    asked = bot.state.add_message(
        Message(general, bot.state.new_ts(), "Does anyone know how to rotate the API keys?",
                user=p["bob"])
    )  # fmt: skip

    reply = await bot.driver.message_action(p["carol"], general, asked.ts, ids.RAISE_GAP_SHORTCUT)
    assert reply.status == 200
    await bot.app.deps.after_ack.idle()  # the permalink and the form come after the ack
    modal = bot.state.modal_stack(p["carol"])[-1]
    assert modal["callback_id"] == ids.GAP_VIEW
    assert "Does anyone know how to rotate the API keys?" in str(modal["blocks"])
    assert "this conversation" in str(modal["blocks"])
    assert bot.emu.calls_to("chat.getPermalink")

    values = {
        ids.QUESTION_BLOCK: {ids.FIELD_ACTION: "How do we rotate the API keys?"},
        ids.TAGS_BLOCK: {ids.FIELD_ACTION: "#security"},
    }
    reply = await bot.driver.view_submission(p["carol"], modal, values)
    assert reply.status == 200
    await bot.settle()
    assert "Recorded a knowledge gap" in str(bot.state.modal_stack(p["carol"])[-1]["blocks"])
    listed = await doughnut(bot, p["alice"], general, "gaps")
    assert "How do we rotate the API keys?" in str(listed.blocks)
    assert "from this conversation" in str(listed.blocks) and "#security" in str(listed.blocks)


async def test_i_can_answer_opens_the_lesson_form_and_links_its_lesson(bot: Bot) -> None:
    p = people(bot)
    general = bot.channel("general")
    await community_with(bot, general, coordinators=(p["alice"],))
    await doughnut(bot, p["carol"], general, "gap Who rolls back <!channel> &lt;b&gt; schemas?")
    listed = await doughnut(bot, p["dave"], general, "gaps")
    [gap_id] = [int(v) for v in values_of(listed, ids.VOTE_ACTION)]
    await click_gap(bot, p["dave"], listed, ids.VOTE_ACTION, gap_id)

    await click_gap(bot, p["frank"], listed, ids.ANSWER_ACTION, gap_id)
    await bot.app.deps.after_ack.idle()
    form = bot.state.modal_stack(p["frank"])[-1]
    values = {
        lesson_ids.TITLE_BLOCK: {lesson_ids.FIELD_ACTION: "Expand, then contract <!here> <b>"},
        lesson_ids.NEXT_TIME_BLOCK: {lesson_ids.FIELD_ACTION: "Two-step schema migrations."},
    }
    reply = await bot.driver.view_submission(p["frank"], form, values)
    assert reply.status == 200
    await bot.settle()
    assert await gap_status(bot, gap_id) is GapStatus.ANSWERED
    for asker in ("carol", "dave"):
        [told] = dm_messages(bot, p[asker])
        everything = told.text + str(told.blocks)
        assert "Expand, then contract" in everything and "Who rolls back" in everything
        assert "<!channel>" not in everything and "<!here>" not in everything
        assert "<b>" not in everything and "&lt;b&gt;" in everything
    assert not [t for t in dm_texts(bot, p["frank"]) if "has an answer" in t]


async def test_another_workspace_gaps_and_lessons_never_count(bot: Bot) -> None:
    p = people(bot)
    general = bot.channel("general")
    await community_with(bot, general, coordinators=(p["alice"],))
    theirs = await community_with(bot, general, coordinators=(p["alice"],), name="Theirs",
                                  installation=OTHER_TEAM)  # fmt: skip
    other = UnitOfWork(bot.app.deps, OTHER_TEAM)
    form = LessonForm(title="Roll back a schema migration with expand and contract",
                      next_time="Two steps, so a roll back changes no data.",
                      tags=("migrations",), community_id=theirs)  # fmt: skip
    captured = await lessons.capture_lesson(
        other, form, LessonSource(p["frank"], general, Visibility.PUBLIC)
    )
    assert captured.lesson is not None
    await lessons.validate(other, captured.lesson.id, lessons.Viewer(p["alice"], general), "All")
    their_gap = await gaps.raise_gap(
        other, "Who owns the pager rota?", ("on-call",), GapSource(p["carol"], general)
    )
    await other.finish(ok=True)
    assert their_gap.gap is not None

    # Their validated lesson does not answer our gap; their gap is not in our list.
    raised = await doughnut(bot, p["carol"], general, f"gap {QUESTION}")
    assert "Recorded a knowledge gap" in raised.text
    listed = await doughnut(bot, p["dave"], general, "gaps")
    assert "pager rota" not in str(listed.blocks)
    assert len(values_of(listed, ids.VOTE_ACTION)) == 1
    # Their gap's id, on a button here: gone.
    button = bot.shown_button(ids.VOTE_ACTION, value=str(their_gap.gap.id))
    await bot.driver.click(p["dave"], button, ids.VOTE_ACTION)
    await bot.settle()
    assert "That knowledge gap is gone" in last_reply(bot, p["dave"], general)
    theirs_now = await gaps.get_gap(UnitOfWork(bot.app.deps, OTHER_TEAM), their_gap.gap.id)
    assert theirs_now is not None and theirs_now.votes == 0
