"""Knowledge gaps, proposals to sponsors and strategic priorities: the Slack listeners.

Thin: parse, call one service, build Block Kit, ack. A form opens at once as "One moment…"
(its trigger lives 3 s) and is filled after the ack with what it needs (a message's permalink,
the communities, the evidence to pick); what others are told goes through the outbox.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import Block, FormValues, ephemeral, field_errors, notice_modal
from bot.core import gaps, lessons, proposals
from bot.core.gaps import GapSource, Verdict
from bot.core.proposals import ProposalForm
from bot.deps import Deps
from bot.failures import new_reference
from bot.installations import with_token
from bot.registry import HomeViewer
from bot.unit_of_work import UnitOfWork
from handlers.gaps import ids, offers, views
from handlers.home.listeners import HomeTab
from handlers.lessons import listeners as lesson_listeners
from handlers.lessons.views import Source
from storage.deliveries import RESPONSE_URL
from storage.models.gaps import GapStatus, ProposalDecision

log = logging.getLogger(__name__)


# ---- Small helpers ----------------------------------------------------------------------------


def _value(body: dict[str, Any]) -> str:
    value = ((body.get("actions") or [{}])[0]).get("value")
    return value if isinstance(value, str) else ""


def _id(body: dict[str, Any]) -> int | None:
    value = _value(body)
    return int(value) if value.isdigit() else None


def _channel_of(body: dict[str, Any]) -> str | None:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    return channel if isinstance(channel, str) and channel else None


async def _tell(uow: UnitOfWork, body: dict[str, Any], text: str) -> None:
    """A short answer to a click, only for the clicker: under the message clicked (its
    response_url reaches channels the bot is not in), or by DM from the Home tab."""
    if body.get("response_url"):
        answer = {"response_type": "ephemeral", "replace_original": False, "text": text}
        await uow.deliver(RESPONSE_URL, {"url": body["response_url"], "body": answer})
        return
    user_id = body["user"]["id"]
    await uow.deliver("chat.postMessage", {"channel": user_id, "text": text}, channel=user_id)


async def _dm(uow: UnitOfWork, user_id: str, message: dict[str, Any]) -> None:
    await uow.deliver("chat.postMessage", {"channel": user_id, **message}, channel=user_id)


async def _open_then_fill(
    client: AsyncWebClient,
    context: AsyncBoltContext,
    trigger_id: str,
    title: str,
    build: Callable[[UnitOfWork, AsyncWebClient, str], Awaitable[dict[str, Any]]],
) -> None:
    """Open "One moment…" now; after the ack, build the form and show it (or what failed)."""
    external_id = f"gaps-{secrets.token_hex(8)}"
    with contextlib.suppress(TimeoutError):  # it may still open, and is filled if it does
        await client.views_open(trigger_id=trigger_id, view=views.loading_modal(title, external_id))
    uow: UnitOfWork = context["uow"]
    deps: Deps = context["deps"]
    token = context.client.token

    async def fill() -> None:
        later = with_token(deps.outbox_client, token)
        try:
            view = await build(uow, later, external_id)
            await later.views_update(view=view, external_id=external_id)
        except Exception:
            reference = new_reference()
            log.exception("loading a %s form failed (reference=%s)", title, reference)
            modal = notice_modal(views.LOADING_FAILED.format(reference=reference), title)
            with contextlib.suppress(SlackApiError):
                await later.views_update(view=modal, external_id=external_id)

    deps.after_ack.hand_off(fill(), what=f"{title} form")


# ---- Gaps -------------------------------------------------------------------------------------


async def gap_command(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, args: str = "", **_: Any
) -> None:
    """`/doughnut gap <question> #tags`: recorded in the channel's community (or known)."""
    typed = gaps.read_gap_text(args)
    if not typed.question:
        await ack(**ephemeral(views.GAP_USAGE))
        return
    uow: UnitOfWork = context["uow"]
    source = GapSource(body["user_id"], body.get("channel_id") or None)
    raised = await gaps.raise_gap(uow, typed.question, typed.tags, source)
    if raised.problem is not None:
        await ack(**ephemeral(views.raise_problem(raised.problem)))
        return
    await ack(**views.raised_reply(raised))


async def gaps_command(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, **_: Any
) -> None:
    """`/doughnut gaps`: the community's open gaps, most voted first, with their buttons."""
    uow: UnitOfWork = context["uow"]
    found = await gaps.list_gaps(uow, body.get("channel_id") or None, body["user_id"])
    names: dict[int, str] = {}
    if found.community is not None and found.gaps:
        names = {
            p.id: p.statement for p in await gaps.community_priorities(uow, found.community.id)
        }
    await ack(**views.gaps_reply(found, names))


