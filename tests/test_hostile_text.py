"""Hostile text in every field a person controls: nothing the bot sends pings, links or mentions.

Every flow runs over the wire; then every call the local Slack recorded (posts, ephemerals,
views) and every ack is read the way Slack renders it: mrkdwn is where `<!channel>`, `<@U…>`
and links come alive, so each `<…>` there must be one the bot built on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bot.core import lessons
from bot.core.communities import SetupForm, save_setup
from bot.core.lessons import LessonForm, LessonSource
from bot.unit_of_work import UnitOfWork
from handlers.book import ids as book_ids
from handlers.communities import ids
from storage.models import Visibility
from tests.conftest import Bot, open_from_home, open_setup, pick, setup_values

PINGS = "<!channel> <!here|here> <!everyone> <@U123> <!subteam^S1> <https://evil|click>"
NAME = "<!channel> & <@U123> `ops` \u202eRTL\u200b"  # under the 80-character limit
DESCRIPTION = f"a & b < c > d ``` {PINGS} \u202e\u200f\u200b " + "long " * 150
TIMEZONE = "<!here|here> Europe/../../etc"
COMMAND_TEXT = f"&<>` {PINGS}"
# The same, as Slack sends command text (it escapes &, < and >).
COMMAND_TEXT_ESCAPED = COMMAND_TEXT.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
ANGLE = re.compile(r"<[^>]*>")


def rendered_mrkdwn(value: Any, *, top_level_text: bool = True) -> Iterator[str]:
    """The strings Slack renders as mrkdwn in a message, ack or view (not plain_text)."""
    if isinstance(value, list):
        for item in value:
            yield from rendered_mrkdwn(item, top_level_text=top_level_text)
        return
    if not isinstance(value, dict):
        return
    if value.get("type") == "plain_text":
        return  # shown as typed: nothing in it pings or links
    for key, item in value.items():
        if key == "text" and isinstance(item, str) and (top_level_text or "type" in value):
            yield item
        elif key in ("blocks", "attachments", "view", "fields", "elements", "text"):
            yield from rendered_mrkdwn(item, top_level_text=key == "attachments")
        elif key in ("pretext", "footer", "title") and isinstance(item, str):
            yield item  # attachment fields are mrkdwn too


def unintended(bot: Bot, allowed_users: set[str]) -> list[str]:
    """Every `<…>` in rendered mrkdwn that the bot did not build from a real id."""
    channels = set(bot.state.channels)
    allowed = {f"<@{u}>" for u in allowed_users} | {f"<#{c}>" for c in channels}
    found = []
    sent = [c.args for c in bot.emu.calls] + [a.args for a in bot.emu.acks]
    for args in sent:
        for text in rendered_mrkdwn(args):
            found += [token for token in ANGLE.findall(text) if token not in allowed]
    return found


def field_errors(bot: Bot) -> list[str]:
    return [
        error
        for ack in bot.emu.acks
        if ack.args.get("response_action") == "errors"
        for error in ack.args["errors"].values()
    ]


async def test_hostile_text_in_every_field_never_pings_or_links(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general, random = bot.channel("general"), bot.channel("random")
    bot.state.users[carol].tz = TIMEZONE  # what Slack says of a person is data too

    # Setup: field errors first (too long, a hostile timezone), then a hostile community.
    form = await open_setup(bot, alice, general)
    await bot.driver.view_submission(
        alice, form, setup_values(name=NAME * 5, timezone=TIMEZONE, coordinators=[alice])
    )
    await bot.driver.view_submission(
        alice,
        form,
        setup_values(name=NAME, description=DESCRIPTION, coordinators=[alice], reviewers=[bob]),
    )
    # A member joins: the welcome DM names the community.
    dave = bot.state.add_user("dave").id
    await bot.driver.join(dave, general)
    # Edit: a coordinator renames it (the ephemeral "Saved" names it).
    edit = await open_setup(bot, alice, general)
    await bot.driver.view_submission(
        alice, edit, setup_values(name=NAME[::-1], description=PINGS, coordinators=[alice])
    )
    # A non-coordinator is refused, by name; a stale "new" form is refused, by name.
    stale = await open_setup(bot, carol, random)
    await open_setup(bot, bob, general)
    await make(bot, alice, random, NAME)
    await bot.driver.view_submission(carol, stale, setup_values(name=NAME, coordinators=[carol]))
    # From Home: the check on picking a channel names its community too.
    await pick(bot, carol, await open_from_home(bot, carol), general)
    # Commands: an unknown word, words after setup, raw and as Slack escapes them.
    for text in (COMMAND_TEXT, COMMAND_TEXT_ESCAPED, f"setup {COMMAND_TEXT}"):
        await bot.driver.command(carol, general, "/doughnut", text)
    # Errors: Slack failing while the form loads.
    bot.emu.fail("users.info", error="internal_error", status=500)
    await open_setup(bot, carol, bot.state.add_channel("ops").id)
    # The Home tab lists the hostile communities.
    await bot.driver.open_home(alice)
    await bot.settle()

    methods = {c.method for c in bot.emu.calls}
    assert {"chat.postMessage", "chat.postEphemeral", "views.open", "views.update"} <= methods
    assert "views.publish" in methods
    welcome = bot.emu.calls_to("chat.postMessage")[0].args
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in welcome["text"]  # shown, not pinging
    assert unintended(bot, allowed_users={alice, bob, carol}) == []
    errors = field_errors(bot)
    assert len(errors) == 2  # the name too long, the timezone unknown
    assert not [e for e in errors if "&lt;" in e or "&amp;" in e or "<" in e or "`" in e]


async def make(bot: Bot, coordinator: str, channel_id: str, name: str) -> None:
    form = await open_setup(bot, coordinator, channel_id)
    assert form["callback_id"] == ids.COMMUNITY_SETUP_VIEW
    await bot.driver.view_submission(
        coordinator, form, setup_values(name=name, coordinators=[coordinator])
    )


def test_the_scan_finds_what_slack_would_render() -> None:
    """The scan itself can fail: raw pings in a fallback, a block or an attachment are found."""
    message = {
        "text": "<!channel> hi",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "<@U123>"}},
            {"type": "input", "label": {"type": "plain_text", "text": "<!here>"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "<!subteam^S1>"}]},
        ],
        "attachments": [{"text": "<https://evil|click>", "pretext": "<!everyone>"}],
    }
    found = [t for s in rendered_mrkdwn(message) for t in ANGLE.findall(s)]
    assert sorted(found) == sorted(
        ["<!channel>", "<@U123>", "<!subteam^S1>", "<https://evil|click>", "<!everyone>"]
    )


async def test_hostile_lessons_and_searches_never_ping_or_link(bot: Bot) -> None:
    """The book of knowledge: a hostile lesson found, reused and reviewed with hostile notes."""
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    uow = UnitOfWork(bot.app.deps, bot.app.deps.installation)
    form = SetupForm(name=NAME, description="", timezone="UTC", coordinators=[alice],
                     reviewers=[bob])  # fmt: skip
    sre = (await save_setup(uow, alice, general, form, editing=False, is_private=False)).community
    lesson = LessonForm(title=f"rollback {NAME}", next_time=DESCRIPTION[:2000], why=PINGS,
                        tags=("<!here>", "ok&<b>"), community_id=sre.id)  # fmt: skip
    source = LessonSource(alice, general, Visibility.PUBLIC, permalink="javascript:<!channel>")
    assert (await lessons.capture_lesson(uow, lesson, source)).saved
    await uow.finish(ok=True)
    await bot.driver.open_home(bob)  # the Home tab's review queue

    for text in ("rollback", COMMAND_TEXT_ESCAPED, f"rollback {COMMAND_TEXT_ESCAPED} by:@x"):
        await bot.driver.command(carol, general, book_ids.LESSONS_COMMAND, text)
    answer = bot.state.ephemerals_for(carol, general)[0]
    await bot.driver.click(carol, answer, book_ids.USED_ACTION)
    note = {book_ids.NOTE_BLOCK: {book_ids.NOTE_ACTION: PINGS[:250]}}
    await bot.driver.view_submission(carol, bot.state.modal_stack(carol)[-1], note)
    await bot.driver.command(bob, general, book_ids.LESSONS_COMMAND, "rollback")
    await bot.driver.click(bob, bot.state.ephemerals_for(bob, general)[-1],
                           book_ids.VALIDATE_ACTION)  # fmt: skip
    note = {book_ids.NOTE_BLOCK: {book_ids.NOTE_ACTION: DESCRIPTION[:2000]}}
    await bot.driver.view_submission(bob, bot.state.modal_stack(bob)[-1], note)
    for user in (alice, carol):  # Home: her lessons; the recent validated practices
        await bot.driver.open_home(user)
    await bot.settle()
    homes = [str(bot.state.home_views[u]["blocks"]) for u in (alice, bob, carol)]
    assert all("rollback" in home and "&lt;!channel&gt;" in home for home in homes)

    dms = [m for m in bot.state.history(bot.state.dm_channel(alice).id) if m.bot_id]
    assert len(dms) == 2  # used, validated: both name the hostile lesson
    assert "&lt;!channel&gt;" in dms[0].text
    assert unintended(bot, allowed_users={alice, bob, carol}) == []
