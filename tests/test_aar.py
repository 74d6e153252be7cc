"""After Action Reviews over the wire: `/doughnut aar`, the thread's replies, the summary, the
lesson; and paused communities (channel archived, bot removed)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.aar import QUESTIONS, AarRefusal, AarRequest, AarView, Answer, Summary, parse_request
from bot.emulator import Message
from handlers.aar import ids, views
from handlers.lessons import ids as lesson_ids
from scheduler import Job, Period, Schedule, Scheduler, Target, build_scheduler
from storage import deliveries
from storage.db import Database
from storage.models import AarReply, AarRun, AarState, Community, Delivery, Lesson
from tests.conftest import Bot, aar_community, slack_escaped

HOSTILE = "<!channel> & <@U123>"


# ---- helpers ----------------------------------------------------------------------------------


async def aar(bot: Bot, user: str, channel: str, words: str = "") -> str:
    """Run `/doughnut aar <words>` (Slack escapes the text); the ephemeral answer's text."""
    reply = await bot.driver.command(
        user, channel, "/doughnut", slack_escaped(f"aar {words}".strip())
    )
    assert reply.status == 200
    return reply.json["text"]


async def tick(bot: Bot) -> None:
    """The leader's scheduler ticks at the bot's clock, and the outbox sends what it queued."""
    await build_scheduler(bot.db, bot.app.registry.jobs).tick(bot.clock.now())
    await bot.settle()


def bot_posts(bot: Bot, channel: str) -> list[Message]:
    """The bot's messages in a channel, thread replies included, oldest first."""
    return [m for m in bot.state.history(channel) if m.user == bot.state.bot_user_id]


def questions(bot: Bot, channel: str) -> list[Message]:
    return [
        m for m in bot_posts(bot, channel) if "After Action Review" in m.text and not m.is_reply
    ]


def summaries(bot: Bot, channel: str) -> list[Message]:
    return [m for m in bot_posts(bot, channel) if m.is_reply and "Summary of" in m.text]


async def runs(bot: Bot) -> list[AarRun]:
    async with bot.db.reading() as session:
        found = list(await session.scalars(select(AarRun).order_by(AarRun.id)))
        for run in found:
            session.expunge(run)
        return found


async def replies(bot: Bot) -> list[tuple[str, str]]:
    async with bot.db.reading() as session:
        rows = await session.execute(select(AarReply.user_id, AarReply.text).order_by(AarReply.id))
        return [(u, t) for u, t in rows]


async def reply_in_thread(bot: Bot, user: str, channel: str, thread: Message, text: str) -> Any:
    _, delivered = await bot.driver.say(user, channel, text, thread_ts=thread.ts)
    return delivered


def dms_to(bot: Bot, user: str) -> list[Message]:
    return [m for m in bot.state.history(bot.state.dm_channel(user).id)]


def prefilled(modal: dict[str, Any]) -> dict[str, str]:
    """What a modal's text inputs show, by block id."""
    return {
        block["block_id"]: block["element"].get("initial_value", "")
        for block in modal["blocks"]
        if block["type"] == "input" and block["element"]["type"] == "plain_text_input"
    }


async def started(bot: Bot, channel: str, words: str = "Checkout launch") -> Message:
    alice = bot.user("alice")
    await aar(bot, alice, channel, words)
    await tick(bot)
    [posted] = questions(bot, channel)
    return posted


# ---- `/doughnut aar` now ----------------------------------------------------------------------


async def test_aar_now_in_a_public_channel_joins_and_posts_the_four_questions_once(
    bot: Bot,
) -> None:
    alice, random = bot.user("alice"), bot.channel("random")
    assert bot.state.bot_user_id not in bot.state.channels[random].members

    answer = await aar(bot, alice, random, "Checkout launch")
    assert "Checkout launch" in answer and "in a moment" in answer and "24 hours" in answer
    assert "I'll join the channel" in answer
    assert bot_posts(bot, random) == []  # started by the scheduler, not the request

    await tick(bot)
    assert len(bot.emu.calls_to("conversations.join")) == 1
    assert bot.state.bot_user_id in bot.state.channels[random].members
    [posted] = questions(bot, random)
    for question in ("expect", "actually happened", "Why was there a difference", "next time"):
        assert question in str(posted.blocks)
    assert "Checkout launch" in posted.text

    await tick(bot)
    bot.clock.advance(timedelta(hours=1))
    await tick(bot)
    assert len(questions(bot, random)) == 1
    assert len(bot.emu.calls_to("conversations.join")) == 1
    [run] = await runs(bot)
    assert run.state is AarState.OPEN and run.started_by == alice


