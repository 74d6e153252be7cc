"""Community health over the wire: `/doughnut stats` figures for a seeded period equal the ones
computed by hand (each figure, medians and breadth included), with trend arrows; another
workspace's rows never count; `/doughnut stats all` for the support team only; the twelve-month
chart reaches the requester's DM through the outbox (both databases)."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core import health
from bot.core.communities import CommunityView, view_of
from bot.core.health import Figures, Period
from bot.emulator import Message
from handlers.health import chart
from handlers.health import listeners as health_listeners
from handlers.health import views as health_views
from storage import communities as community_queries
from storage.models import (
    AssistFormat,
    AssistHelper,
    AssistStatus,
    Community,
    DecisionKind,
    Delivery,
    DeliveryStatus,
    Gap,
    GapStatus,
    HelperState,
    Kudos,
    KudosSource,
    KudosStatus,
    Lesson,
    LessonDecision,
    LessonStatus,
    LessonUse,
    PeerAssist,
    Proposal,
    ProposalDecision,
    ProposalStatus,
    SupportGrant,
    Visibility,
)
from tests.conftest import (
    START,
    Bot,
    bot_workspace,
    community_with,
    seed_member,
    seed_rows,
    workspace_id,
)

HOSTILE = "<!channel> & <@U0HOSTILE> *bold*"
# People who take part (ids only: the member cache is not needed to count them).
DAN, EVE, FAY, GUS, HAL, IVY = "U0DAN", "U0EVE", "U0FAY", "U0GUS", "U0HAL", "U0IVY"


def ago(days: float) -> datetime:
    return START - timedelta(days=days)


def lesson(ws: int, community: int, n: int, author: str, created: float) -> Lesson:
    return Lesson(
        id=n, workspace_id=ws, community_id=community, title=f"Lesson {n}", next_time="Do it",
        author_id=author, visibility=Visibility.PUBLIC, status=LessonStatus.CAPTURED,
        created_at=ago(created), updated_at=ago(created),
    )  # fmt: skip


def decision(ws: int, lesson_id: int, kind: DecisionKind, by: str, at: float) -> LessonDecision:
    return LessonDecision(workspace_id=ws, lesson_id=lesson_id, kind=kind, by_user=by,
                          note="ok", decided_at=ago(at))  # fmt: skip


def use(ws: int, lesson_id: int, user: str, at: float) -> LessonUse:
    return LessonUse(workspace_id=ws, lesson_id=lesson_id, user_id=user, used_at=ago(at))


def assist(
    ws: int, community: int, n: int, requester: str, created: float, *,
    matched: float | None = None, closed: float | None = None,
    status: AssistStatus = AssistStatus.OPEN,
) -> PeerAssist:  # fmt: skip
    return PeerAssist(
        id=n, workspace_id=ws, community_id=community, title=f"Assist {n}",
        format=AssistFormat.CALL, requester_id=requester, visibility=Visibility.PUBLIC,
        status=status, status_by=requester, status_at=ago(created), created_at=ago(created),
        matched_at=None if matched is None else ago(matched),
        closed_at=None if closed is None else ago(closed),
    )  # fmt: skip


def helper(ws: int, assist_id: int, user: str, state: HelperState, at: float) -> AssistHelper:
    return AssistHelper(workspace_id=ws, assist_id=assist_id, user_id=user, state=state,
                        created_at=ago(at), updated_at=ago(at))  # fmt: skip


def gap(
    ws: int, community: int, raised_by: str, created: float, *,
    status: GapStatus = GapStatus.OPEN, closed: float | None = None,
) -> Gap:  # fmt: skip
    return Gap(
        workspace_id=ws, community_id=community, question="How?", raised_by=raised_by,
        visibility=Visibility.PUBLIC, status=status, created_at=ago(created),
        closed_at=None if closed is None else ago(closed),
    )  # fmt: skip


def proposal(ws: int, community: int, created: float, decided: float | None = None) -> Proposal:
    answered = decided is not None
    return Proposal(
        workspace_id=ws, community_id=community, insight="We learned", proposal="Do this",
        proposed_by=DAN,
        status=ProposalStatus.ANSWERED if answered else ProposalStatus.OPEN,
        decision=ProposalDecision.ADOPT if answered else None,
        decided_by="U0SPONSOR" if answered else None,
        decided_at=ago(decided) if answered else None, created_at=ago(created),
    )  # fmt: skip


def kudos(
    ws: int, community: int, giver: str, receiver: str, channel: str, at: float, *,
    status: KudosStatus = KudosStatus.GIVEN,
) -> Kudos:  # fmt: skip
    return Kudos(
        workspace_id=ws, community_id=community, giver_id=giver, receiver_id=receiver,
        reason="thanks", source=KudosSource.COMMAND, status=status, channel_id=channel,
        visibility=Visibility.PUBLIC, given_at=ago(at), local_day=ago(at).date().isoformat(),
    )  # fmt: skip


def period_rows(ws: int, sre: int, general: str) -> list[object]:
    """The seeded history (days before START); the expected figures are worked out below."""
    return [
        # Lessons. This period: L1 (dan, validated 2 d later), L2 (eve: validated after 1 d,
        # sent back, validated again: counts once, at its first validation), L3 (dan, not
        # validated); L4 (alice, captured the period before, validated in this one after 15 d).
        # The period before: L4 and L5 captured, L5 validated after 5 d.
        lesson(ws, sre, 1, DAN, 20), lesson(ws, sre, 2, EVE, 10), lesson(ws, sre, 3, DAN, 5),
        lesson(ws, sre, 4, "U0ALICE", 40), lesson(ws, sre, 5, DAN, 50),
        decision(ws, 1, DecisionKind.VALIDATE, "U0CAROL", 18),
        decision(ws, 2, DecisionKind.VALIDATE, "U0CAROL", 9),
        decision(ws, 2, DecisionKind.NEEDS_WORK, "U0CAROL", 8),
        decision(ws, 2, DecisionKind.VALIDATE, "U0CAROL", 7),
        decision(ws, 4, DecisionKind.VALIDATE, "U0CAROL", 25),
        decision(ws, 5, DecisionKind.VALIDATE, "U0CAROL", 45),
        decision(ws, 1, DecisionKind.PUBLISH, IVY, 17),  # publishing is not reviewing
        # Reuse: L1 twice and L5 once in this period (2 lessons); L5 the period before (1).
        use(ws, 1, FAY, 3), use(ws, 1, "U0BOB", 2), use(ws, 5, EVE, 4), use(ws, 5, DAN, 35),
        # Assists. A1: asked 12 d ago, matched after 1 d, done; A2: asked 3 d ago, open;
        # A3: asked 40 d ago, matched 28 d ago (after 12 d), done 27 d ago.
        assist(ws, sre, 1, EVE, 12, matched=11, closed=6, status=AssistStatus.DONE),
        assist(ws, sre, 2, EVE, 3),
        assist(ws, sre, 3, EVE, 40, matched=28, closed=27, status=AssistStatus.DONE),
        helper(ws, 1, FAY, HelperState.ACCEPTED, 11),
        helper(ws, 1, IVY, HelperState.SUGGESTED, 11),  # only suggested: not active
        helper(ws, 3, "U0BOB", HelperState.VOLUNTEERED, 31),
        # Gaps: G1 (fay) open; G2 (dan) answered 4 d ago; G3 (eve, the period before) answered
        # 20 d ago; G4 (gus) closed as out of scope (not answered).
        gap(ws, sre, FAY, 15),
        gap(ws, sre, DAN, 8, status=GapStatus.ANSWERED, closed=4),
        gap(ws, sre, EVE, 35, status=GapStatus.ANSWERED, closed=20),
        gap(ws, sre, GUS, 6, status=GapStatus.OUT_OF_SCOPE, closed=5),
        # Proposals answered after 6 d and 1 d (this period), 7 d (the period before); one open.
        proposal(ws, sre, 20, 14), proposal(ws, sre, 10, 9), proposal(ws, sre, 5),
        proposal(ws, sre, 40, 33),
        # Kudos: dan (in the channel, and from another channel), eve (in the channel), fay (in
        # a DM); hal's kudos was undone. The period before: eve, in the channel.
        kudos(ws, sre, "U0ALICE", DAN, general, 10),
        kudos(ws, sre, "U0BOB", DAN, "C0ELSEWHERE", 9),
        kudos(ws, sre, "U0CAROL", EVE, general, 8),
        kudos(ws, sre, DAN, FAY, "D0DIRECT", 7),
        kudos(ws, sre, HAL, GUS, general, 6, status=KudosStatus.UNDONE),
        kudos(ws, sre, "U0ALICE", EVE, general, 40),
    ]  # fmt: skip


# This period: authors dan, eve; reviewer carol; users fay, bob, eve; helper fay; kudos givers
# alice, bob, carol, dan; gap raisers fay, dan, gus → alice bob carol dan eve fay gus.
# The period before: authors alice, dan; reviewer carol; user dan; helper bob; giver alice;
# raiser eve → alice bob carol dan eve.
EXPECTED_NOW = Figures(
    active_members=7,
    lessons_captured=3,
    lessons_validated=3,
    lessons_reused=2,
    median_time_to_validation=timedelta(days=2),  # of 2, 1, 15 days
    assists_requested=2,
    assists_completed=2,
    median_time_to_match=timedelta(days=6.5),  # of 1 and 12 days
    gaps_opened=3,
    gaps_answered=2,
    proposals_answered=2,
    median_time_to_answer=timedelta(days=3.5),  # of 6 and 1 days
    people_recognised=3,
    recognised_from_outside=2,
)
EXPECTED_BEFORE = Figures(
    active_members=5,
    lessons_captured=2,
    lessons_validated=1,
    lessons_reused=1,
    median_time_to_validation=timedelta(days=5),
    assists_requested=1,
    assists_completed=0,
    median_time_to_match=None,
    gaps_opened=1,
    gaps_answered=0,
    proposals_answered=1,
    median_time_to_answer=timedelta(days=7),
    people_recognised=1,
    recognised_from_outside=0,
)
EXPECTED_LINES = [
    "7 active members ↑ (5)",
    "Lessons: 3 captured ↑ (2) · 3 validated ↑ (1) · 2 reused ↑ (1) · "
    "median time to validation 2 d ↓ (5 d)",
    "Peer assists: 2 requested ↑ (1) · 2 completed ↑ (0) · median time to match 6.5 d (–)",
    "Gaps: 3 opened ↑ (1) · 2 answered ↑ (0)",
    "Proposals: 2 answered ↑ (1) · median time to answer 3.5 d ↓ (7 d)",
    "Recognition: 3 people recognised ↑ (1) · 67% recognised outside their own channel ↑ (0%)",
]


async def seeded(bot: Bot) -> int:
    """SRE in #general (alice coordinates, bob sponsors, carol reviews) and its history."""
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    sre = await community_with(
        bot, general, coordinators=[alice], sponsors=[bob], reviewers=[carol]
    )
    await seed_rows(bot.db, *period_rows(await bot_workspace(bot), sre, general))
    return sre


