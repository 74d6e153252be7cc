"""Peer assists over the wire (both databases): the request form and its errors, matching by
evidence explained, the post in the community channel, volunteers, Accept and the group DM,
done into a lesson linked to the request, the ledger, kudos, follow-up jobs, loop closing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core import assists, lessons
from bot.emulator import Message
from handlers.assists import ids
from handlers.lessons import ids as lesson_ids
from scheduler.jobs import build_scheduler
from storage.models import AssistHelper, Delivery, Kudos, KudosSource, Lesson, PeerAssist
from tests.conftest import (
    Bot,
    bot_workspace,
    capture,
    lesson_community,
    seed_kudos,
    unit_of_work,
)

HOSTILE = "<!channel> & <@U0HOSTILE> <b>"


def values(
    title: str = "Launching pricing in EMEA",
    *,
    learn: str = "How did you set the price?",
    tags: str = "pricing",
    needed_by: date | None = date(2026, 12, 20),
    community: str | None = None,
    plan: str = "We launch in three countries",
    team: str = "Growth",
) -> dict[str, Any]:
    found: dict[str, Any] = {
        ids.TITLE_BLOCK: {ids.FIELD_ACTION: title},
        ids.PLAN_BLOCK: {ids.FIELD_ACTION: plan},
        ids.LEARN_BLOCK: {ids.FIELD_ACTION: learn},
        ids.TAGS_BLOCK: {ids.FIELD_ACTION: tags},
        ids.TEAM_BLOCK: {ids.FIELD_ACTION: team},
        ids.FORMAT_BLOCK: {ids.FIELD_ACTION: {"type": "static_select",
                                             "selected_option": {"value": "call"}}},
    }  # fmt: skip
    if needed_by is not None:
        found[ids.NEEDED_BY_BLOCK] = {
            ids.FIELD_ACTION: {"type": "datepicker", "selected_date": needed_by.isoformat()}
        }
    if community is not None:
        found[ids.COMMUNITY_BLOCK] = {
            ids.FIELD_ACTION: {"type": "static_select", "selected_option": {"value": community}}
        }
    return found


async def ask(bot: Bot, user: str, channel: str, form: dict[str, Any]) -> dict[str, Any]:
    """`/peer-assist`, then the form submitted; the ack's body."""
    reply = await bot.driver.command(user, channel, ids.PEER_ASSIST_COMMAND, "")
    assert reply.status == 200 and not reply.text
    modal = bot.state.modal_stack(user)[-1]
    assert modal["callback_id"] == ids.REQUEST_VIEW
    answer = await bot.driver.view_submission(user, modal, form)
    assert answer.status == 200
    await bot.settle()
    return answer.json or {}


def bot_posts(bot: Bot, channel: str) -> list[Message]:
    return [m for m in bot.state.history(channel) if m.bot_id]


async def deliveries_of(bot: Bot) -> list[Delivery]:
    async with bot.db.reading() as session:
        found = list(await session.scalars(select(Delivery)))
        for row in found:
            session.expunge(row)
        return found


def dms(bot: Bot, user: str) -> list[Message]:
    return bot_posts(bot, bot.state.dm_channel(user).id)


def with_button(messages: list[Message], action_id: str) -> Message:
    found = [m for m in messages if action_id in str(m.blocks)]
    assert found, f"no message with {action_id}"
    return found[-1]


async def stored(bot: Bot) -> list[PeerAssist]:
    async with bot.db.reading() as session:
        found = list(await session.scalars(select(PeerAssist).order_by(PeerAssist.id)))
        for row in found:
            session.expunge(row)
        return found


async def helper_rows(bot: Bot, assist_id: int) -> dict[str, str]:
    async with bot.db.reading() as session:
        rows = await session.execute(
            select(AssistHelper.user_id, AssistHelper.state).where(
                AssistHelper.assist_id == assist_id
            )
        )
        return {user: state.value for user, state in rows}