async def vote_clicked(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    uow: UnitOfWork = context["uow"]
    gap_id = _id(body)
    if gap_id is None:
        await ack()
        return
    outcome = await gaps.vote(uow, gap_id, body["user"]["id"])
    await _tell(uow, body, views.vote_text(outcome.verdict, outcome.gap))
    await ack()


async def answer_clicked(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """I can answer: the lesson form, its lesson linked to the gap once saved."""
    gap_id = _id(body)
    if gap_id is None:
        await ack()
        return
    source = Source(channel_id=_channel_of(body), author_id=body["user"]["id"], gap_id=gap_id)
    await lesson_listeners.open_lesson_form(client, context, body["trigger_id"], source)
    await ack()


async def close_clicked(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Close: coordinators get the form; others are refused before typing a note."""
    gap_id = _id(body)
    if gap_id is None:
        await ack()
        return
    outcome = await gaps.may_close(context["uow"], gap_id, body["user"]["id"])
    if outcome.verdict is Verdict.DONE and outcome.gap is not None:
        modal = views.close_modal(outcome.gap)
    else:
        modal = notice_modal(views.gap_refusal(outcome.verdict), "Knowledge gap")
    await client.views_open(trigger_id=body["trigger_id"], view=modal)
    await ack()


async def submit_close(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    gap_id = views.read_gap_id(view)
    form = FormValues(view["state"]["values"])
    try:
        status = GapStatus(form.option(ids.CLOSE_STATUS_BLOCK, ids.FIELD_ACTION) or "")
    except ValueError:
        status = GapStatus.OPEN  # refused below
    if gap_id is None:
        await ack(response_action="update", view=notice_modal(views.OUT_OF_DATE))
        return
    note = form.text(ids.NOTE_BLOCK, ids.FIELD_ACTION)
    outcome = await gaps.close_gap(context["uow"], gap_id, body["user"]["id"], status, note)
    if outcome.verdict in (Verdict.NOTE_REQUIRED, Verdict.NOTE_TOO_LONG):
        await ack(**field_errors({ids.NOTE_BLOCK: views.gap_refusal(outcome.verdict)}))
    elif outcome.verdict is Verdict.DONE and outcome.gap is not None:
        await ack(response_action="update", view=views.closed_notice(outcome.gap))
    else:
        refusal = notice_modal(views.gap_refusal(outcome.verdict), "Knowledge gap")
        await ack(response_action="update", view=refusal)


async def link_clicked(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """From the offer DM: the lesson's author links it as the gap's answer."""
    uow: UnitOfWork = context["uow"]
    pair = views.read_link_value(_value(body))
    if pair is None:
        await ack()
        return
    linked = await gaps.link_answer(uow, *pair, body["user"]["id"])
    await offers.tell_answered(uow, linked)
    await _tell(uow, body, views.link_text(linked.verdict, linked.gap, linked.lesson))
    await ack()


async def raise_gap_shortcut(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Message shortcut: the gap form prefilled with the question; the permalink is fetched
    after the ack and kept with the gap."""
    message = body.get("message") or {}
    channel_id = (body.get("channel") or {}).get("id")
    message_ts = message.get("ts")
    text = message.get("text") or ""

    async def build(uow: UnitOfWork, later: AsyncWebClient, external_id: str) -> dict[str, Any]:
        permalink = None
        if channel_id and message_ts:
            with contextlib.suppress(SlackApiError):
                answer = await later.chat_getPermalink(channel=channel_id, message_ts=message_ts)
                permalink = answer.get("permalink")
        choices = await lessons.form_choices(uow, channel_id)
        if not choices.communities:
            return notice_modal(views.NO_COMMUNITIES, "Knowledge gap", external_id=external_id)
        default = choices.default_community
        priorities = await gaps.community_priorities(uow, default) if default else ()
        metadata = {"c": channel_id, "ts": message_ts, "p": permalink}
        return views.gap_modal(
            lessons.readable(text),
            [(str(c.id), c.name[:75]) for c in choices.communities],
            default,
            priorities,
            {k: v for k, v in metadata.items() if v},
            external_id=external_id,
        )

    await _open_then_fill(client, context, body["trigger_id"], "Knowledge gap", build)
    await ack()


async def submit_gap(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
        assert isinstance(metadata, dict)
    except (ValueError, AssertionError):
        await ack(response_action="update", view=notice_modal(views.OUT_OF_DATE))
        return
    form = FormValues(view["state"]["values"])
    question = form.text(ids.QUESTION_BLOCK, ids.FIELD_ACTION)
    tags = lessons.read_quick_text(form.text(ids.TAGS_BLOCK, ids.FIELD_ACTION)).tags
    community = form.option(ids.COMMUNITY_BLOCK, ids.FIELD_ACTION) or ""
    priority = form.option(ids.PRIORITY_BLOCK, ids.FIELD_ACTION) or ""
    channel = metadata.get("c") if isinstance(metadata.get("c"), str) else None
    source = GapSource(
        body["user"]["id"],
        channel,
        message_ts=metadata.get("ts") if isinstance(metadata.get("ts"), str) else None,
        permalink=metadata.get("p") if isinstance(metadata.get("p"), str) else None,
    )
    raised = await gaps.raise_gap(
        context["uow"], question, tags, source,
        community_id=int(community) if community.isdigit() else None,
        priority_id=int(priority) if priority.isdigit() else None,
    )  # fmt: skip
    if raised.problem is not None:
        block = ids.COMMUNITY_BLOCK if raised.problem is gaps.Problem.NO_COMMUNITY else None
        text = views.raise_problem(raised.problem)
        await ack(**field_errors({block or ids.QUESTION_BLOCK: text}))
        return
    await ack(response_action="update", view=views.raised_modal(raised))


# ---- Proposals --------------------------------------------------------------------------------


async def propose_command(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    args: str = "",
    **_: Any,
) -> None:
    """`/doughnut propose <insight>`: the proposal form, the insight prefilled."""
    insight = lessons.readable(args).strip()
    if not insight:
        await ack(**ephemeral(views.PROPOSE_USAGE))
        return
    user_id, channel_id = body["user_id"], body.get("channel_id") or None

    async def build(uow: UnitOfWork, _: AsyncWebClient, external_id: str) -> dict[str, Any]:
        choices = await proposals.form_choices(uow, channel_id, user_id, insight)
        if not choices.communities:
            return notice_modal(views.NO_COMMUNITIES, "Proposal", external_id=external_id)
        return views.proposal_modal(insight, choices, channel_id, external_id=external_id)

    await _open_then_fill(client, context, body["trigger_id"], "Proposal", build)
    await ack()


def _picked(values: dict[str, Any], block_id: str) -> tuple[int, ...]:
    picked = ((values.get(block_id) or {}).get(ids.FIELD_ACTION) or {}).get("selected_options")
    if not isinstance(picked, list):
        return ()
    found = [o.get("value") for o in picked if isinstance(o, dict)]
    return tuple(int(v) for v in found if isinstance(v, str) and v.isdigit())


def read_proposal_form(values: dict[str, Any]) -> ProposalForm:
    form = FormValues(values)
    community = form.option(ids.PROPOSAL_COMMUNITY_BLOCK, ids.FIELD_ACTION) or ""
    priority = form.option(ids.PROPOSAL_PRIORITY_BLOCK, ids.FIELD_ACTION) or ""
    return ProposalForm(
        insight=form.text(ids.INSIGHT_BLOCK, ids.FIELD_ACTION),
        proposal=form.text(ids.PROPOSAL_BLOCK, ids.FIELD_ACTION),
        community_id=int(community) if community.isdigit() else None,
        lesson_ids=_picked(values, ids.EVIDENCE_LESSONS_BLOCK),
        gap_ids=_picked(values, ids.EVIDENCE_GAPS_BLOCK),
        priority_id=int(priority) if priority.isdigit() else None,
    )


async def submit_proposal(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    """Stored, then sent to each sponsor by DM and shown in the community's channel."""
    uow: UnitOfWork = context["uow"]
    form = read_proposal_form(view["state"]["values"])
    submitted = await proposals.submit_proposal(uow, body["user"]["id"], form)
    if submitted.proposal is None or submitted.community is None:
        errors = {views.PROPOSAL_FIELDS[f]: m for f, m in submitted.errors.items()}
        await ack(**field_errors(errors))
        return
    proposal, community = submitted.proposal, submitted.community
    for sponsor in community.sponsors:
        await _dm(uow, sponsor, views.sponsor_dm(proposal, community))
    post = {"channel": community.channel_id, **views.channel_proposal(proposal, community)}
    await uow.deliver("chat.postMessage", post, channel=community.channel_id)
    await ack(response_action="update", view=views.sent_modal(proposal, community))


async def acknowledge_clicked(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
) -> None:
    uow: UnitOfWork = context["uow"]
    proposal_id = _id(body)
    if proposal_id is None:
        await ack()
        return
    user_id = body["user"]["id"]
    decided = await proposals.acknowledge(uow, proposal_id, user_id)
    if decided.verdict is Verdict.DONE and decided.proposal is not None:
        proposal = decided.proposal
        await _dm(uow, proposal.proposed_by, {"text": views.acknowledged_text(proposal, user_id)})
        await _tell(uow, body, "Acknowledged: the proposer is told. *Respond* answers it.")
    else:
        await _tell(uow, body, views.proposal_refusal(decided.verdict, decided.proposal))
    await ack()


async def respond_clicked(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Respond: the sponsors get the form; others are refused before typing."""
    proposal_id = _id(body)
    if proposal_id is None:
        await ack()
        return
    decided = await proposals.may_respond(context["uow"], proposal_id, body["user"]["id"])
    if decided.verdict is Verdict.DONE and decided.proposal is not None:
        on_home = (body.get("view") or {}).get("type") == "home"
        modal = views.respond_modal(decided.proposal, on_home=on_home)
    else:
        text = views.proposal_refusal(decided.verdict, decided.proposal)
        modal = notice_modal(text, "Proposal")
    await client.views_open(trigger_id=body["trigger_id"], view=modal)
    await ack()


class Responses:
    """The sponsor's answer. Given from the Home tab, it refreshes the sponsor's tab once it
    has committed, so the proposal leaves their queue at once."""

    def __init__(self, home: HomeTab) -> None:
        self._home = home

    async def submit_respond(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """The sponsor's answer: kept with who and when; the channel and the proposer see it."""
        uow: UnitOfWork = context["uow"]
        proposal_id = views.read_proposal_id(view)
        if proposal_id is None:
            await ack(response_action="update", view=notice_modal(views.OUT_OF_DATE))
            return
        form = FormValues(view["state"]["values"])
        try:
            decision = ProposalDecision(form.option(ids.DECISION_BLOCK, ids.FIELD_ACTION) or "")
        except ValueError:
            decision = None
        message = form.text(ids.MESSAGE_BLOCK, ids.FIELD_ACTION)
        decided = await proposals.respond(uow, proposal_id, body["user"]["id"], decision, message)
        if decided.verdict is Verdict.NOTE_REQUIRED:
            errors = {}
            if decision is None:
                errors[ids.DECISION_BLOCK] = "Pick a decision: adopt, explore or decline."
            if not message:
                errors[ids.MESSAGE_BLOCK] = "Say a word to the community about your decision."
            await ack(**field_errors(errors))
            return
        if decided.verdict is Verdict.NOTE_TOO_LONG:
            await ack(**field_errors({ids.MESSAGE_BLOCK: "Keep this under 2000 characters."}))
            return
        proposal, community = decided.proposal, decided.community
        if decided.verdict is not Verdict.DONE or proposal is None or community is None:
            text = views.proposal_refusal(decided.verdict, proposal)
            await ack(response_action="update", view=notice_modal(text, "Proposal"))
            return
        answer = views.channel_answer(proposal, community)
        post = {"channel": community.channel_id, **answer}
        await uow.deliver("chat.postMessage", post, channel=community.channel_id)
        if proposal.proposed_by != proposal.decided_by:
            await _dm(uow, proposal.proposed_by, answer)
        if views.opened_from_home(view):
            self._home.refresh_after_commit(uow, client.token, body["user"]["id"])
        await ack(response_action="update", view=views.answered_notice(proposal))


# ---- Priorities -------------------------------------------------------------------------------


async def priorities_command(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    **_: Any,
) -> None:
    """`/doughnut priorities`: sponsors get the form to set them, others the list."""
    board = await gaps.priority_board(
        context["uow"], body.get("channel_id") or None, body["user_id"]
    )
    if board.community is None or not board.may_edit:
        await ack(**views.priorities_reply(board))
        return
    await client.views_open(trigger_id=body["trigger_id"], view=views.priorities_modal(board))
    await ack()


async def submit_priorities(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    community_id = views.read_community_id(view)
    if community_id is None:
        await ack(response_action="update", view=notice_modal(views.OUT_OF_DATE))
        return
    text = FormValues(view["state"]["values"]).text(ids.PRIORITIES_BLOCK, ids.FIELD_ACTION)
    lines, problem = gaps.read_priorities(text)
    if problem:
        await ack(**field_errors({ids.PRIORITIES_BLOCK: problem}))
        return
    verdict, saved = await gaps.set_priorities(
        context["uow"], community_id, body["user"]["id"], lines
    )
    if verdict is not Verdict.DONE:
        refusal = views.PRIORITIES_REFUSED if verdict is Verdict.NOT_ALLOWED else views.OUT_OF_DATE
        await ack(response_action="update", view=notice_modal(refusal, "Strategic priorities"))
        return
    await ack(response_action="update", view=views.priorities_saved(saved))


# ---- The Home tab -----------------------------------------------------------------------------


async def home_section(uow: UnitOfWork, viewer: HomeViewer, room: int) -> list[Block]:
    found, total = await gaps.home_gaps(uow, viewer.member_of)
    waiting = await proposals.awaiting(uow, viewer.user_id)
    return views.home_section(found, total, waiting, room)
