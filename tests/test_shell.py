"""`doughnut shell`: the renderer (pure), the script mode in-process, and the real entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import cli
from bot.clock import ManualClock
from bot.shell import render, run_script
from bot.shell.clock import parse_time
from bot.shell.render import NameBook, render_blocks, render_view, to_plain
from bot.shell.seed import COMMUNITIES, seed_database
from bot.shell.wire_text import slack_text
from storage.db import Database
from storage.models import Community, RoleName

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent / "shell_scripts"
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NAMES = NameBook(users={"U1": "ana", "U2": "ben"}, channels={"C1": "cop-sre"})


def plain_mrkdwn(text: str) -> str:
    return render.mrkdwn(text, NAMES).plain


def spans(text: str) -> dict[str, str]:
    """Each styled piece of the rendered mrkdwn, with its style."""
    rendered = render.mrkdwn(text, NAMES)
    return {rendered.plain[s.start : s.end]: str(s.style) for s in rendered.spans}


# ---- the renderer (pure) -------------------------------------------------------------------


def test_mrkdwn_bold_italic_strike_and_code_become_terminal_styles() -> None:
    styles = spans("a *bold* and _italic_ and ~gone~ and `code` and *_both_*")

    assert plain_mrkdwn("a *bold* and _italic_ and ~gone~") == "a bold and italic and gone"
    assert styles["bold"] == "bold"
    assert styles["italic"] == "italic"
    assert styles["gone"] == "strike"
    assert "magenta" in styles["code"]
    assert styles["both"] == "bold italic"


def test_mrkdwn_leaves_snake_case_and_lone_stars_alone() -> None:
    assert plain_mrkdwn("snake_case_name and 2 * 3 * 4") == "snake_case_name and 2 * 3 * 4"


def test_mrkdwn_links_and_mentions_show_names() -> None:
    text = (
        "<@U1> and <@U9|zoe> in <#C1> and <#C7|sales>, see <https://example.com|the docs> "
        "or <https://example.com/x>; <!here> &lt;b&gt; &amp; co"
    )

    assert plain_mrkdwn(text) == (
        "@ana and @zoe in #cop-sre and #sales, see the docs (https://example.com) "
        "or https://example.com/x; @here <b> & co"
    )
    assert "link https://example.com" in spans(text)["the docs (https://example.com)"]


def test_mrkdwn_quotes_and_code_blocks() -> None:
    assert plain_mrkdwn(">quoted *text*\nplain") == "│ quoted text\nplain"
    assert plain_mrkdwn("```x = *1*```") == "x = *1*"


def test_sections_fields_context_divider_header_and_images() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Title"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "Hi <@U2>"}},
        {"type": "divider"},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": "*Coordinators*\n<@U1>"},
                {"type": "mrkdwn", "text": "*Timezone*\nEurope/Paris"},
            ],
        },
        {
            "type": "context",
            "elements": [
                {"type": "image", "image_url": "https://x/y.png", "alt_text": "a doughnut"},
                {"type": "mrkdwn", "text": "_small print_"},
            ],
        },
        {"type": "image", "image_url": "https://x/chart.png", "alt_text": "weekly chart"},
    ]

    text = to_plain(render_blocks(blocks, NAMES).group(), width=60)

    assert "Title" in text
    assert "Hi @ben" in text
    assert "────" in text
    assert "Coordinators" in text and "@ana" in text and "Europe/Paris" in text
    assert "[image: a doughnut] · small print" in text
    assert "[image: weekly chart]" in text


def test_an_unknown_block_is_a_placeholder_not_a_crash() -> None:
    blocks = [{"type": "video", "title": {"type": "plain_text", "text": "x"}}, "junk"]

    text = to_plain(render_blocks(blocks, NAMES).group())

    assert "[video block not shown in the shell]" in text
    assert "[not a block]" in text


def test_buttons_are_numbered_across_blocks_from_first() -> None:
    blocks = [
        {
            "type": "section",
            "block_id": "b1",
            "text": {"type": "mrkdwn", "text": "A lesson"},
            "accessory": {
                "type": "button",
                "action_id": "endorse",
                "value": "42",
                "text": {"type": "plain_text", "text": "I used this"},
            },
        },
        {
            "type": "actions",
            "block_id": "b2",
            "elements": [
                {"type": "button", "action_id": "ok", "text": {"type": "plain_text", "text": "OK"}},
                {"type": "static_select", "placeholder": {"type": "plain_text", "text": "Pick"}},
                {
                    "type": "button",
                    "action_id": "no",
                    "style": "danger",
                    "text": {"type": "plain_text", "text": "Retire"},
                },
            ],
        },
    ]

    rendered = render_blocks(blocks, NAMES, first=3)
    text = to_plain(rendered.group())

    assert "A lesson  [3 I used this]" in text
    assert "[4 OK] [static_select: Pick] [5 Retire]" in text
    assert [(b.number, b.action_id, b.value, b.block_id) for b in rendered.buttons] == [
        (3, "endorse", "42", "b1"),
        (4, "ok", None, "b2"),
        (5, "no", None, "b2"),
    ]


def test_a_modal_shows_its_title_inputs_with_defaults_and_its_buttons() -> None:
    view = {
        "id": "V1",
        "type": "modal",
        "title": {"type": "plain_text", "text": "Set up"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "who",
                "label": {"type": "plain_text", "text": "Coordinators"},
                "element": {"type": "multi_users_select", "initial_users": ["U1", "U2"]},
            }
        ],
    }

    text = to_plain(render_view(view, NAMES).group())

    assert "Modal: Set up" in text
    assert "Coordinators  [multi_users_select]  @ana @ben" in text
    assert "[Save]  [Cancel]" in text


# ---- what the shell types into Slack -------------------------------------------------------


def test_typed_text_is_escaped_and_mentions_become_slack_links() -> None:
    users, channels = {"ana": "U1", "doughnut": "UBOT"}, {"cop-sre": "C1"}

    command = slack_text("@ana in #cop-sre & <b> #deploys @nobody", users, channels, command=True)
    message = slack_text("@doughnut how do we… @here", users, channels, command=False)

    assert command == "<@U1|ana> in <#C1|cop-sre> &amp; &lt;b&gt; #deploys @nobody"
    assert message == "<@UBOT> how do we… <!here>"


def test_time_arguments() -> None:
    assert parse_time("+2d", START) == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    assert parse_time("+1d3h", START) == datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert parse_time("2026-12-04 15:00", START) == datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_time("+2x", START)
    with pytest.raises(ValueError):
        parse_time("tomorrow", START)


# ---- the demo data -------------------------------------------------------------------------


async def test_seeding_is_idempotent(db: Database) -> None:
    assert await seed_database(db, START) == [c.form.name for c in COMMUNITIES]
    assert await seed_database(db, START) == []

    async with db.reading() as session:
        communities = list(await session.scalars(select(Community).order_by(Community.name)))
    assert [c.name for c in communities] == ["Sales Engineering", "Site Reliability"]
    for community in communities:
        assert len(community.holders(RoleName.COORDINATOR)) == 1
        assert len(community.holders(RoleName.REVIEWER)) == 1
        assert len(community.holders(RoleName.SPONSOR)) == 1


def test_demo_data_command_seeds_any_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/demo.db"
    runner = CliRunner()

    first = runner.invoke(cli, ["demo-data", "--db", url])
    second = runner.invoke(cli, ["demo-data", "--db", url])

    assert first.exit_code == 0, first.output
    assert "Sales Engineering, Site Reliability" in first.output
    assert "nothing changed" in second.output


# ---- the shell, in-process -----------------------------------------------------------------


def script(name: str) -> list[str]:
    return (SCRIPTS / name).read_text(encoding="utf-8").splitlines()


async def test_the_tour_script_produces_the_expected_transcript(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/shell.db"

    transcript = await run_script(script("tour.txt"), db_url=url, clock=ManualClock(START))

    # the help overview, ephemeral
    assert "only visible to you, in #general" in transcript
    assert "Doughnut: your community's knowledge loop" in transcript
    assert "/doughnut setup: make this channel a community" in transcript
    # the setup modal, its fields, and the bot's field error asked again
    assert "Modal: Set up a community" in transcript
    assert "Coordinators  [multi_users_select]  @ana" in transcript
    assert "Timezone [Europe/Lisbon]: Mars/Olympus" in transcript
    assert "✗ Timezone: Use a timezone name like Europe/Paris" in transcript
    assert "Timezone [Mars/Olympus]: Europe/Lisbon" in transcript
    # the welcome post in the new community's channel
    assert "Product Design is now a community of practice." in transcript
    assert "@ana            @chloe" in transcript
    # the switched prompt, the Home tab and the effect of its Help button
    assert "ben@#cop-sales> :home" in transcript
    assert "Sales Engineering in #cop-sales · you are coordinator" in transcript
    assert "Product Design in #cop-design · you are sponsor" in transcript
    assert "Site Reliability in #cop-sre" in transcript
    assert "[1 Help] [2 Set up a community]" in transcript
    home_help = transcript.split("ben@#cop-sales> :click 1", 1)[1]
    assert "Modal: Doughnut help" in home_help
    # the clock
    assert "It is Thu 2026-12-03 09:00 UTC (Thu 04:00 for @ben in America/New_York)." in transcript
    # `:time` ticks through every hour on the way: the day's follow-ups run too.
    assert "The scheduler ran what was due: Housekeeping, Member cache" in transcript
    assert "bot error" not in transcript

    again = await run_script([":as @ben", ":home"], db_url=url, clock=ManualClock(START))

    assert "Seeded" not in again  # the second start does not seed twice
    assert "Product Design in #cop-design · you are sponsor" in again


async def test_bad_input_gets_short_helpful_answers(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/shell.db"

    transcript = await run_script(script("bad_input.txt"), db_url=url, clock=ManualClock(START))

    assert "Unknown command :frobnicate. The shell's commands:" in transcript
    assert ":click N" in transcript
    assert "There are no buttons on screen" in transcript
    assert "No member @zed. Members: @ana @ben @chloe @dev @emma" in transcript
    assert "No channel #nowhere for you." in transcript
    assert "/nosuch is not a command of this app." in transcript
    assert "No button 9. Buttons: 1 Help, 2 Set up a community" in transcript
    # a bot-side failure: Slack's refusal, the bot's apology, and what it logged
    assert "Slack refused the bot's views.open: internal_error" in transcript
    assert "Sorry, something went wrong on my side" in transcript
    assert "bot error: listener failed (kind=command" in transcript
    assert "SlackApiError: internal_error" in transcript
    # and the shell carries on
    after = transcript.split("> /doughnut help", 1)[1]
    assert "Doughnut: your community's knowledge loop" in after


async def test_bot_errors_are_red_on_a_terminal(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/shell.db"

    transcript = await run_script(
        [":fail views.open internal_error", "/doughnut setup"],
        db_url=url,
        clock=ManualClock(START),
        color=True,
    )

    assert "\x1b[1;31mbot error: listener failed" in transcript


async def test_messages_mentions_reactions_dms_and_joining(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/shell.db"
    lines = [
        ":in #cop-sre",
        "thanks @chloe for the #cop-sales tip :doughnut:",
        "@doughnut how do we run a retro?",
        ":react 1 :doughnut:",
        ":history",
        ":as @ben",
        ":in #cop-sre",
        "hello?",
        ":join",
        ":dms",
    ]

    transcript = await run_script(lines, db_url=url, clock=ManualClock(START))

    assert "ana@#cop-sre> thanks @chloe" in transcript
    # the mention is answered in its thread (nothing in the book yet)
    asked = transcript.split("ana@#cop-sre> @doughnut how do we run a retro?", 1)[1]
    assert "doughnut  (thread reply)\n   I found nothing about that in the book" in asked
    assert "(message 1)" in transcript and "(message 2)" in transcript
    assert "(you reacted with :doughnut: on message 1)" in transcript
    history = transcript.split("ana@#cop-sre> :history", 1)[1]
    assert "1. ana\n   thanks @chloe for the #cop-sales tip :doughnut:\n   :doughnut: 1" in history
    assert "You are not a member of #cop-sre: :join to join it." in transcript
    assert "You are not a member of #cop-sre: :join first." in transcript
    assert "(you joined #cop-sre)" in transcript
    # joining a community's channel brings its welcome DM
    assert "(doughnut sent @ben a DM" not in transcript
    assert "Welcome to Site Reliability in #cop-sre!" in transcript
    assert "in dm:doughnut" in transcript


async def test_cancelling_a_modal_sends_view_closed_and_stores_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/shell.db"

    transcript = await run_script(
        [":in #cop-design", "/doughnut setup", "Half a name", ":home", ":cancel", ":home"],
        db_url=url,
        clock=ManualClock(START),
    )

    assert "You are filling in a modal: answer the field, :cancel, or :quit." in transcript
    assert "(modal closed)" in transcript
    assert "in #cop-design" not in transcript.split("(modal closed)", 1)[1]
    db = Database(url)
    try:
        async with db.reading() as session:
            assert await session.scalar(select(func.count()).select_from(Community)) == 2
    finally:
        await db.dispose()


async def test_close_while_filling_a_modal_closes_it(tmp_path: Path) -> None:
    transcript = await run_script(
        [":in #cop-design", "/doughnut setup", ":close", "/doughnut help"],
        db_url=f"sqlite+aiosqlite:///{tmp_path}/shell.db",
        clock=ManualClock(START),
    )

    assert "(modal closed)" in transcript
    assert "You are filling in a modal" not in transcript
    assert "What works today" in transcript.split("(modal closed)", 1)[1]


# ---- the real entry point ------------------------------------------------------------------


def test_doughnut_shell_runs_a_script_as_a_subprocess(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/x.db"
    command = [sys.executable, "-m", "bot", "shell", "--fresh", "--db", url]
    command += ["--script", str(SCRIPTS / "tour.txt")]

    result = subprocess.run(
        command,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
        stdin=subprocess.DEVNULL,
    )

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Seeded the demo workspace: Sales Engineering (#cop-sales)" in out
    assert "Product Design is now a community of practice." in out
    assert "ben@#cop-sales> :home" in out
    assert "Sales Engineering in #cop-sales · you are coordinator" in out
    assert "Modal: Doughnut help" in out
    # Housekeeping, and the jobs the capabilities registered (member cache, peer-assist follow-ups);
    # the wall clock's day decides what else falls due in those two days (a Friday's digest).
    # The line wraps at the terminal's width, wherever the names fall: read it as one line.
    ran = " ".join(out.split("The scheduler ran what was due: ", 1)[1].split(".\n", 1)[0].split())
    assert "Housekeeping" in ran and "Member cache" in ran
    assert "Peer assists without a helper" in ran
    assert "\x1b[" not in out  # plain text when not on a terminal


def test_a_database_it_cannot_use_is_a_startup_failure(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "shell", "--db", "mysql://nope/x"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )

    assert result.returncode != 0
    assert "Could not start the shell: DATABASE_URL" in result.stdout


# ---- the shell tells a newcomer what is going on -------------------------------------------


async def test_a_notice_modal_stays_open_until_close(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/shell.db"

    transcript = await run_script(
        [":home", ":click 1", ":close", ":close"], db_url=url, clock=ManualClock(START)
    )

    opened = transcript.split("ana@#general> :click 1", 1)[1]
    assert "Modal: Doughnut help" in opened
    assert "(the modal stays open: :close to close it)" in opened
    first_close = opened.split("ana@#general> :close", 2)
    assert "(modal closed)" in first_close[1]
    assert "No modal is open." in first_close[2]  # only the second :close finds none


async def test_a_refused_post_says_when_it_is_retried(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/shell.db"
    lines = [":fail chat.postMessage internal_error", ":in #cop-design", "/doughnut setup"]
    lines += ["Product Design", "", "", "", "", ""]  # the name, then every default
    lines += ["", ":time +1m"]

    transcript = await run_script(lines, db_url=url, clock=ManualClock(START))

    refused, _, later = transcript.partition("ana@#cop-design> :time +1m")
    assert "Slack refused the bot's chat.postMessage: internal_error (as :fail asked)" in refused
    assert "(the bot retries chat.postMessage at 09:00:0" in refused
    assert "press Enter after that to see it, or :time" in refused
    assert refused.count("the bot retries") == 1  # said once, not after every input
    assert "Product Design is now a community of practice." not in refused
    assert "Product Design is now a community of practice." in later


async def test_the_log_the_banner_names_exists(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/shell.db"

    transcript = await run_script([":help"], db_url=url, clock=ManualClock(START))

    log = tmp_path / "shell.log"
    assert f"log {log}" in transcript
    assert log.is_file()


async def test_quit_inside_a_modal_closes_it_and_leaves(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/shell.db"

    transcript = await run_script(
        [":in #cop-design", "/doughnut setup", ":quit", ":help"],
        db_url=url,
        clock=ManualClock(START),
    )

    assert "(modal closed)" in transcript
    assert ":help" not in transcript.split("Community name: :quit", 1)[1]


async def test_the_shell_help_says_what_a_mention_and_a_dm_get(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/shell.db"

    transcript = await run_script([":help"], db_url=url, clock=ManualClock(START))

    assert "answers a question in a mention" in transcript
    assert "a DM (`:dm @doughnut`) with a short help" in transcript


async def test_moving_the_clock_a_week_shows_the_weeks_digest(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/shell.db"

    transcript = await run_script(script("digest.txt"), db_url=url, clock=ManualClock(START))

    preview, week = transcript.split("chloe@#cop-sre> :time +7d", 1)
    assert "Preview: only you see this." in preview
    assert "1 kudos from 1 person to 1 person in 1 channel." in preview
    assert "The scheduler ran what was due:" in week and "Weekly recognition digest" in week
    digest = week.split("This week in Site Reliability", 1)[1]
    assert "@chloe → @dev: for finding the root cause of Tuesday's outage in ten minutes" in digest
    assert "Recognised for the first time: @dev" in digest
    assert "A quiet week in Sales Engineering" in week  # no kudos there
    assert "bot error" not in transcript