async def validate(bot: Bot, lesson_id: int, reviewer: str, channel: str) -> None:
    uow = unit_of_work(bot)
    decided = await lessons.validate(uow, lesson_id, lessons.Viewer(reviewer, channel), "EMEA")
    await uow.finish(ok=True)
    assert decided.done


async def test_the_strongest_evidence_ranks_first_and_says_why(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    dave, erin = bot.state.add_user("dave").id, bot.state.add_user("erin").id
    general = bot.channel("general")
    sre = await lesson_community(bot, general, carol, erin)
    # Bob wrote two validated pricing lessons; Erin validated them; Dave wrote one, unvalidated;
    # Carol got kudos for pricing; Alice's own lesson never makes her a suggestion.
    for title in ("Price the pilot per seat", "Pricing pages need a calculator"):
        lesson = await capture(bot, bob, general, title, tags=("pricing",), community_id=sre)
        await validate(bot, lesson.id, erin, general)
    await capture(bot, dave, general, "Regional pricing takes legal review", tags=("pricing",))
    await capture(bot, alice, general, "Our pricing launch plan", tags=("pricing",))
    await capture(bot, dave, general, "Write the agenda first", tags=("meetings",))
    ws = await bot_workspace(bot)
    await seed_kudos(bot.db, ws, alice, carol, bot.clock.now(), tags=("pricing",))
    await seed_kudos(bot.db, ws, dave, carol, bot.clock.now(), tags=("pricing",))
    await seed_kudos(
        bot.db, ws, dave, carol, bot.clock.now(), tags=("pricing",), status="undone"
    )  # undone: never counts
    await seed_kudos(
        bot.db, ws, alice, bot.state.bot_user_id, bot.clock.now(), tags=("pricing",)
    )  # a bot: never suggested

    answer = await ask(bot, alice, general, values(community=str(sre)))

    assert answer["response_action"] == "update"
    shown = str(answer["view"]["blocks"])
    order = [shown.index(f"<@{u}>:") for u in (bob, erin, carol, dave)]
    assert order == sorted(order)
    assert f"<@{bob}>: wrote 2 validated lessons on #pricing" in shown
    assert f"<@{erin}>: validated 2 matching lessons" in shown
    assert f"<@{carol}>: 2 kudos on #pricing" in shown
    assert f"<@{alice}>:" not in shown and f"<@{bot.state.bot_user_id}>:" not in shown
    assert "Price the pilot per seat" in shown  # the top matching lessons
    assert "Write the agenda first" not in shown
    [assist] = await stored(bot)
    invites = [e["value"] for b in answer["view"]["blocks"] if b.get("accessory")
               for e in [b["accessory"]] if e.get("action_id") == ids.INVITE_ACTION]  # fmt: skip
    assert invites[0] == f"{assist.id}:{bob}" and len(invites) == 4
    # Posted once, in the community channel, with I can help and Share.
    [post] = [m for m in bot_posts(bot, general) if "asks for a peer assist" in m.text]
    assert "Launching pricing in EMEA" in post.text
    assert ids.HELP_ACTION in str(post.blocks) and ids.SHARE_ACTION in str(post.blocks)
    assert len([c for c in bot.emu.calls_to("chat.postMessage")
                if c.args.get("channel") == general]) == 1  # fmt: skip
    # The requester keeps the suggestions by DM, with Invite, Mark done and Cancel.
    mine = with_button(dms(bot, alice), ids.INVITE_ACTION)
    assert ids.DONE_ACTION in str(mine.blocks) and ids.CANCEL_ACTION in str(mine.blocks)


async def test_no_evidence_falls_back_to_the_reviewers(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    sre = await lesson_community(bot, general, carol, bob)

    answer = await ask(bot, alice, general, values("Zeppelin maintenance", tags="airships",
                                                   learn="", community=str(sre)))  # fmt: skip

    shown = str(answer["view"]["blocks"])
    assert "No evidence yet on this topic" in shown
    assert f"<@{bob}>: a reviewer of SRE" in shown


async def test_volunteer_accept_group_dm_done_lesson_ledger_and_kudos(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    sre = await lesson_community(bot, general, carol, carol)
    await ask(bot, alice, general, values(community=str(sre)))
    [assist] = await stored(bot)
    post = [m for m in bot_posts(bot, general) if "asks for a peer assist" in m.text][-1]

    # Bob clicks I can help twice (a retried block_actions): one volunteer row, one notice.
    await bot.driver.click(bob, post, ids.HELP_ACTION)
    await bot.driver.click(bob, post, ids.HELP_ACTION)
    await bot.settle()
    assert (await helper_rows(bot, assist.id))[bob] == "volunteered"
    async with bot.db.reading() as session:
        count = await session.scalar(
            select(func.count()).where(
                AssistHelper.assist_id == assist.id, AssistHelper.user_id == bob
            )  # fmt: skip
        )
    assert count == 1
    offers = [m for m in dms(bot, alice) if "offers to help" in m.text]
    assert len(offers) == 1 and f"<@{bob}>" in offers[0].text
    assert "it counts once" in bot.state.ephemerals_for(bob, general)[-1].text

    # Nobody but the requester (or a coordinator) accepts; nobody is accepted unoffered.
    dave = bot.state.add_user("dave").id
    bot.state.channels[general].members.add(dave)
    forged = bot.shown_button(ids.ACCEPT_ACTION, value=f"{assist.id}:{bob}")
    await bot.driver.click(dave, forged, ids.ACCEPT_ACTION)
    not_offered = bot.shown_button(ids.ACCEPT_ACTION, value=f"{assist.id}:{dave}")
    await bot.driver.click(alice, not_offered, ids.ACCEPT_ACTION)
    await bot.settle()
    assert "Only the person who asked" in bot.state.ephemerals_for(dave, general)[-1].text
    assert "has not offered to help" in bot.state.ephemerals_for(alice, general)[-1].text
    assert (await helper_rows(bot, assist.id))[bob] == "volunteered"

    # Alice accepts Bob: matched, and one group DM with exactly Alice and Bob.
    await bot.driver.click(alice, offers[0], ids.ACCEPT_ACTION)
    await bot.settle()
    [matched] = await stored(bot)
    assert matched.status.value == "matched" and matched.status_by == alice
    [opened] = bot.emu.calls_to("conversations.open")
    assert sorted(opened.args["users"].split(",")) == sorted([alice, bob])
    group = bot.state.channels[matched.group_dm_id]
    assert group.is_mpim and group.members == {alice, bob, bot.state.bot_user_id}
    [summary] = bot_posts(bot, group.id)
    assert "Launching pricing in EMEA" in summary.text

    # Done: Alice is asked to capture what was learned; the form is prefilled and linked.
    await bot.driver.click(alice, summary, ids.DONE_ACTION)
    await bot.settle()
    done = with_button(dms(bot, alice), ids.CAPTURE_ACTION)
    assert (await stored(bot))[0].status.value == "done"
    await bot.driver.click(alice, done, ids.CAPTURE_ACTION)
    form = bot.state.modal_stack(alice)[-1]
    assert form["callback_id"] == lesson_ids.LESSON_VIEW
    assert "What we learned: Launching pricing in EMEA" in str(form["blocks"])
    assert '"as": ' in form["private_metadata"]
    await bot.driver.view_submission(alice, form, {
        lesson_ids.TITLE_BLOCK: {lesson_ids.FIELD_ACTION: "Price per country, not per region"},
        lesson_ids.NEXT_TIME_BLOCK: {lesson_ids.FIELD_ACTION: "Ask finance for each country."},
    })  # fmt: skip
    await bot.settle()
    async with bot.db.reading() as session:
        [lesson] = list(await session.scalars(select(Lesson).where(Lesson.assist_id.is_not(None))))
    assert lesson.assist_id == assist.id and lesson.author_id == alice
    # The ledger counts Bob's assist; Carol has none.
    assert await assists.assists_given(unit_of_work(bot), bob) == 1
    assert await assists.assists_given(unit_of_work(bot), carol) == 0

    # One click, kudos to the helpers, once.
    await bot.driver.click(alice, done, ids.KUDOS_ACTION)
    await bot.driver.click(alice, done, ids.KUDOS_ACTION)
    await bot.settle()
    async with bot.db.reading() as session:
        given = list(await session.scalars(select(Kudos).where(Kudos.source == KudosSource.ASSIST)))
    assert [(k.giver_id, k.receiver_id) for k in given] == [(alice, bob)]
    # The kudos rules apply as to any kudos: bob hears it by DM, with the reason.
    assert any(
        f"<@{alice}> gave you kudos for _Helped on the peer assist" in m.text for m in dms(bot, bob)
    )

    # The request is closed: clicks on it say so and change nothing.
    updated = bot.state.find_message(general, post.ts)
    assert updated is not None and ids.HELP_ACTION not in str(updated.blocks)
    assert "*Done* · helpers: <@" in str(updated.blocks)
    old = bot.shown_button(ids.HELP_ACTION, value=str(assist.id))  # e.g. the list, shown before
    await bot.driver.click(carol, old, ids.HELP_ACTION)
    await bot.settle()
    assert "is done" in bot.state.ephemerals_for(carol, general)[-1].text
    assert (await helper_rows(bot, assist.id)).get(carol) != "volunteered"


async def test_bad_input_gets_field_errors_and_refusals(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")

    past = await ask(bot, alice, general, values(needed_by=date(2026, 11, 1)))
    untitled = await ask(bot, alice, general, values(title="  "))

    assert past["response_action"] == "errors" and ids.NEEDED_BY_BLOCK in past["errors"]
    assert untitled["response_action"] == "errors" and ids.TITLE_BLOCK in untitled["errors"]
    assert await stored(bot) == []

    await ask(bot, alice, general, values())  # no community: not posted, still open
    [assist] = await stored(bot)
    assert assist.post_channel_id is None
    me = bot.shown_button(ids.INVITE_ACTION, value=f"{assist.id}:{alice}")
    await bot.driver.click(alice, me, ids.INVITE_ACTION)
    not_mine = bot.shown_button(ids.INVITE_ACTION, value=f"{assist.id}:{bot.user('carol')}")
    await bot.driver.click(bob, not_mine, ids.INVITE_ACTION)
    own = bot.shown_button(ids.HELP_ACTION, value=str(assist.id))
    await bot.driver.click(alice, own, ids.HELP_ACTION)
    await bot.settle()
    told = [m.text for m in bot.state.ephemerals_for(alice, general)]
    assert any("You can't invite yourself" in t for t in told)
    assert any("This is your own request" in t for t in told)
    assert "Only the person who asked" in bot.state.ephemerals_for(bob, general)[-1].text
    assert await helper_rows(bot, assist.id) == {}

    # Cancelled: nothing changes on it any more.
    cancel = bot.shown_button(ids.CANCEL_ACTION, value=str(assist.id))
    await bot.driver.click(bob, cancel, ids.CANCEL_ACTION)
    await bot.driver.click(alice, cancel, ids.CANCEL_ACTION)
    await bot.driver.click(bob, own, ids.HELP_ACTION)
    await bot.settle()
    assert (await stored(bot))[0].status.value == "cancelled"
    assert "is cancelled" in bot.state.ephemerals_for(bob, general)[-1].text


async def test_request_text_is_escaped_wherever_it_is_echoed(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    sre = await lesson_community(bot, general, carol, carol)

    answer = await ask(bot, alice, general, values(HOSTILE, learn=HOSTILE, plan=HOSTILE,
                                                   team=HOSTILE, tags="pricing <b>",
                                                   community=str(sre)))  # fmt: skip

    post = [m for m in bot_posts(bot, general) if "asks for a peer assist" in m.text][-1]
    await bot.driver.click(bob, post, ids.HELP_ACTION)
    await bot.settle()
    surfaces = [str(answer["view"]), post.text, str(post.blocks)]
    surfaces += [m.text + str(m.blocks) for m in dms(bot, alice) + dms(bot, bob)]
    for shown in surfaces:
        assert "<!channel>" not in shown and "<@U0HOSTILE>" not in shown and "<b>" not in shown
    assert "&lt;!channel&gt; &amp; &lt;@U0HOSTILE&gt;" in post.text
    listed = await bot.driver.command(bob, general, "/doughnut", "assists")
    assert "&lt;!channel&gt;" in str(listed.json) and "<!channel>" not in str(listed.json)


async def test_the_message_shortcut_prefills_from_the_thread_after_the_ack(bot: Bot) -> None:
    alice, bob, general = bot.user("alice"), bot.user("bob"), bot.channel("general")
    top = bot.state.add_message(Message(general, bot.state.new_ts(), "We open Japan in May",
                                        user=alice))  # fmt: skip
    reply = bot.state.add_message(Message(general, bot.state.new_ts(),
                                          "Has anyone priced for Japan before? I'd like help.",
                                          user=bob, thread_ts=top.ts))  # fmt: skip

    answer = await bot.driver.message_action(alice, general, reply.ts, ids.ASK_SHORTCUT)
    assert answer.status == 200
    first = bot.state.modal_stack(alice)[-1]
    assert "Has anyone priced for Japan before?" in str(first["blocks"])
    assert first["blocks"][-1]["block_id"] == ids.CO_REQUESTER_BLOCK
    assert first["blocks"][-1]["element"]["initial_user"] == bob
    await bot.app.deps.after_ack.idle()

    filled = bot.state.modal_stack(alice)[-1]
    assert "We open Japan in May" in str(filled["blocks"])  # the thread's first message
    assert "this conversation" in str(filled["blocks"])  # the permalink
    chosen = {ids.CO_REQUESTER_BLOCK: {ids.FIELD_ACTION: {"type": "users_select",
                                                          "selected_user": bob}}}  # fmt: skip
    await bot.driver.view_submission(alice, filled, {**values("Pricing for Japan"), **chosen})
    await bot.settle()
    [assist] = await stored(bot)
    assert assist.co_requester_id == bob and assist.permalink and assist.source_ts == reply.ts


async def test_follow_up_jobs_fire_once(bot: Bot) -> None:
    alice, carol, general = bot.user("alice"), bot.user("carol"), bot.channel("general")
    sre = await lesson_community(bot, general, carol, carol)
    await ask(
        bot,
        alice,
        general,
        values(community=str(sre), needed_by=bot.clock.now().date() + timedelta(days=1)),
    )
    scheduler = build_scheduler(bot.db, bot.app.registry.jobs)
    start = bot.clock.now()

    bot.clock.set(start + timedelta(hours=2))
    await scheduler.tick(bot.clock.now())  # too early for either
    await bot.settle()
    assert not [m for m in bot_posts(bot, general) if "Still looking" in m.text]
    day2 = start.replace(hour=10, minute=45) + timedelta(days=2)
    bot.clock.set(day2)
    ran = await scheduler.tick(day2)
    await bot.settle()
    assert "Peer assists without a helper" in ran and "Peer assists past their date" in ran
    bot.clock.set(day2 + timedelta(days=1))
    again = await scheduler.tick(bot.clock.now())
    await bot.settle()
    assert "Peer assists without a helper" in again  # it ran, and found nothing more to send

    reposts = [m for m in bot_posts(bot, general) if "Still looking for help" in m.text]
    assert len(reposts) == 1 and ids.HELP_ACTION in str(reposts[0].blocks)
    nudges = [m.text for m in dms(bot, alice)]
    assert len([t for t in nudges if "Nobody has offered" in t]) == 1
    assert len([t for t in nudges if "was needed by" in t]) == 1


async def test_a_validated_matching_lesson_tells_the_requester_once(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    sre = await lesson_community(bot, general, carol, carol)
    await ask(bot, alice, general, values(community=str(sre)))
    matching = await capture(bot, bob, general, "Price the <pilot> per seat", tags=("pricing",),
                             community_id=sre)  # fmt: skip
    other = await capture(bot, bob, general, "Write the agenda first", tags=("meetings",),
                          community_id=sre)  # fmt: skip

    await validate(bot, matching.id, carol, general)
    await validate(bot, other.id, carol, general)
    uow = unit_of_work(bot)  # sent back, then validated again: still told once
    await lessons.needs_work(uow, matching.id, lessons.Viewer(carol, general), "More detail")
    await uow.finish(ok=True)
    await validate(bot, matching.id, carol, general)
    await bot.settle()

    told = [m.text for m in dms(bot, alice) if "A lesson matching your peer-assist" in m.text]
    assert len(told) == 1
    assert "Price the &lt;pilot&gt; per seat" in told[0] and "agenda" not in told[0]


async def test_invitation_withdraw_and_the_open_list(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    sre = await lesson_community(bot, general, carol, carol)
    await ask(bot, alice, general, values(community=str(sre)))
    [assist] = await stored(bot)

    invite = bot.shown_button(ids.INVITE_ACTION, value=f"{assist.id}:{bob}")
    await bot.driver.click(alice, invite, ids.INVITE_ACTION)
    await bot.settle()
    invitation = with_button(dms(bot, bob), ids.INVITE_YES_ACTION)
    assert "invites you to a peer assist" in invitation.text
    await bot.driver.click(bob, invitation, ids.INVITE_YES_ACTION)
    await bot.settle()
    assert any("accepted your invitation" in m.text for m in dms(bot, alice))
    assert (await helper_rows(bot, assist.id))[bob] == "volunteered"

    thanks = with_button(dms(bot, bob), ids.WITHDRAW_ACTION)
    await bot.driver.click(bob, thanks, ids.WITHDRAW_ACTION)
    await bot.settle()
    assert (await helper_rows(bot, assist.id))[bob] == "withdrawn"
    assert any("withdrew their offer" in m.text for m in dms(bot, alice))

    listed = await bot.driver.command(carol, general, "/doughnut", "assists")
    assert "Open peer-assist requests in *SRE*" in listed.json["text"]
    assert "Launching pricing in EMEA" in str(listed.json["blocks"])


async def test_matching_that_cannot_finish_in_time_goes_on_after_the_ack(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    sre = await lesson_community(bot, general, carol, carol)
    await capture(bot, bob, general, "Price the pilot per seat", tags=("pricing",))
    monkeypatch.setattr(assists, "MATCH_BUDGET", 0)  # no time at all before the ack

    answer = await ask(bot, alice, general, values(community=str(sre)))

    assert answer["response_action"] == "update"
    assert "I'll DM you their names in a moment" in str(answer["view"]["blocks"])
    assert f"<@{bob}>" not in str(answer["view"]["blocks"])
    [assist] = await stored(bot)
    assert (await helper_rows(bot, assist.id)) == {bob: "suggested"}
    later = with_button(dms(bot, alice), ids.INVITE_ACTION)
    assert f"<@{bob}>: wrote 1 lesson on #pricing" in str(later.blocks)
    assert len([p for p in bot_posts(bot, general) if "asks for a peer assist" in p.text]) == 1


async def test_an_external_helper_is_dmd_instead_of_joining_the_group_dm(bot: Bot) -> None:
    alice, carol, general = bot.user("alice"), bot.user("carol"), bot.channel("general")
    guest = bot.state.add_user("guest")
    guest.external_team_id = "T0OTHERORG"  # Slack Connect: another organisation
    bot.state.channels[general].members.add(guest.id)
    sre = await lesson_community(bot, general, carol, carol)
    await ask(bot, alice, general, values(community=str(sre)))
    [assist] = await stored(bot)
    post = [m for m in bot_posts(bot, general) if "asks for a peer assist" in m.text][-1]

    await bot.driver.click(guest.id, post, ids.HELP_ACTION)
    await bot.settle()
    await bot.driver.click(
        alice, with_button(dms(bot, alice), ids.ACCEPT_ACTION), ids.ACCEPT_ACTION
    )
    await bot.settle()

    assert (await stored(bot))[0].status.value == "matched"
    assert bot.emu.calls_to("conversations.open") == []  # nobody else to put in a group DM
    assert (await stored(bot))[0].group_dm_id is None
    assert any("can't add you to the group DM" in m.text for m in dms(bot, guest.id))
    assert any("can't join the group DM" in m.text for m in dms(bot, alice))
    assert (await helper_rows(bot, assist.id))[guest.id] == "accepted"


async def test_home_share_decline_and_a_coordinator_steers(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    dave = bot.state.add_user("dave").id
    general = bot.channel("general")
    sre = await lesson_community(bot, general, carol, carol)
    await capture(bot, dave, general, "Price the pilot per seat", tags=("pricing",))
    await ask(bot, alice, general, values(HOSTILE + " pricing", community=str(sre)))
    [assist] = await stored(bot)
    post = [m for m in bot_posts(bot, general) if "asks for a peer assist" in m.text][-1]

    await bot.driver.click(bob, post, ids.SHARE_ACTION)
    await bot.driver.click(bob, post, ids.HELP_ACTION)
    invite = bot.shown_button(ids.INVITE_ACTION, value=f"{assist.id}:{dave}")
    await bot.driver.click(carol, invite, ids.INVITE_ACTION)  # a coordinator may invite
    await bot.settle()
    shared = [m.text for m in dms(bot, bob) if "To share" in m.text]
    assert len(shared) == 1 and "|the request>" in shared[0] and "<!channel>" not in shared[0]
    invitation = with_button(dms(bot, dave), ids.INVITE_NO_ACTION)
    await bot.driver.click(dave, invitation, ids.INVITE_NO_ACTION)
    await bot.driver.click(dave, invitation, ids.INVITE_NO_ACTION)  # answered already
    await bot.settle()
    assert (await helper_rows(bot, assist.id))[dave] == "declined"
    assert len([m for m in dms(bot, alice) if "can't help on" in m.text]) == 1
    assert "You already answered" in dms(bot, dave)[-1].text

    homes = {}
    for user in (alice, bob, dave):
        await bot.driver.open_home(user)
        await bot.settle()
        homes[user] = str(bot.state.home_views[user]["blocks"])
    title = "&lt;!channel&gt; &amp; &lt;@U0HOSTILE&gt; &lt;b&gt; pricing"
    assert "*Peer assists*" in homes[alice] and "<!channel>" not in homes[alice]
    mine = homes[alice].split("Your requests")[1].split("Requests you help with")[0]
    helping = homes[bob].split("Requests you help with")[1].split("Open requests matching")[0]
    expertise = homes[dave].split("Open requests matching your lessons")[1]
    assert title in mine and title in helping and title in expertise
    assert title not in homes[bob].split("Open requests matching your lessons")[1]

    # The community's coordinator steers too: Carol marks it done.
    done = bot.shown_button(ids.DONE_ACTION, value=str(assist.id))
    await bot.driver.click(carol, done, ids.DONE_ACTION)
    await bot.settle()
    [closed] = await stored(bot)
    assert closed.status.value == "done" and closed.status_by == carol and closed.closed_at


async def test_long_hostile_fields_stay_within_slacks_limits(bot: Bot) -> None:
    alice, bob, carol = bot.user("alice"), bot.user("bob"), bot.user("carol")
    general = bot.channel("general")
    sre = await lesson_community(bot, general, carol, carol)

    await ask(bot, alice, general, values(plan="&" * 3000, learn="<" * 3000, team="&" * 200,
                                          community=str(sre)))  # fmt: skip

    [post] = [m for m in bot_posts(bot, general) if "asks for a peer assist" in m.text]
    assert all(len(b["text"]["text"]) <= 3000 for b in post.blocks if b["type"] == "section")
    assert "&amp;&amp;" in str(post.blocks) and "&amp;&…" not in str(post.blocks)
    await bot.driver.click(bob, post, ids.HELP_ACTION)
    await bot.settle()
    assert any("offers to help" in m.text for m in dms(bot, alice))
    assert all(d.status.value == "sent" for d in await deliveries_of(bot))
