"""The digests: a week's activity → one post on Friday 15:00 local, claimed once, DST-proof;
review nudges per reviewer-week; the fortnightly snapshot; settings; the preview."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.core import digests as core
from bot.core.digests import BAD_TIME, BAD_TIMEZONE
from handlers.digests import ids, views
from handlers.lessons.ids import HOME_CAPTURE_ACTION
from scheduler import Scheduler, build_scheduler
from storage.db import Database
from storage.models import (
    AssistFormat,
    AssistStatus,
    Community,
    DecisionKind,
    Delivery,
    LessonDecision,
    LessonUse,
    Member,
    PeerAssist,
    ScheduledRun,
    Visibility,
)
from tests.conftest import (
    Bot,
    digest_runs,
    kudos_row,
    lesson_community,
    lesson_row,
    seed_rows,
)

BERLIN = ZoneInfo("Europe/Berlin")
HOSTILE = "<!channel> fixed <@U123> & the <b>pager</b>"
ESCAPED = "&lt;!channel&gt; fixed &lt;@U123&gt; &amp; the &lt;b&gt;pager&lt;/b&gt;"


def berlin(y: int, m: int, d: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(y, m, d, hour, minute, tzinfo=BERLIN).astimezone(UTC)


async def community(bot: Bot, channel: str = "general", tz: str = "Europe/Berlin") -> Community:
    """A community in `channel` (alice coordinates, bob reviews) in timezone `tz`."""
    community_id = await lesson_community(
        bot, bot.channel(channel), bot.user("alice"), bot.user("bob")
    )
    async with bot.db.transaction() as session:
        await session.execute(
            update(Community).where(Community.id == community_id).values(timezone=tz)
        )
        found = await session.get(Community, community_id)
        assert found is not None
        session.expunge(found)
    return found


def scheduler_of(bot: Bot, db: Database | None = None) -> Scheduler:
    return build_scheduler(db or bot.db, bot.app.registry.jobs)


async def tick(bot: Bot, scheduler: Scheduler, when: datetime) -> list[str]:
    """The clock moves to `when` (the outbox sends what is due by it) and the scheduler ticks."""
    if when > bot.clock.now():
        bot.clock.set(when)
    return await scheduler.tick(when)


def texts(message: Any) -> str:
    """Everything a person reads in a posted message: its fallback and its blocks."""
    return message.text + json.dumps(message.blocks or [], ensure_ascii=False)


async def posted(bot: Bot, channel: str) -> list[Any]:
    await bot.settle()
    return [m for m in bot.state.history(bot.channel(channel)) if m.user == bot.state.bot_user_id]


async def dms(bot: Bot, user: str) -> list[Any]:
    await bot.settle()
    return [m for m in bot.state.history(bot.state.dm_channel(bot.user(user)).id)]


async def a_week_of_activity(bot: Bot, c: Community) -> None:
    """Tuesday to Thursday before Friday 4 December 2026, with private and older content."""
    ws, cid = c.workspace_id, c.id
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    day = berlin(2026, 12, 2, 10)
    lessons = await seed_rows(
        bot.db,
        lesson_row(ws, cid, "Public lesson " + HOSTILE, carol, day),
        lesson_row(
            ws,
            cid,
            "Secret private lesson",
            carol,
            day,
            visibility=Visibility.PRIVATE,
            channel="G0SECRET",
        ),  # fmt: skip
        lesson_row(
            ws, cid, "Validated practice", alice, day - timedelta(days=30), status="validated"
        ),  # fmt: skip
    )
    await seed_rows(
        bot.db,
        kudos_row(ws, cid, alice, bob, "for an old favour", day - timedelta(days=40)),
        kudos_row(ws, cid, alice, carol, HOSTILE, day),
        kudos_row(ws, cid, carol, bob, "the review", day + timedelta(hours=1), channel="C0OTHER"),
        kudos_row(
            ws,
            cid,
            bob,
            alice,
            "Secret private thanks",
            day,
            channel="G0SECRET",
            visibility=Visibility.PRIVATE,
        ),  # fmt: skip
        kudos_row(ws, cid, bob, alice, "undone one", day, status="undone"),
        LessonDecision(
            workspace_id=ws,
            lesson_id=lessons[2].id,
            kind=DecisionKind.VALIDATE,
            by_user=bob,
            note="",
            decided_at=day,
        ),  # fmt: skip
        LessonUse(
            workspace_id=ws,
            lesson_id=lessons[2].id,
            user_id=carol,
            channel_id="C0PUBLIC",
            used_at=day,
        ),  # fmt: skip
        PeerAssist(
            workspace_id=ws,
            community_id=cid,
            title="Migrate the queue",
            format=AssistFormat.CALL,
            requester_id=carol,
            visibility=Visibility.PUBLIC,
            status=AssistStatus.DONE,
            status_by=carol,
            status_at=day,
            created_at=day - timedelta(days=3),
            closed_at=day,
        ),  # fmt: skip
    )


async def test_a_week_of_activity_makes_one_digest_on_friday_at_15_local(bot: Bot) -> None:
    c = await community(bot)
    await a_week_of_activity(bot, c)
    scheduler = scheduler_of(bot)
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")

    assert core.WEEKLY not in str(await tick(bot, scheduler, berlin(2026, 12, 4, 14, 59)))
    assert "Weekly recognition digest" in await tick(bot, scheduler, berlin(2026, 12, 4, 15, 0))
    assert "Weekly recognition digest" not in await tick(
        bot, scheduler, berlin(2026, 12, 4, 15, 30)
    )

    [digest] = await posted(bot, "general")
    seen = texts(digest)
    assert "This week in SRE" in digest.text
    assert "2 kudos from 2 people to 2 people in 2 channels" in seen
    assert ESCAPED in seen and "<!channel>" not in seen and "<@U123>" not in seen
    assert f"<@{alice}> → <@{carol}>" in seen and "the review" in seen
    assert "Secret" not in seen and "undone one" not in seen and "old favour" not in seen
    first = seen.split("Recognised for the first time")[1].split('"')[0]
    assert f"<@{carol}>" in first and f"<@{bob}>" not in first  # bob was thanked before
    assert "1 lesson captured" in seen and "Public lesson" in seen
    assert "Validated practice" in seen and "Most reused" in seen
    assert "Migrate the queue" in seen
    assert [p for p, _, _ in await digest_runs(bot.db, core.WEEKLY)] == ["2026-W49"]


async def test_a_quiet_week_gets_a_short_nudge_not_an_empty_digest(bot: Bot) -> None:
    c = await community(bot)
    # Only private kudos: nothing a channel may show.
    await seed_rows(
        bot.db,
        kudos_row(
            c.workspace_id,
            c.id,
            bot.user("alice"),
            bot.user("bob"),
            "private",
            berlin(2026, 12, 2),
            visibility=Visibility.PRIVATE,
        ),
    )
    await tick(bot, scheduler_of(bot), berlin(2026, 12, 4, 15, 0))

    [nudge] = await posted(bot, "general")
    assert "A quiet week in *SRE*" in nudge.text and "/kudos" in nudge.text
    assert len(nudge.blocks) == 1


async def test_two_processes_ticking_at_once_post_one_digest(bot: Bot) -> None:
    c = await community(bot)
    await a_week_of_activity(bot, c)
    other = Database(bot.db.url.render_as_string(hide_password=False))  # another process
    try:
        first, second = scheduler_of(bot), scheduler_of(bot, other)
        now = berlin(2026, 12, 4, 15, 0)
        bot.clock.set(now)
        results = await asyncio.gather(first.tick(now), second.tick(now))
    finally:
        await other.dispose()

    assert sum("Weekly recognition digest" in r for r in results) == 1
    assert len(await posted(bot, "general")) == 1


async def test_a_three_day_outage_gets_one_catch_up_digest(bot: Bot) -> None:
    c = await community(bot)
    await a_week_of_activity(bot, c)
    scheduler = scheduler_of(bot)
    scheduler.jobs = [j for j in scheduler.jobs if j.name == core.WEEKLY]

    await tick(bot, scheduler, berlin(2026, 12, 3, 12, 0))  # Thursday, then down until Sunday noon
    back = berlin(2026, 12, 6, 12, 0)
    now = back
    while now < back + timedelta(days=2):
        await tick(bot, scheduler, now)
        now += timedelta(hours=1)

    [digest] = await posted(bot, "general")
    assert "2 kudos" in digest.text  # the week before Friday 15:00, not before Sunday
    [(period, _, ran_at)] = await digest_runs(bot.db, core.WEEKLY)
    assert (period, ran_at) == ("2026-W49", back)


async def test_three_weeks_down_make_one_digest_not_three(bot: Bot) -> None:
    await community(bot)
    scheduler = scheduler_of(bot)
    scheduler.jobs = [j for j in scheduler.jobs if j.name == core.WEEKLY]
    # Down from Tuesday 1 December to Monday the 21st: three Fridays missed.
    await tick(bot, scheduler, berlin(2026, 12, 21, 9, 0))
    await tick(bot, scheduler, berlin(2026, 12, 21, 10, 0))
    assert len(await posted(bot, "general")) == 1  # the latest Friday's, within its grace
    await tick(bot, scheduler, berlin(2026, 12, 25, 15, 0))
    assert [p for p, _, _ in await digest_runs(bot.db, core.WEEKLY)] == ["2026-W51", "2026-W52"]


async def _run_every_ten_minutes(scheduler: Scheduler, start: datetime, end: datetime) -> None:
    now = start
    while now < end:
        await scheduler.tick(now)
        now += timedelta(minutes=10)


async def test_dst_weeks_in_berlin_get_exactly_one_run_at_local_15(bot: Bot) -> None:
    await community(bot)
    async with bot.db.transaction() as session:  # made long ago, so every Friday is owed
        await session.execute(update(Community).values(created_at=berlin(2027, 1, 1)))
    scheduler = scheduler_of(bot)
    only = [j for j in scheduler.jobs if j.name == core.WEEKLY]
    scheduler.jobs = only  # ten-minute ticks over two weeks: this job alone
    # Late March (clocks forward on Sunday 28th) and late October (back on Sunday 31st).
    await _run_every_ten_minutes(scheduler, berlin(2027, 3, 25), berlin(2027, 4, 3))
    await _run_every_ten_minutes(scheduler, berlin(2027, 10, 28), berlin(2027, 11, 6))

    runs = await digest_runs(bot.db, core.WEEKLY)
    assert [p for p, _, _ in runs] == ["2027-W12", "2027-W13", "2027-W43", "2027-W44"]
    local = [ran.astimezone(BERLIN) for _, _, ran in runs]
    assert [f"{t:%a %d %H:%M}" for t in local] == [
        "Fri 26 15:00", "Fri 02 15:00", "Fri 29 15:00", "Fri 05 15:00",
    ]  # fmt: skip


async def test_the_review_nudge_lists_only_waiting_lessons_in_the_reviewers_morning(
    bot: Bot,
) -> None:
    c = await community(bot)
    ws, cid = c.workspace_id, c.id
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    now = berlin(2026, 12, 7, 0)  # Monday
    await seed_rows(
        bot.db,
        Member(
            workspace_id=ws, user_id=bob, name="bob", timezone="America/New_York", updated_at=now
        ),  # fmt: skip
        lesson_row(ws, cid, "Waiting five days " + HOSTILE, carol, now - timedelta(days=5)),
        lesson_row(ws, cid, "Captured yesterday", carol, now - timedelta(days=1)),
        lesson_row(
            ws, cid, "Already validated", carol, now - timedelta(days=9), status="validated"
        ),
        lesson_row(ws, cid, "Bob's own", bob, now - timedelta(days=9)),
        lesson_row(ws, None, "In no community", alice, now - timedelta(days=9)),
    )
    scheduler = scheduler_of(bot)
    scheduler.jobs = [j for j in scheduler.jobs if j.name == core.REVIEW_NUDGE]

    await tick(bot, scheduler, berlin(2026, 12, 7, 9, 0))  # 09:00 in Berlin: 03:00 in New York
    assert await dms(bot, "bob") == []
    await tick(bot, scheduler, datetime(2026, 12, 7, 14, 0, tzinfo=UTC))  # 09:00 in New York
    await tick(bot, scheduler, datetime(2026, 12, 7, 16, 0, tzinfo=UTC))

    [nudge] = await dms(bot, "bob")
    seen = texts(nudge)
    assert "1 lesson is waiting" in nudge.text and "Waiting five days" in seen
    assert ESCAPED in seen and "<!channel>" not in seen
    for not_waiting in ("Captured yesterday", "Already validated", "Bob's own", "In no community"):
        assert not_waiting not in seen
    assert await digest_runs(bot.db, core.REVIEW_NUDGE) == [
        ("2026-W50", bob, datetime(2026, 12, 7, 14, 0, tzinfo=UTC))
    ]
    assert await dms(bot, "alice") == []  # not a reviewer


async def test_the_snapshot_prompt_comes_every_second_tuesday_across_the_year_end(bot: Bot) -> None:
    c = await community(bot)
    async with bot.db.transaction() as session:
        found = await session.get(Community, c.id)
        assert found is not None
        found.settings = {
            "jobs": {core.SNAPSHOT: True},  # off until a coordinator turns it on
            core.SNAPSHOT_ANCHOR: "2026-12-15",
            core.SNAPSHOT_CHANNELS: [bot.channel("general"), bot.channel("random")],
        }
    scheduler = scheduler_of(bot)
    scheduler.jobs = [j for j in scheduler.jobs if j.name == core.SNAPSHOT]

    day = berlin(2026, 12, 1, 12)
    while day < berlin(2027, 2, 20):
        await tick(bot, scheduler, day)
        day += timedelta(days=1)

    runs = await digest_runs(bot.db, core.SNAPSHOT)
    # 2026 has an ISO week 53: the 29th (W53) and 5 January (W01) are a week apart.
    assert [p for p, _, _ in runs] == [
        "2026-W49", "2026-W51", "2026-W53", "2027-W02", "2027-W04", "2027-W06",
    ]  # fmt: skip
    assert [f"{r.astimezone(BERLIN):%a %d %b}" for _, _, r in runs] == [
        "Tue 01 Dec", "Tue 15 Dec", "Tue 29 Dec", "Tue 12 Jan", "Tue 26 Jan", "Tue 09 Feb",
    ]  # fmt: skip
    prompts = await posted(bot, "general")
    assert len(prompts) == 6 and "what did you learn these two weeks?" in prompts[0].text
    assert len([m for m in bot.state.history(bot.channel("random"))]) == 6
    await bot.driver.click(bot.user("carol"), prompts[0], HOME_CAPTURE_ACTION)
    await bot.app.deps.after_ack.idle()
    assert bot.state.modal_stack(bot.user("carol"))  # the lesson form opened


async def test_a_digest_with_200_kudos_stays_within_slacks_limits(bot: Bot) -> None:
    c = await community(bot)
    people = [bot.user(n) for n in ("alice", "bob", "carol")]
    day = berlin(2026, 12, 2, 9)
    await seed_rows(bot.db, *(
        kudos_row(c.workspace_id, c.id, people[i % 3], people[(i + 1) % 3],
                  f"{HOSTILE} number {i} " + "x" * 200, day + timedelta(minutes=i),
                  channel=f"C0CH{i:03d}")
        for i in range(200)
    ))  # fmt: skip
    await tick(bot, scheduler_of(bot), berlin(2026, 12, 4, 15, 0))

    [digest] = await posted(bot, "general")  # the emulator checks Block Kit as Slack does
    assert len(digest.blocks) <= 50
    sections = [b["text"]["text"] for b in digest.blocks if b["type"] == "section"]
    assert all(len(s) <= 3000 for s in sections)
    kudos = next(s for s in sections if "*Kudos*" in s)
    shown = kudos.count("→")
    assert 0 < shown < 200 and f"_and {200 - shown} more_" in kudos
    assert "200 kudos" in digest.text


def test_a_long_list_is_cut_with_and_n_more() -> None:
    block = views.listed("*Title*", ["• " + "y" * 500] * 10, 42)
    assert len(block["text"]["text"]) <= 3000
    shown = block["text"]["text"].count("• ")
    assert block["text"]["text"].endswith(f"_and {42 - shown} more_")


async def open_community_settings(bot: Bot, user: str) -> dict[str, Any]:
    reply = await bot.driver.command(user, bot.channel("general"), "/doughnut", "settings")
    assert reply.status == 200
    await bot.app.deps.after_ack.idle()
    return bot.state.modal_stack(user)[-1]


def settings_values(
    tz: str = "Europe/Berlin",
    day: str = "mon",
    time: str = "08:30",
    jobs: tuple[str, ...] = (core.WEEKLY,),
    kudos: bool = True,
) -> dict[str, Any]:
    def options(values: list[str]) -> dict[str, Any]:
        return {"type": "checkboxes", "selected_options": [{"value": v} for v in values]}

    return {
        ids.TIMEZONE_BLOCK: {ids.FIELD_ACTION: tz},
        ids.DAY_BLOCK: {
            ids.FIELD_ACTION: {"type": "static_select", "selected_option": {"value": day}}
        },
        ids.TIME_BLOCK: {ids.FIELD_ACTION: time},
        ids.JOBS_BLOCK: {ids.FIELD_ACTION: options(list(jobs))},
        ids.SNAPSHOT_CHANNELS_BLOCK: {
            ids.FIELD_ACTION: {"type": "multi_conversations_select", "selected_conversations": []}
        },
        ids.ANCHOR_BLOCK: {ids.FIELD_ACTION: {"type": "datepicker", "selected_date": "2027-01-05"}},
        ids.KUDOS_BLOCK: {ids.FIELD_ACTION: options(["on"] if kudos else [])},
    }


async def test_a_coordinator_sets_the_digest_time_and_bad_fields_are_refused(bot: Bot) -> None:
    c = await community(bot)
    alice = bot.user("alice")
    modal = await open_community_settings(bot, alice)
    assert modal["callback_id"] == ids.COMMUNITY_SETTINGS_VIEW
    assert "Europe/Berlin" in json.dumps(modal["blocks"])

    reply = await bot.driver.view_submission(
        alice, modal, settings_values(tz="Mars/Olympus", time="25:99")
    )
    assert reply.json == {
        "response_action": "errors",
        "errors": {ids.TIMEZONE_BLOCK: BAD_TIMEZONE, ids.TIME_BLOCK: BAD_TIME},
    }
    async with bot.db.reading() as session:
        unchanged = await session.get(Community, c.id)
        assert unchanged is not None and unchanged.settings == {}

    reply = await bot.driver.view_submission(alice, modal, settings_values(tz="Asia/Tokyo"))
    assert reply.json["response_action"] == "update"
    async with bot.db.reading() as session:
        saved = await session.get(Community, c.id)
        assert saved is not None and saved.timezone == "Asia/Tokyo"
        assert saved.settings[core.KUDOS_TO_CHANNEL] is True
        assert saved.settings["jobs"][core.SNAPSHOT] is False

    scheduler = scheduler_of(bot)
    tokyo = ZoneInfo("Asia/Tokyo")
    await tick(bot, scheduler, datetime(2026, 12, 4, 15, 0, tzinfo=tokyo))  # Friday: not any more
    await tick(bot, scheduler, datetime(2026, 12, 7, 8, 30, tzinfo=tokyo))  # Monday 08:30 Tokyo
    assert [p for p, _, _ in await digest_runs(bot.db, core.WEEKLY)] == ["2026-W50"]
    assert await digest_runs(bot.db, core.WHERE_NEXT) == []  # switched off


async def test_settings_route_by_who_asks_where(bot: Bot) -> None:
    await community(bot)
    alice, carol = bot.user("alice"), bot.user("carol")
    # carol is neither: the workspace's read-only notice, not the community's form.
    modal = await open_community_settings(bot, carol)
    assert modal.get("callback_id") != ids.COMMUNITY_SETTINGS_VIEW
    assert "Only the workspace's admins" in json.dumps(modal)
    # alice coordinates and is an admin: she picks.
    bot.state.users[alice].is_admin = True
    modal = await open_community_settings(bot, alice)
    assert views.BOTH in json.dumps(modal)
    await bot.driver.click(alice, modal, ids.CHOOSE_COMMUNITY_ACTION)
    await bot.app.deps.after_ack.idle()
    assert bot.state.modal_stack(alice)[-1]["callback_id"] == ids.COMMUNITY_SETTINGS_VIEW


async def test_the_preview_shows_the_week_so_far_and_claims_nothing(bot: Bot) -> None:
    c = await community(bot)
    await a_week_of_activity(bot, c)
    bot.clock.set(berlin(2026, 12, 3, 18, 0))

    reply = await bot.driver.command(
        bot.user("carol"), bot.channel("general"), "/doughnut", "digest"
    )
    assert reply.json["response_type"] == "ephemeral"
    seen = json.dumps(reply.json)
    assert "Preview" in seen and "2 kudos" in seen and "Secret" not in seen
    assert ESCAPED.replace("&", "&amp;") not in seen or ESCAPED in reply.json["text"] + seen
    assert "<!channel>" not in seen

    elsewhere = await bot.driver.command(
        bot.user("carol"), bot.channel("random"), "/doughnut", "digest"
    )
    assert elsewhere.json["text"] == views.NOT_A_COMMUNITY
    async with bot.db.reading() as session:
        assert list(await session.scalars(select(ScheduledRun))) == []
        assert list(await session.scalars(select(Delivery))) == []


async def test_a_paused_community_gets_no_runs(bot: Bot) -> None:
    c = await community(bot)
    await a_week_of_activity(bot, c)
    async with bot.db.transaction() as session:
        await session.execute(
            update(Community).values(
                paused_reason="channel archived", paused_at=berlin(2026, 12, 3)
            )
        )
    await tick(bot, scheduler_of(bot), berlin(2026, 12, 4, 15, 0))
    assert await posted(bot, "general") == []
    assert await digest_runs(bot.db, core.WEEKLY) == []


async def test_sponsors_coordinators_and_the_channel_get_their_monthly_digests(bot: Bot) -> None:
    c = await community(bot)
    ws, cid = c.workspace_id, c.id
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    from storage.models import Gap, GapStatus, Proposal, ProposalStatus, Role, RoleName

    day = berlin(2026, 12, 10)
    await seed_rows(
        bot.db,
        Role(workspace_id=ws, community_id=cid, user_id=carol, role=RoleName.SPONSOR),
        lesson_row(ws, cid, "Written this month", bob, day),
        lesson_row(
            ws,
            cid,
            "Old practice",
            alice,
            day - timedelta(days=800),
            status="validated",
            reviewed_at=day - timedelta(days=400),
        ),
        lesson_row(
            ws,
            cid,
            "Secret old practice",
            alice,
            day - timedelta(days=800),
            status="validated",
            reviewed_at=day - timedelta(days=400),
            visibility=Visibility.PRIVATE,
            channel="G0SECRET",
        ),  # fmt: skip
        Gap(
            workspace_id=ws,
            community_id=cid,
            question="How do we " + HOSTILE,
            raised_by=bob,
            visibility=Visibility.PUBLIC,
            status=GapStatus.OPEN,
            vote_count=3,
            created_at=day,
        ),  # fmt: skip
        Gap(
            workspace_id=ws,
            community_id=cid,
            question="Private gap",
            raised_by=bob,
            visibility=Visibility.PRIVATE,
            status=GapStatus.OPEN,
            vote_count=9,
            created_at=day,
        ),  # fmt: skip
        Proposal(
            workspace_id=ws,
            community_id=cid,
            insight="x",
            proposal="Fund the pager rota",
            proposed_by=bob,
            status=ProposalStatus.OPEN,
            created_at=day,
        ),  # fmt: skip
    )
    await tick(bot, scheduler_of(bot), berlin(2027, 1, 4, 10, 0))  # first Monday of January

    [channel] = [m for m in await posted(bot, "general") if "Where do we go now" in m.text]
    assert "Where do we go now" in channel.text and ESCAPED in texts(channel)
    assert "Private gap" not in texts(channel)
    [sponsor] = await dms(bot, "carol")
    assert "Fund the pager rota" in texts(sponsor) and ESCAPED in texts(sponsor)
    assert "Private gap" not in texts(sponsor)  # a DM does not quote a private channel
    # Health as /doughnut stats shows it: the month against the month before.
    assert "1 captured ↑ (0)" in texts(sponsor)
    [coordinator] = await dms(bot, "alice")
    seen = texts(coordinator)
    assert "Old practice" in seen and f"<@{bob}>" in seen  # stale, and bob not thanked
    assert "Secret" not in seen
    assert [p for p, _, _ in await digest_runs(bot.db, core.SPONSOR)] == ["2027-01"]


def test_fortnights_count_from_the_anchor() -> None:
    anchor = date(2026, 12, 15)
    owed = [d for d in (anchor + timedelta(weeks=w) for w in range(-2, 6))
            if core.fortnight_owed(anchor, d)]  # fmt: skip
    assert owed == [anchor - timedelta(weeks=2), anchor, anchor + timedelta(weeks=2),
                    anchor + timedelta(weeks=4)]  # fmt: skip


async def test_a_community_that_switched_the_nudge_off_sends_its_reviewers_none(bot: Bot) -> None:
    c = await community(bot)
    now = berlin(2026, 12, 7, 0)
    await seed_rows(bot.db, lesson_row(c.workspace_id, c.id, "Waiting", bot.user("carol"),
                                  now - timedelta(days=5)))  # fmt: skip
    async with bot.db.transaction() as session:
        await session.execute(
            update(Community).values(settings={"jobs": {core.REVIEW_NUDGE: False}})
        )
    scheduler = scheduler_of(bot)
    scheduler.jobs = [j for j in scheduler.jobs if j.name == core.REVIEW_NUDGE]

    assert await tick(bot, scheduler, datetime(2026, 12, 7, 14, 0, tzinfo=UTC)) == []
    assert await dms(bot, "bob") == []


async def test_a_reviewer_of_two_communities_gets_one_nudge_a_week(bot: Bot) -> None:
    first = await community(bot)
    second = await community(bot, "random", tz="Asia/Tokyo")
    carol, bob = bot.user("carol"), bot.user("bob")
    now = berlin(2026, 12, 7, 0)
    await seed_rows(
        bot.db,
        lesson_row(first.workspace_id, first.id, "From general", carol, now - timedelta(days=4)),
        lesson_row(second.workspace_id, second.id, "From random", carol, now - timedelta(days=4)),
    )
    scheduler = scheduler_of(bot)
    scheduler.jobs = [j for j in scheduler.jobs if j.name == core.REVIEW_NUDGE]
    for hour in range(0, 24 * 6, 2):  # a tick every two hours for six days
        await tick(bot, scheduler, now + timedelta(hours=hour))

    [nudge] = await dms(bot, "bob")
    assert "From general" in texts(nudge) and "From random" in texts(nudge)
    # No member cache for bob: his first community's timezone (Berlin), Monday 09:00 there.
    assert [(p, s) for p, s, _ in await digest_runs(bot.db, core.REVIEW_NUDGE)] == [
        ("2026-W50", bob)
    ]


def test_a_hostile_community_name_is_escaped_everywhere() -> None:
    from storage.digests import Breadth

    digest = core.WeeklyDigest(
        community=HOSTILE, start=berlin(2026, 12, 1), end=berlin(2026, 12, 8), kudos=(),
        breadth=Breadth(0, 0, 0, 0), first_time=(), captured=core.Counted((), 0),
        validated=core.Counted((), 0), reused=core.Counted((), 0), assists=core.Counted((), 0),
    )  # fmt: skip
    for body in (views.weekly_digest(digest), views.snapshot_prompt(HOSTILE)):
        mrkdwn = [body["text"], *(b["text"]["text"] for b in body["blocks"] if "text" in b)]
        assert all("<!channel>" not in t and "<@U123>" not in t for t in mrkdwn)
        assert ESCAPED in body["text"]
