"""Proposals to sponsors and strategic priorities over the wire (both databases): a proposal
sent to the sponsors by DM, acknowledged, answered by a sponsor (non-sponsors refused), the
channel sees it and its answer with who decided, it leaves the open list; priorities set by
sponsors, listed for others, linked from gaps and summarised; text escaped; workspaces apart."""

from __future__ import annotations

from typing import Any

from bot.core import gaps, proposals
from bot.core.gaps import GapSource
from bot.unit_of_work import UnitOfWork
from handlers.gaps import ids
from storage.models.gaps import ProposalStatus
from tests.conftest import (
    OTHER_TEAM,
    Bot,
    capture,
    community_with,
    dm_messages,
    dm_texts,
    unit_of_work,
)

HOSTILE = "<!channel> ping <@U0FAKE> & <b>bold</b>"


def people(bot: Bot) -> dict[str, str]:
    for name in ("dave", "erin"):
        bot.state.add_user(name)
    return {name: bot.user(name) for name in ("alice", "bob", "carol", "dave", "erin")}


async def open_proposal_form(bot: Bot, user: str, channel: str, insight: str) -> dict[str, Any]:
    reply = await bot.driver.command(user, channel, "/doughnut", f"propose {insight}")
    assert reply.status == 200 and not reply.text
    await bot.app.deps.after_ack.idle()  # filled after the ack
    return bot.state.modal_stack(user)[-1]


def selected(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value}}


def many(*values: int) -> dict[str, Any]:
    return {"type": "multi_static_select",
            "selected_options": [{"value": str(v)} for v in values]}  # fmt: skip


async def open_list(bot: Bot, community_id: int) -> list[int]:
    uow = unit_of_work(bot)
    async with uow.reading() as (session, workspace):
        assert workspace is not None
        found = await proposals.open_proposals(session, workspace.id, community_id)
    return [p.id for p in found]


async def home_of(bot: Bot, user: str) -> str:
    await bot.driver.open_home(user)
    await bot.settle()
    return str(bot.state.home_views[user]["blocks"])


async def test_proposal_to_sponsors_answered_and_seen_by_the_channel(bot: Bot) -> None:
    p = people(bot)
    general = bot.channel("general")
    sre = await community_with(bot, general, coordinators=(p["alice"],),
                               sponsors=(p["carol"], p["dave"]))  # fmt: skip
    lesson = await capture(bot, p["alice"], general, community_id=sre)

    form = await open_proposal_form(bot, p["bob"], general, "Rehearsed rollbacks recover faster")
    assert form["callback_id"] == ids.PROPOSAL_VIEW
    assert "Rehearsed rollbacks recover faster" in str(form["blocks"])
    assert "Confirm the rollback plan" in str(form["blocks"])  # a lesson to pick as evidence
    values = {
        ids.INSIGHT_BLOCK: {ids.FIELD_ACTION: "Rehearsed rollbacks recover faster"},
        ids.PROPOSAL_BLOCK: {ids.FIELD_ACTION: "Make a rollback rehearsal part of every release"},
        ids.EVIDENCE_LESSONS_BLOCK: {ids.FIELD_ACTION: many(lesson.id)},
        ids.PROPOSAL_COMMUNITY_BLOCK: {ids.FIELD_ACTION: selected(str(sre))},
    }
    reply = await bot.driver.view_submission(p["bob"], form, values)
    assert reply.status == 200
    await bot.settle()
    assert "Sent to the sponsors of *SRE*" in str(bot.state.modal_stack(p["bob"])[-1]["blocks"])

    # Each sponsor gets it by DM, with Acknowledge and Respond; the channel sees it.
    for sponsor in ("carol", "dave"):
        [dm] = dm_messages(bot, p[sponsor])
        shown = str(dm.blocks)
        assert "Make a rollback rehearsal part of every release" in shown
        assert "Confirm the rollback plan" in shown  # its evidence
        assert ids.ACKNOWLEDGE_ACTION in shown and ids.RESPOND_ACTION in shown
    posted = [m for m in bot.state.history(general) if m.bot_id and "proposed" in m.text]
    assert len(posted) == 1 and "Make a rollback rehearsal" in str(posted[0].blocks)
    [proposal_id] = await open_list(bot, sre)
    assert "Proposals waiting for your answer" in await home_of(bot, p["carol"])

    # Acknowledge: the proposer hears it.
    [carols] = dm_messages(bot, p["carol"])
    await bot.driver.click(p["carol"], carols, ids.ACKNOWLEDGE_ACTION)
    await bot.settle()
    assert "acknowledged your proposal" in dm_texts(bot, p["bob"])[-1]

    # Erin is no sponsor: refused before typing, nothing changes.
    button = bot.shown_button(ids.RESPOND_ACTION, value=str(proposal_id))
    await bot.driver.click(p["erin"], button, ids.RESPOND_ACTION)
    [refused] = bot.state.modal_stack(p["erin"])
    assert "Only the sponsors" in str(refused["blocks"]) and not refused.get("submit")

    # Carol answers: adopt, with a message.
    await bot.driver.click(p["carol"], carols, ids.RESPOND_ACTION)
    modal = bot.state.modal_stack(p["carol"])[-1]
    assert modal["callback_id"] == ids.RESPOND_VIEW
    missing = await bot.driver.view_submission(p["carol"], modal, {
        ids.DECISION_BLOCK: {ids.FIELD_ACTION: selected("adopt")},
        ids.MESSAGE_BLOCK: {ids.FIELD_ACTION: " "},
    })  # fmt: skip
    assert (missing.json or {}).get("response_action") == "errors"
    assert await open_list(bot, sre) == [proposal_id]
    await bot.driver.view_submission(p["carol"], modal, {
        ids.DECISION_BLOCK: {ids.FIELD_ACTION: selected("adopt")},
        ids.MESSAGE_BLOCK: {ids.FIELD_ACTION: "Yes: from next sprint, every release."},
    })  # fmt: skip
    await bot.settle()

    answers = [m for m in bot.state.history(general) if m.bot_id and "answered" in m.text]
    assert len(answers) == 1
    assert f"<@{p['carol']}> answered the proposal from <@{p['bob']}>" in answers[0].text
    shown = str(answers[0].blocks)
    assert "*Adopt*" in answers[0].text and "Yes: from next sprint" in shown
    assert f"Decided by <@{p['carol']}> on {bot.clock.now():%Y-%m-%d}" in shown
    assert "Adopt" in dm_texts(bot, p["bob"])[-1]
    assert await open_list(bot, sre) == []
    answered = await proposals.get_proposal(unit_of_work(bot), proposal_id)
    assert answered is not None and answered.status is ProposalStatus.ANSWERED
    assert (answered.decided_by, answered.response) == (
        p["carol"],
        "Yes: from next sprint, every release.",
    )
    assert "Proposals waiting for your answer" not in await home_of(bot, p["carol"])

    # Dave, the other sponsor, is told who decided when he clicks his own Respond.
    [daves] = dm_messages(bot, p["dave"])
    await bot.driver.click(p["dave"], daves, ids.RESPOND_ACTION)
    said = str(bot.state.modal_stack(p["dave"])[-1]["blocks"])
    assert "answered already" in said and f"<@{p['carol']}>" in said