async def test_replies_in_the_thread_are_collected_once_and_others_ignored(bot: Bot) -> None:
    alice, bob, random = bot.user("alice"), bot.user("bob"), bot.channel("random")
    posted = await started(bot, random)

    await reply_in_thread(bot, alice, random, posted, "1. A calm launch\n2. Checkout broke")
    # Slack retries a delivery (same event id): counted once.
    message, found = bot.emu.user_message(bob, random, "3. No load test", thread_ts=posted.ts)
    [event] = found
    first = await bot.driver.event(event, event_id="Ev0AARRETRY")
    again = await bot.driver.event(event, event_id="Ev0AARRETRY", retry_num=1)
    assert first.status == 200 and again.status == 200
    # Outside the thread: a channel message, and a reply in another thread.
    other, _ = await bot.driver.say(bob, random, "Lunch anyone?")
    await reply_in_thread(bot, alice, random, other, "Yes please")
    await bot.settle()

    assert await replies(bot) == [
        (alice, "1. A calm launch\n2. Checkout broke"),
        (bob, "3. No load test"),
    ]


async def test_after_the_window_one_summary_with_the_button(bot: Bot) -> None:
    alice, bob, random = bot.user("alice"), bot.user("bob"), bot.channel("random")
    posted = await started(bot, random)
    await reply_in_thread(bot, alice, random, posted, "1. A calm launch\n2. Checkout broke")
    await reply_in_thread(bot, bob, random, posted, "why: no load test\nnext: load test first")

    bot.clock.advance(timedelta(hours=23, minutes=59))
    await tick(bot)
    assert summaries(bot, random) == []

    bot.clock.advance(timedelta(minutes=1))
    await tick(bot)
    await tick(bot)
    [summary] = summaries(bot, random)
    assert summary.thread_ts == posted.ts
    shown = str(summary.blocks)
    assert "A calm launch" in shown and "Checkout broke" in shown and "no load test" in shown
    assert "Turn into a lesson" in shown and ids.TURN_INTO_LESSON_ACTION in shown
    assert f"<@{alice}>" in summary.text and f"<@{bob}>" in summary.text
    [run] = await runs(bot)
    assert run.state is AarState.SUMMARISED and run.thread_ts == posted.ts


async def test_the_button_opens_the_lesson_form_prefilled_and_saving_links_the_thread(
    bot: Bot,
) -> None:
    alice, bob, random = bot.user("alice"), bot.user("bob"), bot.channel("random")
    posted = await started(bot, random)
    await reply_in_thread(bot, alice, random, posted, "1. A calm launch\n2. Checkout broke")
    await reply_in_thread(bot, bob, random, posted, "3. No load test\n4. Load test first")
    bot.clock.advance(timedelta(hours=24))
    await tick(bot)
    [summary] = summaries(bot, random)

    await bot.driver.click(bob, summary, ids.TURN_INTO_LESSON_ACTION)
    await bot.app.deps.after_ack.idle()
    modal = bot.state.modal_stack(bob)[-1]
    shown = prefilled(modal)
    assert shown[lesson_ids.TITLE_BLOCK] == "After Action Review: Checkout launch"
    assert shown[lesson_ids.EXPECTED_BLOCK] == "A calm launch"
    assert shown[lesson_ids.HAPPENED_BLOCK] == "Checkout broke"
    assert shown[lesson_ids.WHY_BLOCK] == "No load test"
    assert shown[lesson_ids.NEXT_TIME_BLOCK] == "Load test first"
    assert shown[lesson_ids.PROJECT_BLOCK] == "Checkout launch"

    values = {block: {lesson_ids.FIELD_ACTION: value} for block, value in shown.items()}
    reply = await bot.driver.view_submission(bob, modal, values)
    assert reply.status == 200
    async with bot.db.reading() as session:
        [lesson] = list(await session.scalars(select(Lesson)))
    assert (lesson.author_id, lesson.source_channel_id) == (bob, random)
    assert lesson.source_ts == posted.ts and lesson.source_thread_ts == posted.ts
    assert lesson.permalink and random in lesson.permalink
    assert lesson.next_time == "Load test first"


