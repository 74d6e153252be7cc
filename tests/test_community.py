"""`/doughnut setup`, the welcome post, edits by coordinators only, and member welcomes."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import CLEANUP_BUDGET, INLINE_CALL_TIMEOUT, OUTBOX_CALL_TIMEOUT, REQUEST_DEADLINE
from handlers.communities import ids
from storage.models import Community, Delivery, Role, RoleName
from tests.conftest import Bot, open_from_home, open_setup, pick, setup_values

# The 2.5 s rule with its timeouts scaled down (the same rules, sooner, so no test waits long):
# an inline Slack call gives up after QUICK_INLINE, a request after QUICK_DEADLINE. The real
# figures are checked in test_the_real_timeouts_fit_slacks_three_seconds.
QUICK_INLINE = 0.5
QUICK_DEADLINE = 0.6
# An ack within this came in time; one that waited on a slow Slack call could not.
IN_TIME = QUICK_DEADLINE + CLEANUP_BUDGET
# A slow Slack: each of these calls answers only after SLOW seconds.
SLOW = IN_TIME + 0.1
SLOWED = (
    "views.open",
    "views.update",
    "users.info",
    "conversations.info",
    "chat.postMessage",
    "chat.postEphemeral",
)


async def communities(bot: Bot) -> list[Community]:
    async with bot.db.reading() as session:
        return list(await session.scalars(select(Community)))


async def test_setup_opens_a_prefilled_modal_then_stores_and_welcomes_once(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")

    modal = await open_setup(bot, alice, general)

    assert [c.method for c in bot.emu.calls if c.method.startswith("views.")] == [
        "views.open",
        "views.update",
    ]
    assert modal["callback_id"] == ids.COMMUNITY_SETUP_VIEW
    elements = {b.get("block_id"): b.get("element", {}) for b in modal["blocks"]}
    assert elements[ids.SETUP_TIMEZONE_BLOCK]["initial_value"] == "Europe/Paris"  # alice's tz
    assert elements[ids.SETUP_COORDINATORS_BLOCK]["initial_users"] == [alice]
    assert await communities(bot) == []  # opening the form stores nothing

    reply = await bot.driver.view_submission(
        alice, modal, setup_values(coordinators=[alice], reviewers=[bob], sponsors=[carol])
    )
    assert reply.status == 200 and not reply.text  # the modal closes
    await bot.settle()

    [community] = await communities(bot)
    assert (community.channel_id, community.name, community.timezone) == (
        general,
        "Site Reliability",
        "Europe/Paris",
    )
    assert community.holders(RoleName.REVIEWER) == [bob]
    assert community.holders(RoleName.SPONSOR) == [carol]
    welcome = [m for m in bot.state.history(general) if m.user == bot.state.bot_user_id]
    assert len(welcome) == 1
    assert "Site Reliability" in welcome[0].text
    assert f"<@{bob}>" in str(welcome[0].blocks)


async def test_a_name_that_pings_everyone_is_echoed_as_text(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    modal = await open_setup(bot, alice, general)

    await bot.driver.view_submission(
        alice, modal, setup_values(name="<!channel> & co", coordinators=[alice])
    )
    await bot.settle()

    [welcome] = [m for m in bot.state.history(general) if m.user == bot.state.bot_user_id]
    shown = str(welcome.blocks)
    assert "&lt;!channel&gt; &amp; co" in shown
    assert "<!channel>" not in shown


async def test_bad_input_gets_field_errors_and_stores_nothing(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    modal = await open_setup(bot, alice, general)

    reply = await bot.driver.view_submission(
        alice, modal, setup_values(name="   ", timezone="Mars/Olympus", coordinators=[])
    )

    assert reply.json["response_action"] == "errors"
    assert set(reply.json["errors"]) == {
        ids.SETUP_NAME_BLOCK,
        ids.SETUP_TIMEZONE_BLOCK,
        ids.SETUP_COORDINATORS_BLOCK,
    }
    assert await communities(bot) == []
    assert bot.emu.calls_to("chat.postMessage") == []


async def test_closing_the_modal_stores_nothing(bot: Bot) -> None:
    alice = bot.user("alice")
    modal = await open_setup(bot, alice, bot.channel("general"))

    reply = await bot.driver.view_closed(alice, modal)
    await bot.settle()

    assert reply.status == 200
    assert await communities(bot) == []
    assert bot.emu.calls_to("chat.postMessage") == []


async def test_only_coordinators_may_edit(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    modal = await open_setup(bot, alice, general)
    await bot.driver.view_submission(alice, modal, setup_values(coordinators=[alice]))
    await bot.settle()

    refusal = await open_setup(bot, bob, general)
    assert "only its coordinators" in str(refusal["blocks"])
    assert not refusal.get("submit")  # nothing to submit: a notice, not a form

    edit = await open_setup(bot, alice, general)
    assert edit["title"]["text"] == "Edit community"
    values = {b.get("block_id"): b.get("element", {}) for b in edit["blocks"]}
    assert values[ids.SETUP_NAME_BLOCK]["initial_value"] == "Site Reliability"
    await bot.driver.view_submission(
        alice, edit, setup_values(name="SRE guild", coordinators=[alice, bob])
    )
    await bot.settle()

    [community] = await communities(bot)
    assert community.name == "SRE guild"
    assert community.holders(RoleName.COORDINATOR) == sorted([alice, bob])
    async with bot.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Role)) == 2
    # One welcome post; the edit is confirmed to alice alone.
    assert len([m for m in bot.state.history(general) if m.user == bot.state.bot_user_id]) == 1
    assert any("SRE guild" in (e.text or "") for e in bot.state.ephemerals_for(alice, general))


async def test_a_stale_form_from_a_non_coordinator_is_refused_at_submission(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    form_for_bob = await open_setup(bot, bob, general)
    form_for_alice = await open_setup(bot, alice, general)
    await bot.driver.view_submission(alice, form_for_alice, setup_values(coordinators=[alice]))

    reply = await bot.driver.view_submission(
        bob, form_for_bob, setup_values(name="Hijacked", coordinators=[bob])
    )

    assert reply.json["response_action"] == "update"
    assert "only its coordinators" in str(reply.json["view"]["blocks"])
    [community] = await communities(bot)
    assert community.name == "Site Reliability"


async def test_a_private_channel_without_the_bot_asks_for_an_invite(bot: Bot) -> None:
    alice = bot.user("alice")
    secret = bot.state.add_channel("secret-sre", private=True, members=[alice]).id

    notice = await open_setup(bot, alice, secret)

    assert "/invite @Doughnut" in str(notice["blocks"])
    assert not notice.get("submit")  # nothing to submit: a notice, not a form
    assert await communities(bot) == []


async def test_a_public_channel_without_the_bot_is_set_up_with_a_tip(bot: Bot) -> None:
    alice, random = bot.user("alice"), bot.channel("random")
    modal = await open_setup(bot, alice, random)

    await bot.driver.view_submission(alice, modal, setup_values(coordinators=[alice]))
    await bot.settle()

    [welcome] = [m for m in bot.state.history(random) if m.user == bot.state.bot_user_id]
    assert "/invite @Doughnut" in str(welcome.blocks)


async def test_setup_in_a_dm_explains_where_to_run_it(bot: Bot) -> None:
    alice = bot.user("alice")
    dm = bot.state.dm_channel(alice).id

    reply = await bot.driver.command(alice, dm, "/doughnut", "setup")

    assert reply.json["response_type"] == "ephemeral"
    assert "in the channel you want" in reply.json["text"]
    assert bot.emu.calls_to("views.open") == []


async def test_a_new_member_of_a_community_channel_gets_a_welcome_dm(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    modal = await open_setup(bot, alice, general)
    await bot.driver.view_submission(alice, modal, setup_values(coordinators=[alice]))
    dave = bot.state.add_user("dave", tz="Europe/Berlin").id

    await bot.driver.join(dave, general)
    await bot.driver.join(dave, bot.channel("random"))  # not a community: no welcome
    await bot.settle()

    dm = bot.state.dm_channel(dave).id
    welcomes = [m for m in bot.state.history(dm) if m.user == bot.state.bot_user_id]
    assert len(welcomes) == 1
    # The fallback and the blocks say the same thing, from the same escaped pieces.
    assert f":wave: Welcome to *Site Reliability* in <#{general}>!" in welcomes[0].text
    assert welcomes[0].text == welcomes[0].blocks[0]["text"]["text"]


async def test_a_slack_failure_while_loading_the_form_is_explained_in_the_modal(bot: Bot) -> None:
    alice = bot.user("alice")
    bot.emu.fail("users.info", error="internal_error", status=500)

    reply = await bot.driver.command(alice, bot.channel("general"), "/doughnut", "setup")
    await bot.app.deps.after_ack.idle()

    assert reply.status == 200 and not reply.text  # the modal was open before Slack failed
    modal = bot.state.modal_stack(alice)[-1]
    assert "couldn't load this form" in str(modal["blocks"])
    assert "reference `" in str(modal["blocks"])
    assert not modal.get("submit")
    assert await communities(bot) == []


async def test_a_second_new_community_form_does_not_overwrite_the_first(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    first_form = await open_setup(bot, alice, general)
    second_form = await open_setup(bot, alice, general)
    await bot.driver.view_submission(alice, second_form, setup_values(coordinators=[alice]))

    reply = await bot.driver.view_submission(
        alice, first_form, setup_values(name="Overwritten", coordinators=[alice])
    )

    assert reply.json["response_action"] == "update"
    assert "is already the *Site Reliability* community" in str(reply.json["view"]["blocks"])
    [community] = await communities(bot)
    assert community.name == "Site Reliability"


def pick_channel(channel_id: str) -> dict[str, Any]:
    """The block action Slack sends when a channel is picked in the Home form's first step."""
    return {
        "type": "conversations_select",
        "block_id": ids.SETUP_CHANNEL_BLOCK,
        "action_id": ids.SETUP_CHANNEL_ACTION,
        "selected_conversation": channel_id,
    }