async def test_bad_input_no_sponsor_and_hostile_text(bot: Bot) -> None:
    p = people(bot)
    general = bot.channel("general")
    reply = await bot.driver.command(p["bob"], general, "/doughnut", "propose   ")
    assert "Say what the community learned" in (reply.json or {}).get("text", "")
    assert bot.state.modal_stack(p["bob"]) == []

    lonely = await community_with(bot, general, coordinators=(p["alice"],))
    form = await open_proposal_form(bot, p["bob"], general, "An insight")
    values = {
        ids.INSIGHT_BLOCK: {ids.FIELD_ACTION: "An insight"},
        ids.PROPOSAL_BLOCK: {ids.FIELD_ACTION: "A proposal"},
        ids.PROPOSAL_COMMUNITY_BLOCK: {ids.FIELD_ACTION: selected(str(lonely))},
    }
    refused = await bot.driver.view_submission(p["bob"], form, values)
    errors = (refused.json or {}).get("errors") or {}
    assert "no sponsor yet" in errors.get(ids.PROPOSAL_COMMUNITY_BLOCK, "")

    sre_channel = bot.state.add_channel("sre", members=[bot.state.bot_user_id]).id
    sre = await community_with(bot, sre_channel, coordinators=(p["alice"],),
                               sponsors=(p["carol"],), name="SRE <!here>")  # fmt: skip
    form = await open_proposal_form(bot, p["bob"], sre_channel, "x")
    values = {
        ids.INSIGHT_BLOCK: {ids.FIELD_ACTION: HOSTILE},
        ids.PROPOSAL_BLOCK: {ids.FIELD_ACTION: HOSTILE},
        ids.PROPOSAL_COMMUNITY_BLOCK: {ids.FIELD_ACTION: selected(str(sre))},
    }
    await bot.driver.view_submission(p["bob"], form, values)
    await bot.settle()
    [dm] = dm_messages(bot, p["carol"])
    [post] = [m for m in bot.state.history(sre_channel) if m.bot_id and "proposed" in m.text]
    for message in (dm, post):
        everything = message.text + str(message.blocks)
        assert "<!channel>" not in everything and "<!here>" not in everything
        assert "<@U0FAKE>" not in everything and "<b>" not in everything
        assert "&lt;b&gt;bold" in everything