async def stats(bot: Bot, user: str, channel: str, text: str = "") -> Message:
    reply = await bot.driver.command(user, channel, "/doughnut", f"stats {text}".strip())
    assert reply.status == 200
    await bot.settle()  # `all` answers after the ack, through the outbox
    return bot.state.ephemerals_for(user, channel)[-1]


async def test_stats_figures_equal_the_hand_computed_ones_with_trend_arrows(bot: Bot) -> None:
    sre = await seeded(bot)
    alice, general = bot.user("alice"), bot.channel("general")

    answer = await stats(bot, alice, general)

    lines = answer.text.split("\n")
    assert lines[0] == f"*SRE* (<#{general}>): the last 30 days, against the 30 before"
    assert lines[1:] == EXPECTED_LINES
    assert (answer.blocks or [])[1]["text"]["text"] == "\n".join(EXPECTED_LINES)
    # The service the digests call gives the same figures, exactly.
    async with bot.db.reading() as session:
        ws = await bot_workspace(bot)
        community = view_of(await community_queries.community_in_channel(session, ws, general))
        found = await health.community_health(session, ws, community, Period.last(30, START))
    assert found.community.id == sre
    assert found.current == EXPECTED_NOW
    assert found.previous == EXPECTED_BEFORE
    assert found.current.outside_share == pytest.approx(2 / 3)
    assert not found.quiet and found.missing_roles == ()