async def test_setup_with_words_after_it_says_it_takes_none(bot: Bot) -> None:
    alice = bot.user("alice")

    reply = await bot.driver.command(alice, bot.channel("general"), "/doughnut", "setup please")

    assert reply.json["response_type"] == "ephemeral"
    assert "`/doughnut setup` takes no words after it" in reply.json["text"]
    assert bot.emu.calls_to("views.open") == []


async def test_from_home_the_channel_is_checked_before_the_rest_is_asked(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    await make_community(bot, alice, general)
    secret = bot.state.add_channel("secret-sre", private=True, members=[bob]).id

    first_step = await open_from_home(bot, bob)
    assert [b["block_id"] for b in first_step["blocks"]] == [ids.SETUP_CHANNEL_BLOCK]
    assert first_step["blocks"][0]["dispatch_action"] is True

    refusal = await pick(bot, bob, first_step, general)
    assert "only its coordinators" in str(refusal["blocks"]) and not refusal.get("submit")

    invite = await pick(bot, bob, await open_from_home(bot, bob), secret)
    assert "/invite @Doughnut" in str(invite["blocks"]) and not invite.get("submit")

    edit = await pick(bot, alice, await open_from_home(bot, alice), general)
    assert edit["title"]["text"] == "Edit community"
    values = {b.get("block_id"): b.get("element", {}) for b in edit["blocks"]}
    assert values[ids.SETUP_NAME_BLOCK]["initial_value"] == "Site Reliability"


async def test_next_on_the_channel_step_checks_the_channel_too(bot: Bot) -> None:
    alice, random = bot.user("alice"), bot.channel("random")
    first_step = await open_from_home(bot, alice)

    nothing = await bot.driver.view_submission(alice, first_step, {})
    assert nothing.json == {
        "response_action": "errors",
        "errors": {ids.SETUP_CHANNEL_BLOCK: "Pick the channel the community lives in."},
    }

    picked = {ids.SETUP_CHANNEL_BLOCK: {ids.SETUP_CHANNEL_ACTION: pick_channel(random)}}
    reply = await bot.driver.view_submission(alice, first_step, picked)
    assert reply.json["response_action"] == "update"  # "One moment…", filled after the ack
    await bot.app.deps.after_ack.idle()
    form = bot.state.modal_stack(alice)[-1]
    assert form["callback_id"] == ids.COMMUNITY_SETUP_VIEW
    assert f"<#{random}>" in str(form["blocks"])


@pytest.mark.parametrize(
    "typed, suggested",
    [
        ("Europe", "Did you mean Europe/London, Europe/Paris or Europe/Berlin?"),
        ("America", "Did you mean America/New_York, America/Chicago or America/Los_Angeles?"),
        ("berlin", "Did you mean Europe/Berlin?"),
        ("x" * 300, "Use a timezone name like Europe/Paris"),
        ("../../etc/passwd", "Use a timezone name like Europe/Paris"),
        ("Europe/Paris\x00", "Did you mean Europe/Paris"),
    ],
)
async def test_a_timezone_typo_gets_a_field_error_with_the_closest_names(
    bot: Bot, typed: str, suggested: str
) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    modal = await open_setup(bot, alice, general)

    reply = await bot.driver.view_submission(
        alice, modal, setup_values(timezone=typed, coordinators=[alice])
    )

    assert reply.json["response_action"] == "errors"
    assert suggested in reply.json["errors"][ids.SETUP_TIMEZONE_BLOCK]
    assert await communities(bot) == []


async def test_field_errors_are_plain_text(bot: Bot) -> None:
    alice, general = bot.user("alice"), bot.channel("general")
    modal = await open_setup(bot, alice, general)

    reply = await bot.driver.view_submission(
        alice,
        modal,
        setup_values(name="<#C1> " * 20, description="&" * 1001, timezone="Europ", coordinators=[]),
    )

    errors = reply.json["errors"]
    assert len(errors) == 4
    for error in errors.values():
        # Slack shows field errors as typed: no mrkdwn, escapes, links or echoed input.
        assert not any(mark in error for mark in ("&lt;", "&amp;", "<", "`", "*", "C1"))


async def make_community(bot: Bot, coordinator: str, channel_id: str) -> None:
    modal = await open_setup(bot, coordinator, channel_id)
    await bot.driver.view_submission(coordinator, modal, setup_values(coordinators=[coordinator]))
    await bot.settle()


def slow_down_slack(bot: Bot, *, but: tuple[str, ...] = ()) -> None:
    for method in SLOWED:
        if method not in but:
            bot.emu.slow_down(method, SLOW, times=50)


@pytest.fixture
async def quick_bot(start_bot: Callable[..., Awaitable[Bot]]) -> Bot:
    """The bot with the 2.5 s rule's timeouts scaled down; work after the ack is patient."""
    bot = await start_bot(inline_timeout=QUICK_INLINE)
    bot.app.request_deadline = QUICK_DEADLINE
    return bot


def test_the_real_timeouts_fit_slacks_three_seconds() -> None:
    # An inline call gives up before the request's deadline, and the cleanup after the deadline
    # still fits Slack's 3 s with room for the network; work after the ack outwaits a slow Slack.
    assert INLINE_CALL_TIMEOUT < REQUEST_DEADLINE
    assert REQUEST_DEADLINE + CLEANUP_BUDGET <= 2.5
    assert OUTBOX_CALL_TIMEOUT > 3.0
    assert QUICK_INLINE < QUICK_DEADLINE < SLOW


async def timed(call: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    reply = await call
    return reply, time.perf_counter() - started


async def test_with_a_slow_slack_setup_is_acked_in_time_and_the_form_shows_later(
    quick_bot: Bot,
) -> None:
    bot = quick_bot
    alice, general = bot.user("alice"), bot.channel("general")
    # Slow, but within the inline timeout (the emulator checks the trigger after its delay).
    slow_down_slack(bot, but=("views.open",))
    bot.emu.slow_down("views.open", QUICK_INLINE / 2)

    reply, took = await timed(bot.driver.command(alice, general, "/doughnut", "setup"))

    assert reply.status == 200 and not reply.text and took < IN_TIME
    assert "One moment" in str(bot.state.modal_stack(alice)[-1]["blocks"])
    await bot.app.deps.after_ack.idle()
    form = bot.state.modal_stack(alice)[-1]
    assert form["callback_id"] == ids.COMMUNITY_SETUP_VIEW
    elements = {b.get("block_id"): b.get("element", {}) for b in form["blocks"]}
    assert elements[ids.SETUP_TIMEZONE_BLOCK]["initial_value"] == "Europe/Paris"


async def test_when_slack_is_too_slow_to_open_the_modal_the_ack_says_so(quick_bot: Bot) -> None:
    bot = quick_bot
    alice, general = bot.user("alice"), bot.channel("general")
    slow_down_slack(bot)

    reply, took = await timed(bot.driver.command(alice, general, "/doughnut", "setup"))

    assert took < IN_TIME
    assert reply.json["response_type"] == "ephemeral"
    assert "Slack is slow right now" in reply.json["text"]
    assert "run `/doughnut setup` again" in reply.json["text"]
    assert await communities(bot) == []


async def test_with_a_slow_slack_a_submission_is_acked_in_time_and_nothing_is_lost(
    quick_bot: Bot,
) -> None:
    bot = quick_bot
    alice, general = bot.user("alice"), bot.channel("general")
    modal = await open_setup(bot, alice, general)
    calls_before = len(bot.emu.calls)
    slow_down_slack(bot)

    reply, took = await timed(
        bot.driver.view_submission(alice, modal, setup_values(coordinators=[alice]))
    )

    assert reply.status == 200 and not reply.text and took < IN_TIME
    assert len(bot.emu.calls) == calls_before  # no Slack call before the ack
    [community] = await communities(bot)
    assert community.is_private is False
    async with bot.db.reading() as session:
        [queued] = list(await session.scalars(select(Delivery)))
    assert (queued.method, queued.channel) == ("chat.postMessage", general)