async def test_priorities_set_by_sponsors_listed_for_others_and_linked(bot: Bot) -> None:
    p = people(bot)
    general = bot.channel("general")
    sre = await community_with(bot, general, coordinators=(p["alice"],), sponsors=(p["carol"],))

    # Not a sponsor: the list (empty yet), no form.
    reply = await bot.driver.command(p["bob"], general, "/doughnut", "priorities")
    assert "no strategic priorities yet" in (reply.json or {}).get("text", "")
    assert bot.state.modal_stack(p["bob"]) == []

    await bot.driver.command(p["carol"], general, "/doughnut", "priorities")
    modal = bot.state.modal_stack(p["carol"])[-1]
    assert modal["callback_id"] == ids.PRIORITIES_VIEW
    text = (
        "Halve the time to restore service #incidents #migrations\nOnboard faster <b> #onboarding"
    )
    await bot.driver.view_submission(p["carol"], modal,
                                     {ids.PRIORITIES_BLOCK: {ids.FIELD_ACTION: text}})  # fmt: skip
    await bot.settle()
    reply = await bot.driver.command(p["bob"], general, "/doughnut", "priorities")
    listed = (reply.json or {}).get("text", "") + str((reply.json or {}).get("blocks"))
    assert "Halve the time to restore service" in listed and "#incidents" in listed
    assert "Onboard faster &lt;b&gt;" in listed and "<b>" not in listed

    # Too many is refused, and nothing changes.
    await bot.driver.command(p["carol"], general, "/doughnut", "priorities")
    modal = bot.state.modal_stack(p["carol"])[-1]
    six = "\n".join(f"Priority {n}" for n in range(6))
    refused = await bot.driver.view_submission(
        p["carol"], modal, {ids.PRIORITIES_BLOCK: {ids.FIELD_ACTION: six}}
    )
    assert (refused.json or {}).get("response_action") == "errors"
    [incidents, _] = await gaps.community_priorities(unit_of_work(bot), sre)

    # A gap tagged like a priority is linked to it, and shows it; the summary counts it.
    await bot.driver.command(p["bob"], general, "/doughnut", "gap How do we roll back? #migrations")
    await bot.driver.command(p["bob"], general, "/doughnut", "gaps")
    gaps_shown = str(bot.state.ephemerals_for(p["bob"], general)[-1].blocks)
    assert "priority: Halve the time to restore service" in gaps_shown
    [summary, other] = await gaps.priorities_summary(unit_of_work(bot), sre)
    assert summary.priority.id == incidents.id
    assert [g.question for g in summary.gaps] == ["How do we roll back?"]
    assert other.gaps == () and other.learned == () and other.proposals == ()


async def test_another_workspace_proposals_never_count(bot: Bot) -> None:
    p = people(bot)
    general = bot.channel("general")
    sre = await community_with(bot, general, coordinators=(p["alice"],), sponsors=(p["carol"],))
    theirs = await community_with(bot, general, coordinators=(p["alice"],),
                                  sponsors=(p["carol"],), installation=OTHER_TEAM)  # fmt: skip
    other = UnitOfWork(bot.app.deps, OTHER_TEAM)
    submitted = await proposals.submit_proposal(
        other, p["bob"], proposals.ProposalForm("Their insight", "Their proposal", theirs)
    )
    await gaps.raise_gap(other, "Their gap", (), GapSource(p["bob"], general))
    await other.finish(ok=True)
    assert submitted.proposal is not None

    assert await open_list(bot, sre) == []
    assert "Their proposal" not in await home_of(bot, p["carol"])
    # Their proposal's id on a button here: gone, not answerable.
    button = bot.shown_button(ids.RESPOND_ACTION, value=str(submitted.proposal.id))
    await bot.driver.click(p["carol"], button, ids.RESPOND_ACTION)
    assert "gone" in str(bot.state.modal_stack(p["carol"])[-1]["blocks"])
    form = await open_proposal_form(bot, p["bob"], general, "Ours")
    assert "Their gap" not in str(form["blocks"])


async def test_answered_from_the_home_tab_the_proposal_leaves_it_at_once(bot: Bot) -> None:
    p = people(bot)
    general = bot.channel("general")
    sre = await community_with(bot, general, coordinators=(p["alice"],), sponsors=(p["carol"],))
    uow = unit_of_work(bot)
    submitted = await proposals.submit_proposal(
        uow, p["bob"], proposals.ProposalForm("Rehearsals help", "Rehearse every release", sre)
    )
    await uow.finish(ok=True)
    assert submitted.proposal is not None
    assert "Rehearse every release" in await home_of(bot, p["carol"])

    home = bot.state.home_views[p["carol"]]
    await bot.driver.click(p["carol"], home, ids.RESPOND_ACTION)
    modal = bot.state.modal_stack(p["carol"])[-1]
    await bot.driver.view_submission(p["carol"], modal, {
        ids.DECISION_BLOCK: {ids.FIELD_ACTION: selected("explore")},
        ids.MESSAGE_BLOCK: {ids.FIELD_ACTION: "Let's try it in two teams first."},
    })  # fmt: skip
    await bot.settle()

    refreshed = str(bot.state.home_views[p["carol"]]["blocks"])  # not opened again
    assert "Proposals waiting for your answer" not in refreshed
    assert await open_list(bot, sre) == []
