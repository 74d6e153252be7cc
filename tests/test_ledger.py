"""The contribution profile and ledger over the wire: `/doughnut me`, `/doughnut profile @…`,
`/doughnut report` (a CSV uploaded to the requester's DM through the outbox), `doughnut export
contributions`, and an upload that survives a crash without being shared twice (both
databases). Kudos, members and peer assists are seeded straight into their tables."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.core import lessons
from bot.core.communities import SetupForm, save_setup
from bot.core.contributions import parse_period
from bot.emulator import Message
from handlers.profile.export import COLUMNS, safe_cell
from storage.models import Delivery, DeliveryStatus, Lesson, LessonStatus, LessonUse, Visibility
from tests.conftest import (
    Bot,
    capture,
    eventually,
    fetch,
    run_cli,
    seed_assist,
    seed_kudos,
    seed_member,
    slack_client,
    unit_of_work,
    workspace_id,
)

COMMUNITY = "<!channel> SRE & <@U0L000001>"  # a hostile community name, echoed escaped
ESCAPED = "&lt;!channel&gt; SRE &amp; &lt;@U0L000001&gt;"
SET_UP = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
NOV = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
PERIOD = "2026-11-01..2026-11-30"


@dataclass
class World:
    alice: str  # coordinator
    bob: str  # reviewer
    carol: str  # sponsor; writes lessons, gets no kudos in the community
    dave: str  # helps on a peer assist, gets no kudos
    general: str  # the community's channel
    random: str
    community_id: int
    workspace: int
    other_workspace: int


async def at(bot: Bot, moment: datetime) -> None:
    bot.clock.set(moment)


async def world(bot: Bot) -> World:
    """November 2026 in the community, hand-counted in `EXPECTED`; and noise that must not
    count: other months, other statuses, another community, another workspace."""
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    dave = bot.state.add_user("dave", real_name="Dave Roe").id
    general, random = bot.channel("general"), bot.channel("random")
    ws = await workspace_id(bot.db, bot.clock, bot.state.team_id)
    other = await workspace_id(bot.db, bot.clock, "T0OTHER01")

    await at(bot, SET_UP)
    uow = unit_of_work(bot)
    form = SetupForm(name=COMMUNITY, description="", timezone="UTC", coordinators=[alice],
                     reviewers=[bob], sponsors=[carol])  # fmt: skip
    saved = await save_setup(uow, alice, general, form, editing=False, is_private=False)
    await uow.finish(ok=True)
    sre = saved.community.id

    # Names a spreadsheet would run as formulas.
    for user_id, name in ((alice, "Alice Martin"), (bob, "+Bob"), (carol, "-Carol <!here>"),
                          (dave, '=HYPERLINK("http://evil.example")')):  # fmt: skip
        await seed_member(bot, user_id, name=name, workspace=ws)

    # Kudos in November, in the community.
    await seed_kudos(bot.db, ws, bob, alice, NOV, channel=general, community_id=sre)
    await seed_kudos(bot.db, ws, carol, alice, NOV, channel=general, community_id=sre)
    await seed_kudos(bot.db, ws, carol, alice, NOV, channel=random, community_id=sre)
    await seed_kudos(bot.db, ws, alice, bob, NOV, channel=general, community_id=sre)
    # Not counted: pending, undone, October, another community (a DM), another workspace.
    await seed_kudos(bot.db, ws, carol, bob, NOV, channel=random, community_id=sre,
                     status="pending")  # fmt: skip
    await seed_kudos(bot.db, ws, bob, carol, NOV, channel=random, community_id=sre,
                     status="undone")  # fmt: skip
    await seed_kudos(bot.db, ws, bob, dave, datetime(2026, 10, 31, 23, 59, tzinfo=UTC),
                     channel=general, community_id=sre)  # fmt: skip
    await seed_kudos(bot.db, ws, bob, carol, NOV, channel=None, community_id=None)
    await seed_kudos(bot.db, other, bob, carol, NOV, channel=general)
    await seed_kudos(bot.db, other, bob, dave, NOV, channel=general)
    # Long ago: counts only "all time".
    await seed_kudos(bot.db, ws, bob, alice, datetime(2025, 1, 5, tzinfo=UTC), channel="C0OLD0001",
                     community_id=sre)  # fmt: skip

    # Lessons: carol writes two in November; bob validates one, sends the other back.
    await at(bot, NOV)
    practice = await capture(bot, carol, general, "Rehearse the rollback", community_id=sre)
    draft = await capture(bot, carol, general, "Page twice", community_id=sre)
    uow = unit_of_work(bot)
    await lessons.validate(uow, practice.id, lessons.Viewer(bob, general), "Every deploy")
    await lessons.needs_work(uow, draft.id, lessons.Viewer(bob, general), "Say which pager")
    await lessons.mark_used(uow, practice.id, lessons.Viewer(alice, general), "Used it Friday")
    await uow.finish(ok=True)
    async with bot.db.transaction() as session:  # her own use is not reuse
        session.add(LessonUse(workspace_id=ws, lesson_id=practice.id, user_id=carol,
                              channel_id=general, note="", used_at=NOV))  # fmt: skip
    # December: after the period.
    await at(bot, datetime(2026, 12, 1, 0, 30, tzinfo=UTC))
    await capture(bot, carol, general, "Too late for November", community_id=sre)
    # Another workspace's lesson by alice's id.
    async with bot.db.transaction() as session:
        session.add(Lesson(workspace_id=other, title="Elsewhere", next_time="x", author_id=alice,
                           visibility=Visibility.PUBLIC, status=LessonStatus.CAPTURED,
                           created_at=NOV, updated_at=NOV))  # fmt: skip

    # Peer assists: dave accepted on one done in November; others do not count.
    await seed_assist(bot.db, ws, alice, {dave: "accepted", bob: "declined"}, community_id=sre,
                      closed_at=NOV)  # fmt: skip
    await seed_assist(bot.db, ws, alice, {bob: "accepted"}, status="cancelled", community_id=sre,
                      closed_at=NOV)  # fmt: skip
    await seed_assist(bot.db, other, alice, {carol: "accepted"}, closed_at=NOV)

    await at(bot, datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    return World(alice, bob, carol, dave, general, random, sre, ws, other)


def expected(w: World) -> dict[str, list[str]]:
    """The November ledger of the community, counted by hand (COLUMNS order)."""
    since = "since 2026-10-01"
    return {
        w.alice: [w.alice, "Alice Martin", "3", "2", "2", "1", "0", "0", "0", "0", "0",
                  f"coordinator of {COMMUNITY} {since}", ""],
        w.bob: [w.bob, "'+Bob", "1", "1", "1", "1", "0", "0", "0", "2", "0",
                f"reviewer of {COMMUNITY} {since}", ""],
        w.carol: [w.carol, "'-Carol <!here>", "0", "0", "0", "2", "2", "1", "1", "0", "0",
                  f"sponsor of {COMMUNITY} {since}", "yes"],
        w.dave: [w.dave, "'=HYPERLINK(\"http://evil.example\")", "0", "0", "0", "0", "0", "0",
                 "0", "0", "1", "", "yes"],
    }  # fmt: skip


def parse_csv(text: str) -> tuple[list[str], dict[str, list[str]]]:
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    return header, {row[0]: row for row in rows}


def uploaded_files(bot: Bot, user: str) -> list[tuple[Message, dict]]:
    dm = bot.state.dm_channel(user).id
    return [(m, f) for m in bot.state.history(dm) for f in m.files or []]


async def ask_report(bot: Bot, user: str, channel: str, period: str = PERIOD) -> Message:
    reply = await bot.driver.command(user, channel, "/doughnut", f"report {period}".strip())
    assert reply.status == 200
    return bot.state.ephemerals_for(user, channel)[-1]


# ---- the report ------------------------------------------------------------------------------


async def test_the_report_reaches_the_coordinators_dm_as_a_csv_with_the_right_counts(
    bot: Bot,
) -> None:
    w = await world(bot)

    answer = await ask_report(bot, w.alice, w.general)
    await bot.settle()

    assert "on its way to your DM" in answer.text and ESCAPED in answer.text
    assert "2026-11-01..2026-11-30" in answer.text and "4 members" in answer.text
    ((message, file),) = uploaded_files(bot, w.alice)
    dm = bot.state.dm_channel(w.alice).id
    assert dm.startswith("D") and message.channel == dm
    assert file["name"] == "contributions-channel-sre-u0l000001-2026-11-01..2026-11-30.csv"
    assert ESCAPED in message.text and "<!channel>" not in message.text
    assert "2 members contributed without any kudos" in message.text
    (complete,) = bot.emu.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == dm
    content = bot.state.files[file["id"]]["content"].decode()
    header, rows = parse_csv(content)
    assert header == list(COLUMNS)
    assert rows == expected(w)


async def test_a_sponsor_may_ask_and_others_are_refused_with_nothing_sent(bot: Bot) -> None:
    w = await world(bot)

    refused = await ask_report(bot, w.dave, w.general)
    not_here = await ask_report(bot, w.alice, w.random)
    bad = await ask_report(bot, w.alice, w.general, "yesterday")
    backwards = await ask_report(bot, w.alice, w.general, "2026-11-30..2026-11-01")
    await bot.settle()

    assert "Only the coordinators and sponsors of" in refused.text and ESCAPED in refused.text
    assert "in a community's channel" in not_here.text
    assert "Usage: `/doughnut report" in bad.text and "Usage" in backwards.text
    assert bot.emu.calls_to("files.completeUploadExternal") == []
    assert uploaded_files(bot, w.dave) == [] and uploaded_files(bot, w.alice) == []

    await ask_report(bot, w.carol, w.general, "last-month")  # a sponsor; November again
    await bot.settle()
    ((_, file),) = uploaded_files(bot, w.carol)
    _, rows = parse_csv(bot.state.files[file["id"]]["content"].decode())
    assert rows == expected(w)


async def test_formula_cells_are_prefixed_and_numbers_left_alone() -> None:
    for risky in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(risky) == "'" + risky
    assert safe_cell("Alice") == "Alice" and safe_cell(0) == "0" and safe_cell("a=b") == "a=b"


async def test_export_contributions_prints_the_same_csv(bot: Bot) -> None:
    w = await world(bot)
    await ask_report(bot, w.alice, w.general)
    await bot.settle()
    ((_, file),) = uploaded_files(bot, w.alice)
    uploaded = bot.state.files[file["id"]]["content"].decode()
    url = bot.db.engine.url.render_as_string(hide_password=False)
    team = bot.state.team_id

    code, out, err = await run_cli("export", "contributions", "--db", url, "--team", team,
                                   "--since", "2026-11-01", "--until", "2026-11-30",
                                   "--community", f"#{w.general}")  # fmt: skip
    assert code == 0, err
    assert out == uploaded

    # The whole workspace: bob's kudos to carol in a DM counts now, so she is not flagged.
    code, out, err = await run_cli("export", "contributions", "--db", url, "--team", team,
                                   "--since", "2026-11-01", "--until", "2026-11-30")  # fmt: skip
    assert code == 0, err
    _, rows = parse_csv(out)
    assert rows[w.carol][2:6] == ["1", "1", "0", "2"] and rows[w.carol][-1] == ""
    # Another workspace never counts: dave's kudos there, alice's lesson there.
    assert rows[w.dave][2] == "0" and rows[w.alice][6] == "0"

    code, out, err = await run_cli("export", "contributions", "--db", url, "--since",
                                   "2026-11-01", "--until", "2026-11-30")  # fmt: skip
    assert code == 2 and out == "" and "--team" in err
    code, out, err = await run_cli("export", "contributions", "--db", url, "--team", team,
                                   "--since", "2026-11-31", "--until", "2026-12-01")  # fmt: skip
    assert code == 2 and "YYYY-MM-DD" in err


# ---- the profile -----------------------------------------------------------------------------


async def test_doughnut_me_shows_breadth_over_90_days_and_all_time(bot: Bot) -> None:
    w = await world(bot)

    reply = await bot.driver.command(w.alice, w.general, "/doughnut", "me")
    assert reply.status == 200
    shown = bot.state.ephemerals_for(w.alice, w.general)[-1]

    blocks = str(shown.blocks)
    assert "Your contributions" in shown.text
    assert (
        "Kudos received: *3 kudos from 2 people in 2 channels* (all time: 4 kudos from 2 "
        "people in 3 channels)" in blocks
    )
    assert "Kudos given: *1* (all time: 1)" in blocks
    assert f"coordinator of {ESCAPED} (<#{w.general}>), since 1 Oct 2026" in blocks
    assert "<!channel>" not in blocks


async def test_profile_of_someone_else_and_bad_input(bot: Bot) -> None:
    w = await world(bot)

    await bot.driver.command(w.bob, w.general, "/doughnut", f"profile <@{w.carol}|carol>")
    shown = bot.state.ephemerals_for(w.bob, w.general)[-1]
    blocks = str(shown.blocks)
    assert f"Contributions of <@{w.carol}>" in shown.text
    assert "Lessons written: *3* (all time: 3)" in blocks  # November's two and December's
    assert "Lessons validated: *1*" in blocks and "Reuse by others: *1*" in blocks
    assert f"sponsor of {ESCAPED}" in blocks

    await bot.driver.command(w.bob, w.general, "/doughnut", f"profile <@{w.dave}>")
    dave = str(bot.state.ephemerals_for(w.bob, w.general)[-1].blocks)
    assert "Peer assists given: *1*" in dave and "No community roles held." in dave

    for text in ("profile carol", "profile", f"profile <@{w.carol}> <@{w.dave}>", "me please"):
        await bot.driver.command(w.bob, w.general, "/doughnut", text)
        assert "Usage: `/doughnut me`" in bot.state.ephemerals_for(w.bob, w.general)[-1].text


async def test_the_home_tab_has_a_line_of_your_contributions(bot: Bot) -> None:
    w = await world(bot)
    await bot.driver.open_home(w.carol)
    await bot.settle()
    home = str(bot.state.home_views[w.carol])
    assert "Your contributions, last 90 days:" in home
    assert "1 kudos from 1 person, 3 lessons written, 1 reused by others" in home


# ---- the upload through the outbox -----------------------------------------------------------


async def test_the_emulator_refuses_a_user_id_as_channel_id_like_slack(bot: Bot) -> None:
    client = slack_client(bot.emu)
    step = await client.files_getUploadURLExternal(filename="a.csv", length=3)
    async with (
        aiohttp.ClientSession() as session,
        session.post(step["upload_url"], data=b"a,b") as reply,
    ):
        assert reply.status == 200
    with pytest.raises(SlackApiError) as refused:
        await client.files_completeUploadExternal(files=[{"id": step["file_id"]}],
                                                  channel_id=bot.user("alice"))  # fmt: skip
    assert refused.value.response["error"] == "invalid_arguments"
    assert uploaded_files(bot, bot.user("alice")) == []


async def upload_row(bot: Bot) -> int:
    async with bot.db.reading() as session:
        found = await session.scalar(
            select(Delivery.id).where(Delivery.method == "files.upload_v2")
        )
    assert found is not None
    return found


async def crash_during(bot: Bot, method: str) -> None:
    """Run the outbox until Slack performed `method`, then kill it before it hears back."""
    bot.emu.hang_after_accept(method)
    draining = asyncio.create_task(bot.outbox.drain_once())

    async def performed() -> bool:
        return any(c.hung for c in bot.emu.calls_to(method))

    await eventually(performed)
    draining.cancel()
    with pytest.raises(asyncio.CancelledError):
        await draining


async def test_an_upload_shared_before_a_crash_is_found_not_shared_twice(bot: Bot) -> None:
    w = await world(bot)
    await ask_report(bot, w.alice, w.general)
    await bot.app.deps.after_ack.idle()
    await crash_during(bot, "files.completeUploadExternal")
    row = await fetch(bot.db, await upload_row(bot))
    assert row.status == DeliveryStatus.PENDING and row.result is not None
    assert row.result["step"] == "sharing" and row.result["file_id"].startswith("F")

    bot.clock.advance(timedelta(minutes=2))  # the dead sender's lease runs out
    await bot.settle()

    ((message, file),) = uploaded_files(bot, w.alice)
    assert file["id"] == row.result["file_id"]
    assert len(bot.emu.calls_to("files.completeUploadExternal")) == 1
    settled = await fetch(bot.db, row.id)
    assert settled.status == DeliveryStatus.SENT
    assert settled.result is not None and settled.result["recovered"] is True
    assert settled.result["ts"] == message.ts


async def test_an_upload_whose_share_cannot_be_checked_is_unknown_not_sent_again(
    bot: Bot,
) -> None:
    w = await world(bot)
    await ask_report(bot, w.alice, w.general)
    await bot.app.deps.after_ack.idle()
    await crash_during(bot, "files.completeUploadExternal")
    bot.clock.advance(timedelta(minutes=2))
    bot.emu.fail("conversations.history", retry_after=60)  # the history cannot tell

    await bot.settle()
    bot.clock.advance(timedelta(hours=1))
    await bot.settle()

    assert len(uploaded_files(bot, w.alice)) == 1
    assert len(bot.emu.calls_to("files.completeUploadExternal")) == 1
    assert len(bot.emu.calls_to("files.getUploadURLExternal")) == 1
    row = await fetch(bot.db, await upload_row(bot))
    assert row.status == DeliveryStatus.UNKNOWN
    assert row.last_error is not None and "ratelimited" in row.last_error


async def test_an_upload_that_crashed_before_sharing_is_uploaded_again_once(bot: Bot) -> None:
    w = await world(bot)
    await ask_report(bot, w.alice, w.general)
    await bot.app.deps.after_ack.idle()
    await crash_during(bot, "files.getUploadURLExternal")
    bot.clock.advance(timedelta(minutes=2))

    await bot.settle()

    ((_, file),) = uploaded_files(bot, w.alice)
    assert len(bot.emu.calls_to("files.getUploadURLExternal")) == 2
    assert len(bot.emu.calls_to("files.completeUploadExternal")) == 1
    _, rows = parse_csv(bot.state.files[file["id"]]["content"].decode())
    assert rows == expected(w)
    assert (await fetch(bot.db, await upload_row(bot))).status == DeliveryStatus.SENT


async def test_a_role_in_a_private_community_is_shown_only_to_those_inside(bot: Bot) -> None:
    w = await world(bot)
    secret = bot.state.add_channel("secret", private=True, members=[w.carol, w.dave]).id
    uow = unit_of_work(bot)
    form = SetupForm(name="Secret Guild", description="", timezone="UTC", coordinators=[w.carol],
                     reviewers=[w.dave])  # fmt: skip
    await save_setup(uow, w.carol, secret, form, editing=False, is_private=True)
    await uow.finish(ok=True)

    async def roles_seen_by(viewer: str) -> str:
        await bot.driver.command(viewer, w.general, "/doughnut", f"profile <@{w.carol}>")
        return str(bot.state.ephemerals_for(viewer, w.general)[-1].blocks)

    assert "Secret Guild" not in await roles_seen_by(w.bob)
    assert f"sponsor of {ESCAPED}" in await roles_seen_by(w.bob)
    assert "coordinator of Secret Guild" in await roles_seen_by(w.dave)  # a reviewer there
    await bot.driver.command(w.carol, w.general, "/doughnut", "me")
    assert "coordinator of Secret Guild" in str(bot.state.ephemerals_for(w.carol)[-1].blocks)


async def test_any_capability_can_send_a_binary_file_to_a_members_dm(bot: Bot) -> None:
    """The upload delivery other capabilities use (a PNG chart, say): a user id means their DM."""
    alice = bot.user("alice")
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    uow = unit_of_work(bot)
    await uow.deliver("files.upload_v2", {"channel": alice, "filename": "chart.png",
                      "content_base64": base64.b64encode(png).decode(),
                      "initial_comment": "Your community's month"}, channel=alice)  # fmt: skip
    await uow.finish(ok=True)

    await bot.settle()

    ((message, file),) = uploaded_files(bot, alice)
    assert bot.state.files[file["id"]]["content"] == png
    assert message.text == "Your community's month" and file["name"] == "chart.png"
    row = await fetch(bot.db, await upload_row(bot))
    assert row.status == DeliveryStatus.SENT and row.result is not None
    assert row.result["channel"] == bot.state.dm_channel(alice).id
    assert row.result["file_ids"] == [file["id"]]


def test_periods_are_calendar_months_and_quarters_in_the_communitys_timezone() -> None:
    # 00:30 on 1 March in Paris is still 28 February in UTC: Paris's last month is February.
    now = datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
    paris = parse_period("last-month", now, "Europe/Paris")
    assert paris is not None and paris.label == "2026-02-01..2026-02-28"
    assert paris.since == datetime(2026, 1, 31, 23, 0, tzinfo=UTC)
    assert paris.until == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    utc = parse_period("", now, "UTC")  # the default: last month
    assert utc is not None and utc.label == "2026-01-01..2026-01-31"
    quarter = parse_period("last-quarter", datetime(2026, 1, 15, tzinfo=UTC))
    assert quarter is not None and quarter.label == "2025-10-01..2025-12-31"
    days = parse_period("2026-11-01..2026-11-30", now)
    assert days is not None and days.until == datetime(2026, 12, 1, tzinfo=UTC)
    for bad in ("yesterday", "2026-02-30..2026-03-01", "2026-03-01..2026-02-01", "last-year"):
        assert parse_period(bad, now) is None