# ---- Scheduled times --------------------------------------------------------------------------


async def test_in_2h_starts_two_hours_later(bot: Bot) -> None:
    alice, random = bot.user("alice"), bot.channel("random")
    answer = await aar(bot, alice, random, "Retro in 2h")
    assert "Retro" in answer
    [run] = await runs(bot)
    assert run.project == "Retro" and run.starts_at == bot.clock.now() + timedelta(hours=2)

    bot.clock.advance(timedelta(hours=1, minutes=59))
    await tick(bot)
    assert questions(bot, random) == []
    bot.clock.advance(timedelta(minutes=1))
    await tick(bot)
    assert len(questions(bot, random)) == 1


async def test_tomorrow_10_00_is_in_the_communitys_timezone(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    await aar_community(bot, general, alice, timezone="Asia/Tokyo")
    # 09:00 UTC on 1 December is 18:00 in Tokyo: tomorrow 10:00 there is 01:00 UTC on the 2nd.
    answer = await aar(bot, alice, general, "Launch tomorrow 10:00 for 48h")
    assert "Wed 02 Dec at 10:00 (Asia/Tokyo)" in answer and "for 2 days" in answer
    assert "join" not in answer  # the bot is in #general already
    [run] = await runs(bot)
    assert run.starts_at == datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    assert run.window_minutes == 48 * 60 and run.timezone == "Asia/Tokyo"


async def test_without_a_community_the_time_is_utc(bot: Bot) -> None:
    alice, random = bot.user("alice"), bot.channel("random")
    await aar(bot, alice, random, "Launch tomorrow 10:00")
    [run] = await runs(bot)
    assert run.starts_at == datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


async def test_an_unparsable_time_says_which_formats_work(bot: Bot) -> None:
    alice, random = bot.user("alice"), bot.channel("random")
    for words in ("Launch tomorrow 25:00", "Launch in two hours", "Launch in 2h for ever"):
        answer = await aar(bot, alice, random, words)
        assert "`tomorrow 10:00`" in answer or "`for 12h`" in answer, answer
    answer = await aar(bot, alice, random, "Launch tomorrow 25:00")
    assert "`in 2h`" in answer and "`now`" in answer
    assert await runs(bot) == []


async def test_two_ticks_at_once_post_the_questions_and_the_summary_once(bot: Bot) -> None:
    alice, random = bot.user("alice"), bot.channel("random")
    await aar(bot, alice, random, "Launch")
    other = Database(bot.db.url.render_as_string(hide_password=False))  # a second leader
    jobs = bot.app.registry.jobs
    try:
        first, second = build_scheduler(bot.db, jobs), build_scheduler(other, jobs)
        now = bot.clock.now()
        await asyncio.gather(first.tick(now), second.tick(now))
        await bot.settle()
        [posted] = questions(bot, random)
        await reply_in_thread(bot, alice, random, posted, "2. It went fine")
        bot.clock.advance(timedelta(hours=24))
        now = bot.clock.now()
        await asyncio.gather(first.tick(now), second.tick(now))
        await bot.settle()
    finally:
        await other.dispose()
    assert len(questions(bot, random)) == 1
    assert len(summaries(bot, random)) == 1


async def test_a_private_channel_without_the_bot_asks_to_be_invited(bot: Bot) -> None:
    alice, bob = bot.user("alice"), bot.user("bob")
    secret = bot.state.add_channel("secret", private=True, members=[alice, bob]).id
    answer = await aar(bot, alice, secret, "Launch")
    assert "/invite @Doughnut" in answer
    assert await runs(bot) == []
    await tick(bot)
    assert bot.emu.calls_to("conversations.join") == []


async def test_a_private_channel_with_the_bot_runs_without_joining(bot: Bot) -> None:
    alice = bot.user("alice")
    secret = bot.state.add_channel("secret", private=True, members=[alice, bot.state.bot_user_id])
    posted = await started(bot, secret.id)
    await reply_in_thread(bot, alice, secret.id, posted, "4. Invite the bot earlier")
    assert await replies(bot) == [(alice, "4. Invite the bot earlier")]
    assert bot.emu.calls_to("conversations.join") == []


async def test_not_in_a_channel_says_where_to_run_it(bot: Bot) -> None:
    alice = bot.user("alice")
    answer = await aar(bot, alice, bot.state.dm_channel(alice).id, "Launch")
    assert "in the channel where the work happened" in answer
    assert await runs(bot) == []


async def test_hostile_text_is_escaped_everywhere_it_is_echoed(bot: Bot) -> None:
    alice, random = bot.user("alice"), bot.channel("random")
    answer = await aar(bot, alice, random, f"Launch {HOSTILE}")
    assert "<!channel>" not in answer and "&lt;!channel&gt; &amp; &lt;@U123&gt;" in answer
    await tick(bot)
    [posted] = questions(bot, random)
    assert "<!channel>" not in posted.text + str(posted.blocks)
    assert "<@U123>" not in posted.text + str(posted.blocks)
    await reply_in_thread(bot, alice, random, posted, f"2. {slack_escaped(HOSTILE)}")
    bot.clock.advance(timedelta(hours=24))
    await tick(bot)
    [summary] = summaries(bot, random)
    rendered = summary.text + str(summary.blocks)
    assert "<!channel>" not in rendered and "<@U123>" not in rendered
    # The reply as its author typed it, escaped once (not `&amp;lt;`).
    assert f"<@{alice}>: &lt;!channel&gt; &amp; &lt;@U123&gt;" in rendered
    assert "&amp;lt;" not in rendered
    [run] = await runs(bot)
    assert run.project == f"Launch {HOSTILE}"  # stored as typed


async def test_nobody_replied_gets_a_short_note_without_the_button(bot: Bot) -> None:
    random = bot.channel("random")
    posted = await started(bot, random)
    bot.clock.advance(timedelta(hours=24))
    await tick(bot)
    [note] = [m for m in bot_posts(bot, random) if m.is_reply]
    assert note.thread_ts == posted.ts and "nobody replied" in note.text
    assert ids.TURN_INTO_LESSON_ACTION not in str(note.blocks)


# ---- Paused communities -----------------------------------------------------------------------


def digest_job() -> Job:
    """A per-community daily post, standing for the digests and prompts of the other jobs."""

    async def post(session: AsyncSession, target: Target, period: Period, now: datetime) -> None:
        await deliveries.enqueue(
            session, workspace_id=target.workspace_id, method="chat.postMessage",
            payload={"channel": target.channel_id, "text": f"digest {period.key}"},
            channel=target.channel_id, now=now,
        )  # fmt: skip

    return Job("test-digest", "Test digest", Schedule(hour=9, minute=0), post)


async def digest_tick(bot: Bot) -> list[str]:
    ran = await Scheduler(bot.db, [digest_job()]).tick(bot.clock.now())
    await bot.settle()
    return ran


def digests(bot: Bot, channel: str) -> list[str]:
    return [m.text for m in bot_posts(bot, channel) if m.text.startswith("digest")]


async def paused(bot: Bot, channel: str) -> str | None:
    async with bot.db.reading() as session:
        community = await session.scalar(select(Community).where(Community.channel_id == channel))
        assert community is not None
        return community.paused_reason


async def test_an_archived_channel_pauses_its_community_and_unarchive_resumes_it(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    sre = bot.state.add_channel("cop-sre", members=[alice, bob, carol, bot.state.bot_user_id]).id
    await aar_community(bot, general, alice, name="General")
    await aar_community(bot, sre, bob, name=f"SRE {HOSTILE}")
    # A post queued for the channel before it was archived stops too, with the reason.
    async with bot.db.transaction() as session:
        workspace_id = await session.scalar(select(Community.workspace_id))
        queued = await deliveries.enqueue(
            session, workspace_id=workspace_id, method="chat.postMessage",
            payload={"channel": sre, "text": "late"}, channel=sre, now=bot.clock.now(),
        )  # fmt: skip

    reply = await bot.driver.archive(carol, sre)
    assert reply is not None and reply.status == 200
    assert await paused(bot, sre) == "the channel was archived"
    # Slack sends the event again under another id (say, a second app connection): told once.
    event = {"type": "channel_archive", "channel": sre, "user": carol, "event_ts": "1.2"}
    await bot.driver.event(event)
    await bot.settle()
    [told] = dms_to(bot, bob)
    assert "paused" in told.text and "archived" in told.text and "Unarchive" in told.text
    assert "<!channel>" not in told.text and "&lt;!channel&gt;" in told.text
    assert dms_to(bot, alice) == []  # not the coordinator of that one
    async with bot.db.reading() as session:
        stopped = await session.get(Delivery, queued.id)
        assert stopped is not None and stopped.status == "failed"
        assert "archived" in (stopped.last_error or "")

    # The loop goes on for the other community only.
    assert await digest_tick(bot) == ["Test digest"]
    assert digests(bot, general) == ["digest 2026-12-01"]
    assert digests(bot, sre) == []

    await bot.driver.archive(carol, sre, archived=False)
    await bot.settle()
    assert await paused(bot, sre) is None
    assert "active again" in dms_to(bot, bob)[-1].text
    bot.clock.advance(timedelta(days=1))
    await digest_tick(bot)
    assert digests(bot, sre) == ["digest 2026-12-02"]
    assert digests(bot, general) == ["digest 2026-12-01", "digest 2026-12-02"]


async def test_the_bot_removed_pauses_the_community_and_invited_back_resumes(bot: Bot) -> None:
    alice, bob = bot.user("alice"), bot.user("bob")
    general = bot.channel("general")
    await aar_community(bot, general, alice, name="General")

    await bot.driver.remove(bob, bot.state.bot_user_id, general)
    await bot.settle()
    assert await paused(bot, general) == "Doughnut was removed from the channel"
    [told] = dms_to(bot, alice)
    assert "/invite @Doughnut" in told.text
    # A member leaving is not the bot leaving.
    await bot.driver.remove(alice, bob, general)
    assert len(dms_to(bot, alice)) == 1
    # Public: the bot could still post (chat:write.public), but the scheduler does not.
    assert await digest_tick(bot) == []
    assert digests(bot, general) == []
    # Home shows the coordinator the paused community.
    await bot.driver.open_home(alice)
    await bot.settle()
    assert "is paused" in str(bot.state.home_views[alice]["blocks"])

    await bot.driver.join(bot.state.bot_user_id, general)
    await bot.settle()
    assert await paused(bot, general) is None
    assert await digest_tick(bot) == ["Test digest"]


async def test_an_aar_due_in_a_paused_community_does_not_start(bot: Bot) -> None:
    alice, bob = bot.user("alice"), bot.user("bob")
    general = bot.channel("general")
    await aar_community(bot, general, alice)
    await aar(bot, bob, general, "Launch in 1h")
    await bot.driver.archive(alice, general)
    await bot.settle()
    bot.clock.advance(timedelta(hours=1))
    await tick(bot)
    assert questions(bot, general) == []
    [run] = await runs(bot)
    assert run.state is AarState.CANCELLED and run.failure == "the channel was archived"
    assert "didn't start" in dms_to(bot, bob)[-1].text


async def test_a_post_bounced_off_an_archived_channel_pauses_its_community(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    await aar_community(bot, general, alice)
    bot.state.channels[general].is_archived = True  # archived, and the event never came
    bot.clock.advance(timedelta(minutes=1))
    assert await digest_tick(bot) == ["Test digest"]  # its post bounces: is_archived
    assert await paused(bot, general) is None

    await tick(bot)
    assert await paused(bot, general) == "the channel was archived"
    await tick(bot)
    [told] = dms_to(bot, alice)
    assert "paused" in told.text and "archived" in told.text
    bot.clock.advance(timedelta(days=1))
    assert await digest_tick(bot) == []


async def test_an_aar_in_a_paused_community_is_refused_and_a_pause_stops_its_summary(
    bot: Bot,
) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    await aar_community(bot, general, alice)
    posted = await started(bot, general)
    await reply_in_thread(bot, bob, general, posted, "2. It went fine")
    await bot.driver.remove(bob, bot.state.bot_user_id, general)
    await bot.settle()

    answer = await aar(bot, bob, general, "Another one")
    assert "paused" in answer and "/invite @Doughnut" in answer
    assert len(await runs(bot)) == 1
    bot.clock.advance(timedelta(hours=24))
    await tick(bot)
    assert [m for m in bot_posts(bot, general) if m.is_reply] == []  # no summary posted
    assert "didn't sum up" in dms_to(bot, alice)[-1].text


def test_a_summary_of_200_long_replies_stays_within_slacks_limits() -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    run = AarView(
        id=1, channel_id="C1", project="Launch", started_by="U1", timezone="UTC",
        starts_at=start, window=timedelta(hours=24), state=AarState.SUMMARISED, is_private=False,
        thread_ts="1.1",
    )  # fmt: skip
    answers = {q: tuple(Answer(f"U{i}", "x" * 900) for i in range(50)) for q in QUESTIONS}
    summary = Summary(run, 1, "1.1", answers, (), tuple(f"U{i}" for i in range(50)))
    message = views.summary_message(summary)
    assert len(message["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in message["blocks"] if b["type"] == "section")
    assert "more_" in str(message["blocks"][-2])  # "and N more" before the button
    assert ids.TURN_INTO_LESSON_ACTION in str(message["blocks"][-1])


# ---- Reading the command's words (the service alone) ------------------------------------------

NOON = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)  # the day before Europe/Berlin's DST change


@pytest.mark.parametrize(
    ("words", "project", "starts_at", "window_hours"),
    [
        ("", "", NOON, 24),
        ("Checkout launch", "Checkout launch", NOON, 24),
        ("Checkout launch now", "Checkout launch", NOON, 24),
        ("Retro in 30m", "Retro", NOON + timedelta(minutes=30), 24),
        ("Retro in 1d for 2d", "Retro", NOON + timedelta(days=1), 48),
        ("Deploy in prod", "Deploy in prod", NOON, 24),
        ("Plan for Q3", "Plan for Q3", NOON, 24),
        ("Retro today 16:00", "Retro", datetime(2027, 3, 27, 15, 0, tzinfo=UTC), 24),
        # Berlin moves to summer time overnight: 10:00 tomorrow is 08:00 UTC, not 09:00.
        ("Retro tomorrow 10:00 for 12h", "Retro", datetime(2027, 3, 28, 8, 0, tzinfo=UTC), 12),
        ("Retro tomorrow at 9", "Retro", datetime(2027, 3, 28, 7, 0, tzinfo=UTC), 24),
    ],
)
def test_the_commands_words_are_read_in_the_channels_timezone(
    words: str, project: str, starts_at: datetime, window_hours: int
) -> None:
    request = parse_request(words, "Europe/Berlin", NOON)
    assert isinstance(request, AarRequest), request
    assert (request.project, request.starts_at) == (project, starts_at)
    assert request.window == timedelta(hours=window_hours)


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ("Retro at 16:00", "`today 16:00`"),
        ("Retro tomorrow", "`tomorrow 10:00`"),
        ("Retro in 2 fortnights", "`in 2h`"),
        ("Retro today 11:00", "has passed"),
        ("Retro in 40d", "30 days ahead"),
        ("Retro for 30d", "from 1 hour to 14 days"),
        ("Retro for 2 weeks", "`for 12h`"),
    ],
)
def test_words_that_cannot_be_read_say_what_works(words: str, says: str) -> None:
    refusal = parse_request(words, "Europe/Berlin", NOON)
    assert isinstance(refusal, AarRefusal)
    assert says in refusal.text


async def test_an_archived_private_channel_pauses_its_community_too(bot: Bot) -> None:
    alice = bot.user("alice")
    secret = bot.state.add_channel("secret", private=True, members=[alice, bot.state.bot_user_id])
    await aar_community(bot, secret.id, alice)
    await bot.driver.archive(alice, secret.id)
    await bot.settle()
    assert await paused(bot, secret.id) == "the channel was archived"
    assert "paused" in dms_to(bot, alice)[-1].text
    await bot.driver.archive(alice, secret.id, archived=False)
    await bot.settle()
    assert await paused(bot, secret.id) is None


async def test_a_slow_slack_gets_an_answer_in_time_and_nothing_is_scheduled(bot: Bot) -> None:
    alice, random = bot.user("alice"), bot.channel("random")
    bot.emu.slow_down("conversations.info", 5.0)
    reply = await bot.driver.command(alice, random, "/doughnut", "aar Launch")
    assert reply.status == 200 and not reply.timed_out
    assert "didn't tell me about this channel in time" in reply.json["text"]
    assert await runs(bot) == []