async def test_figures_that_take_longer_than_the_budget_follow_the_ack(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A community so busy its figures miss the budget: answered after the ack, not late.
    monkeypatch.setattr(health_listeners, "STATS_BUDGET", 0)
    await seeded(bot)
    alice, general = bot.user("alice"), bot.channel("general")

    reply = await bot.driver.command(alice, general, "/doughnut", "stats")

    assert reply.status == 200 and reply.json["text"].startswith(":hourglass_flowing_sand:")
    await bot.settle()
    assert [c.ok for c in bot.emu.calls_to("response_url")] == [True]
    answer = bot.state.ephemerals_for(alice, general)[-1]
    assert answer.text.split("\n")[1:] == EXPECTED_LINES


async def test_another_workspaces_rows_never_count(bot: Bot) -> None:
    await seeded(bot)
    alice, general = bot.user("alice"), bot.channel("general")
    # Another workspace: its own community "SRE" in a channel with the same id, with a history
    # of its own; and rows of that workspace pointing (wrongly) at this workspace's community.
    other = await workspace_id(bot.db, bot.clock, "T0OTHER")
    async with bot.db.transaction() as session:
        theirs = Community(workspace_id=other, channel_id=general, name="SRE", timezone="UTC",
                           created_by="U0X", created_at=START, updated_at=START, settings={},
                           roles=[])  # fmt: skip
        session.add(theirs)
        await session.flush()
        mine = await session.scalar(select(Community.id).where(Community.workspace_id != other))
        their_id = theirs.id
    rows = period_rows(other, their_id, general)
    for row in rows:
        if hasattr(row, "id") and isinstance(row, (Lesson, PeerAssist)):
            row.id += 100  # ids of their own
    for row in rows:
        if isinstance(row, (LessonDecision, LessonUse)):
            row.lesson_id += 100
        if isinstance(row, AssistHelper):
            row.assist_id += 100
    await seed_rows(bot.db, *rows)
    await seed_rows(
        bot.db,
        kudos(other, mine, "U0X", "U0Y", "C0ELSEWHERE", 1),
        gap(other, mine, "U0X", 1),
        lesson(other, mine, 300, "U0X", 1),
    )

    answer = await stats(bot, alice, general)

    assert answer.text.split("\n")[1:] == EXPECTED_LINES


async def test_stats_is_for_coordinators_sponsors_and_support_with_clear_refusals(
    bot: Bot,
) -> None:
    await seeded(bot)
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general, random = bot.channel("general"), bot.channel("random")

    sponsor = await stats(bot, bob, general)
    assert sponsor.text.split("\n")[1:] == EXPECTED_LINES
    reviewer = await stats(bot, carol, general)
    assert "Only the coordinators and sponsors of *SRE*" in reviewer.text
    assert f"<@{alice}>" in reviewer.text and "active members" not in reviewer.text
    by_name = await stats(bot, alice, random, "sre")
    assert by_name.text.split("\n")[1:] == EXPECTED_LINES
    by_link = await stats(bot, alice, random, f"<#{general}|general> 30d")
    assert by_link.text.split("\n")[1:] == EXPECTED_LINES
    not_one = await stats(bot, alice, random)
    assert "This channel is not a community" in not_one.text and "SRE" in not_one.text
    unknown = await stats(bot, alice, random, HOSTILE)
    assert "I know no community named" in unknown.text
    assert "<!channel>" not in unknown.text and "&lt;!channel&gt; &amp;" in unknown.text
    bad = await stats(bot, alice, general, "999d")
    assert "Add a period like `90d`" in bad.text
    # A granted member of the support team sees it too.
    await seed_rows(bot.db, SupportGrant(workspace_id=await bot_workspace(bot), user_id=carol,
                                         granted_by=alice, granted_at=START))  # fmt: skip
    support = await stats(bot, carol, general)
    assert support.text.split("\n")[1:] == EXPECTED_LINES


async def test_a_shorter_period_compares_with_the_one_before_it(bot: Bot) -> None:
    await seeded(bot)
    alice, general = bot.user("alice"), bot.channel("general")

    week = await stats(bot, alice, general, "7d")

    # [START-7d, START) against [START-14d, START-7d): L3 captured against L2. L2 was
    # validated 9 d ago (the week before, after 1 d) and again exactly 7 d ago: the start of
    # this week, which belongs to it (after 3 d; under 48 h shows in hours).
    lines = week.text.split("\n")
    assert lines[0].endswith("the last 7 days, against the 7 before")
    assert lines[2] == (
        "Lessons: 1 captured → (1) · 1 validated → (1) · 2 reused ↑ (0) · "
        "median time to validation 3 d ↑ (24 h)"
    )


async def test_stats_all_for_the_support_team_shows_quiet_and_missing_roles(bot: Bot) -> None:
    await seeded(bot)
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general, random = bot.channel("general"), bot.channel("random")
    await community_with(bot, random, HOSTILE, coordinators=[carol])
    await seed_member(bot, carol, is_admin=True, name="carol")  # an admin, from the member cache
    await seed_member(bot, bob, name="bob")

    refused = await stats(bot, alice, general, "all")
    assert "Only the support team" in refused.text and "SRE" not in refused.text
    assert "Only the support team" in (await stats(bot, bob, general, "all")).text

    answer = await stats(bot, carol, general, "all")

    # The ack says it is coming; the figures follow through the outbox (response_url).
    ack, _ = bot.state.ephemerals_for(carol, general)[-2:]
    assert ack.text.startswith(":hourglass_flowing_sand: Gathering every community's health")
    assert [c.ok for c in bot.emu.calls_to("response_url")] == [True]
    text = answer.text
    assert "2 communities, 1 quiet (fewer than 3 active members), 1 missing a coordinator" in text
    assert (
        f"*SRE* (<#{general}>)\n7 active ↑ (5) · 3 captured ↑ (2) · 3 validated ↑ (1) · "
        "2 reused ↑ (1) · 2 assists done ↑ (0) · 2 gaps answered ↑ (0) · 3 recognised ↑ (1)"
    ) in text
    hostile = "*&lt;!channel&gt; &amp; &lt;@U0HOSTILE&gt; *bold** "
    assert f"{hostile}(<#{random}>) · :zzz: quiet · :warning: no reviewer, no sponsor" in text
    assert "<!channel>" not in text and "<!channel>" not in str(answer.blocks)
    # A granted member: alice, once granted, sees it too.
    await seed_rows(bot.db, SupportGrant(workspace_id=await bot_workspace(bot), user_id=alice,
                                         granted_by="cli", granted_at=START))  # fmt: skip
    assert "2 communities" in (await stats(bot, alice, general, "all")).text


@pytest.mark.skipif(not chart.available(), reason='matplotlib is not installed: "doughnut[charts]"')
async def test_the_chart_reaches_the_requesters_dm_through_the_outbox(bot: Bot) -> None:
    await seeded(bot)
    bob, general = bot.user("bob"), bot.channel("general")

    answer = await stats(bot, bob, general)
    assert "A chart of the last 12 months is on its way to your DM" in str(answer.blocks)
    await bot.settle()

    [upload] = [m for m in bot.state.messages[bot.state.dm_channel(bob).id] if m.files]
    [file] = upload.files or []
    assert file["name"] == "doughnut-health.png" and "SRE" in file["title"]
    assert bot.state.files[file["id"]]["content"].startswith(b"\x89PNG\r\n\x1a\n")
    assert "SRE: the last 12 months" in upload.text
    assert not any(m.files for m in bot.state.messages[general])  # never in the channel
    async with bot.db.reading() as session:
        [delivery] = await session.scalars(
            select(Delivery).where(Delivery.method == "files.upload_v2")
        )
    assert delivery.status == DeliveryStatus.SENT and delivery.channel == bob
    png = base64.b64decode(delivery.payload["content_base64"])
    assert png == bot.state.files[file["id"]]["content"]


async def test_without_the_charts_extra_the_text_alone_and_it_says_so(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await seeded(bot)
    monkeypatch.setattr(chart, "MATPLOTLIB", None)  # as without the `charts` extra
    monkeypatch.setattr(chart, "_said_missing", False)
    alice, general = bot.user("alice"), bot.channel("general")

    answer = await stats(bot, alice, general)
    again = await stats(bot, alice, general)

    assert answer.text.split("\n")[1:] == EXPECTED_LINES
    assert "No chart: charts are not installed" in str(answer.blocks)
    assert "No chart" in str(again.blocks)
    assert bot.emu.calls_to("files.getUploadURLExternal") == []
    said = [r for r in caplog.records if "charts are off" in r.getMessage()]
    assert len(said) == 1  # the log says so once, not at every request


async def test_the_chart_counts_each_month(bot: Bot) -> None:
    sre = await seeded(bot)
    async with bot.db.reading() as session:
        ws = await bot_workspace(bot)
        community = view_of(await session.get(Community, sre))
        monthly = await health.monthly(session, ws, community, START)

    assert monthly.months[0] == "2026-01" and monthly.months[-1] == "2026-12"
    # START is 1 December 09:00: December has nothing yet; the seeded days fall in Oct and Nov.
    months = dict(zip(monthly.months, zip(monthly.captured, monthly.validated, monthly.reused,
                                          monthly.active, strict=True), strict=True))  # fmt: skip
    # November: L1-L3 captured; L1, L2 (twice: once) and L4 validated; L1 and L5 reused; the
    # seven active this period. October: L5 (12 Oct) and L4 (22 Oct) captured, L5 validated
    # (17 Oct) and reused (27 Oct); alice, bob, carol, dan, eve active.
    assert months["2026-11"] == (3, 3, 2, 7)
    assert months["2026-10"] == (2, 1, 1, 5)
    assert months["2026-12"] == (0, 0, 0, 0)
    assert sum(monthly.captured) == 5 and sum(monthly.validated) == 4


async def test_home_shows_health_to_coordinators_and_sponsors_only(bot: Bot) -> None:
    await seeded(bot)
    alice, bob, carol, general = (
        bot.user("alice"), bot.user("bob"), bot.user("carol"), bot.channel("general"),
    )  # fmt: skip

    for user in (alice, bob, carol):
        await bot.driver.open_home(user)
    await bot.settle()

    for user in (alice, bob):
        home = str(bot.state.home_views[user]["blocks"])
        assert "How your communities are doing" in home
        assert f"*SRE* (<#{general}>)" in home and "7 active ↑ (5)" in home
    assert "How your communities are doing" not in str(bot.state.home_views[carol]["blocks"])


def test_one_is_said_in_the_singular() -> None:
    community = CommunityView(1, "SRE", "C0SRE", "", "UTC", False)
    one = Figures(active_members=1, people_recognised=1)
    health_of_one = health.CommunityHealth(community, Period.last(30, START), one, Figures())

    lines = health_views.figure_lines(health_of_one)

    assert lines[0] == "1 active member ↑ (0)"
    assert lines[-1].startswith("Recognition: 1 person recognised ↑ (0)")
