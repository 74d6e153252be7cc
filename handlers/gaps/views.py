"""Knowledge gaps, proposals and priorities: Block Kit from the services' dataclasses (pure).

Everything a person typed (a question, a note, an insight, a priority) is escaped where it is
echoed, in the blocks and in the `text` fallback alike.
"""

from __future__ import annotations

import json
from typing import Any

from bot.blocks import (
    Block,
    actions,
    button,
    context,
    divider,
    ephemeral,
    lead_message,
    notice_modal,
    plain,
    section,
    select_input,
    text_input,
    truncated,
)
from bot.core.communities import CommunityView
from bot.core.gaps import (
    QUESTION_MAX,
    GapList,
    GapView,
    Offer,
    PriorityBoard,
    PriorityView,
    Problem,
    Raised,
    Verdict,
)
from bot.core.lessons import LessonView
from bot.core.proposals import TEXT_MAX, ProposalChoices, ProposalField, ProposalView
from bot.text import escape, mention
from handlers.gaps import ids
from storage.models.gaps import STATEMENT_MAX, GapStatus, ProposalDecision

# ---- Gaps -------------------------------------------------------------------------------------

GAP_USAGE = (
    "Say what the community can't answer yet: "
    "`/doughnut gap How do we roll back a schema migration? #deploys`."
)
GAP_NO_COMMUNITY = (
    "Knowledge gaps belong to a community: run this in a community's channel "
    "(`/doughnut setup` makes one)."
)
GAP_TOO_LONG = f"Keep the question under {QUESTION_MAX} characters."
GAPS_NO_COMMUNITY = (
    "This channel is not a community: run `/doughnut gaps` in a community's channel."
)
VOTED = ":+1: Counted your +1 on “{question}” ({votes} in all)."
ALREADY_VOTED = "You already +1'd “{question}”: it counts once ({votes} in all)."
GAP_GONE = "That knowledge gap is gone."
GAP_CLOSED = "That knowledge gap is closed already."
CLOSE_REFUSED = "Only the coordinators of the gap's community can close it."
NOTE_REQUIRED = "Add a short note: what answered it, or why it is out of scope."
NOTE_TOO_LONG = "Keep the note under 1000 characters."
LINK_REFUSED = "Only the lesson's author can link it as the answer to a gap."
ALREADY_LINKED = "Your lesson is already linked as the answer to “{question}”."
LINKED = (
    ":white_check_mark: Linked *{title}* as the answer to “{question}”. "
    "The people who raised or +1'd it are told."
)
STATUS_WORDS = {
    GapStatus.OPEN: "open",
    GapStatus.ANSWERED: "answered",
    GapStatus.OUT_OF_SCOPE: "out of scope",
}


def _tags(tags: tuple[str, ...]) -> str:
    return " ".join(f"#{escape(t)}" for t in tags)


def _lesson_link(lesson: LessonView) -> str:
    title = escape(lesson.title)
    return f"<{escape(lesson.permalink)}|{title}>" if lesson.permalink else f"*{title}*"


def raise_problem(problem: Problem) -> str:
    return {
        Problem.EMPTY: GAP_USAGE,
        Problem.NO_COMMUNITY: GAP_NO_COMMUNITY,
        Problem.TOO_LONG: GAP_TOO_LONG,
    }[problem]


def raised_blocks(raised: Raised) -> tuple[str, list[Block]]:
    """What the raiser sees: the gap recorded, or the lesson that already answers it."""
    gap, community = raised.gap, raised.community
    assert gap is not None and community is not None
    question = escape(gap.question)
    if raised.known is not None:
        lesson = raised.known
        lead = f":books: Already known in the book of knowledge: “{question}”."
        blocks = [
            section(f"{_lesson_link(lesson)} by {mention(lesson.author_id)}"),
            section(f">{escape(lesson.next_time)}".replace("\n", "\n>")),
            context("Validated practice · the gap is recorded as answered by it."),
        ]
        return lead, blocks
    lead = f":question: Recorded a knowledge gap in *{escape(community.name)}*: “{question}”."
    details = ["`/doughnut gaps` lists the open ones: others can +1 or answer it."]
    if gap.tags:
        details.insert(0, f"Tags: {_tags(gap.tags)}")
    return lead, [context(" · ".join(details))]


def raised_reply(raised: Raised) -> dict[str, Any]:
    lead, blocks = raised_blocks(raised)
    return {"response_type": "ephemeral", **lead_message(lead, blocks)}


def raised_modal(raised: Raised) -> dict[str, Any]:
    lead, blocks = raised_blocks(raised)
    return {"type": "modal", "title": plain("Knowledge gap"), "close": plain("Done"),
            "blocks": [section(lead), *blocks]}  # fmt: skip


def gap_blocks(
    gap: GapView, *, may_close: bool, priorities: dict[int, str] | None = None
) -> list[Block]:
    """One gap: its question, votes, who raised it, and its buttons."""
    votes = f"{gap.votes} +1" if gap.votes != 1 else "1 +1"
    about = [votes, f"raised by {mention(gap.raised_by)}"]
    if gap.tags:
        about.append(_tags(gap.tags))
    if gap.priority_id is not None and priorities and gap.priority_id in priorities:
        about.append(f"priority: {escape(priorities[gap.priority_id])}")
    if gap.permalink:
        about.append(f"<{escape(gap.permalink)}|from this conversation>")
    value = str(gap.id)
    buttons = [
        button("+1", ids.VOTE_ACTION, value=value),
        button("I can answer", ids.ANSWER_ACTION, value=value, style="primary"),
    ]
    if may_close:
        buttons.append(button("Close", ids.CLOSE_ACTION, value=value))
    return [
        section(f"*{escape(gap.question)}*"),
        context(" · ".join(about)),
        actions(*buttons, block_id=f"gap-{gap.id}"),
    ]


def gaps_reply(found: GapList, priorities: dict[int, str] | None = None) -> dict[str, Any]:
    """`/doughnut gaps`: the community's open gaps, most voted first."""
    if found.community is None:
        return ephemeral(GAPS_NO_COMMUNITY)
    name = escape(found.community.name)
    if not found.gaps:
        raise_one = "`/doughnut gap &lt;question&gt; #tags`"
        return ephemeral(f"No open knowledge gaps in *{name}*. Raise one: {raise_one}.")
    lead = f":question: Open knowledge gaps in *{name}*, most wanted first ({found.total}):"
    blocks: list[Block] = []
    for gap in found.gaps:
        blocks += gap_blocks(gap, may_close=found.may_close, priorities=priorities)
    if found.total > len(found.gaps):
        blocks.append(context(f"_and {found.total - len(found.gaps)} more_"))
    return {"response_type": "ephemeral", **lead_message(lead, blocks)}


def vote_text(verdict: Verdict, gap: GapView | None) -> str:
    if gap is None or verdict is Verdict.NOT_FOUND:
        return GAP_GONE
    if verdict is Verdict.CLOSED:
        return GAP_CLOSED
    text = VOTED if verdict is Verdict.DONE else ALREADY_VOTED
    return text.format(question=escape(gap.question), votes=gap.votes)


def gap_refusal(verdict: Verdict) -> str:
    return {
        Verdict.NOT_FOUND: GAP_GONE,
        Verdict.NOT_ALLOWED: CLOSE_REFUSED,
        Verdict.CLOSED: GAP_CLOSED,
        Verdict.NOTE_REQUIRED: NOTE_REQUIRED,
        Verdict.NOTE_TOO_LONG: NOTE_TOO_LONG,
    }.get(verdict, GAP_GONE)


def close_modal(gap: GapView) -> dict[str, Any]:
    """A coordinator closes a gap: answered or out of scope, with a note."""
    return {
        "type": "modal",
        "callback_id": ids.CLOSE_VIEW,
        "title": plain("Close a knowledge gap"),
        "submit": plain("Close it"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"g": gap.id}),
        "blocks": [
            section(f"*{escape(gap.question)}*"),
            select_input(
                ids.CLOSE_STATUS_BLOCK, ids.FIELD_ACTION, "Why close it",
                [(GapStatus.ANSWERED.value, "It is answered"),
                 (GapStatus.OUT_OF_SCOPE.value, "It is out of scope")],
                selected=GapStatus.ANSWERED.value,
            ),
            text_input(ids.NOTE_BLOCK, ids.FIELD_ACTION, "Note", multiline=True, max_length=1000,
                       hint="What answered it, or why it is not for this community."),
        ],
    }  # fmt: skip


def read_gap_id(view: dict[str, Any]) -> int | None:
    try:
        value = json.loads(view.get("private_metadata") or "").get("g")
        return int(value) if value is not None else None
    except (ValueError, TypeError, AttributeError):
        return None


def closed_notice(gap: GapView) -> dict[str, Any]:
    status = STATUS_WORDS[gap.status]
    return notice_modal(f"Closed “{escape(gap.question)}” as *{status}*.", "Knowledge gap")


def offer_dm(offer: Offer) -> dict[str, Any]:
    """The DM offering a lesson's author to link it as the answer to an open gap."""
    gap, lesson = offer.gap, offer.lesson
    where = f" in *{escape(offer.community)}*" if offer.community else ""
    lead = (
        f":jigsaw: Your lesson *{escape(lesson.title)}* may answer a knowledge gap{where}: "
        f"“{escape(gap.question)}” ({gap.votes} +1). Link it as the answer? "
        "The people who asked are told once."
    )
    link = button("Link as the answer", ids.LINK_ACTION, value=f"{gap.id}:{lesson.id}",
                  style="primary")  # fmt: skip
    return lead_message(lead, [actions(link)])


def read_link_value(value: str) -> tuple[int, int] | None:
    gap, _, lesson = value.partition(":")
    return (int(gap), int(lesson)) if gap.isdigit() and lesson.isdigit() else None


def answered_dm(gap: GapView, lesson: LessonView) -> dict[str, Any]:
    """To the raiser and each voter, once: the gap they asked about has an answer."""
    lead = (
        f":tada: The knowledge gap you raised or +1'd has an answer: “{escape(gap.question)}”. "
        f"See {_lesson_link(lesson)} by {mention(lesson.author_id)}."
    )
    return lead_message(lead, [section(f">{escape(lesson.next_time)}".replace("\n", "\n>"))])


def link_text(verdict: Verdict, gap: GapView | None, lesson: LessonView | None) -> str:
    if verdict is Verdict.DONE and gap and lesson:
        return LINKED.format(title=escape(lesson.title), question=escape(gap.question))
    if verdict is Verdict.ALREADY and gap:
        return ALREADY_LINKED.format(question=escape(gap.question))
    if verdict is Verdict.NOT_ALLOWED:
        return LINK_REFUSED
    return GAP_GONE


def gap_modal(
    question: str,
    communities: list[tuple[str, str]],
    community_id: int | None,
    priorities: tuple[PriorityView, ...],
    metadata: dict[str, Any],
    *,
    external_id: str | None = None,
) -> dict[str, Any]:
    """Raise as a knowledge gap: the question prefilled from the message, its link kept."""
    blocks: list[Block] = []
    if metadata.get("p"):
        blocks.append(context(f"From <{escape(metadata['p'])}|this conversation>"))
    blocks += [
        text_input(ids.QUESTION_BLOCK, ids.FIELD_ACTION, "The question",
                   question[:QUESTION_MAX], multiline=True, max_length=QUESTION_MAX,
                   hint="What the community can't answer yet."),
        text_input(ids.TAGS_BLOCK, ids.FIELD_ACTION, "Tags", optional=True, max_length=500,
                   hint="Like #deploys #rollback"),
        select_input(ids.COMMUNITY_BLOCK, ids.FIELD_ACTION, "Community", communities,
                     selected=str(community_id) if community_id is not None else None),
    ]  # fmt: skip
    blocks += _priority_select(ids.PRIORITY_BLOCK, priorities, None)
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": ids.GAP_VIEW,
        "title": plain("Raise a knowledge gap"),
        "submit": plain("Raise it"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }
    if external_id:
        view["external_id"] = external_id
    return view


NO_PRIORITY = "none"


def _priority_select(
    block_id: str, priorities: tuple[PriorityView, ...], suggested: int | None
) -> list[Block]:
    if not priorities:
        return []
    options = [(NO_PRIORITY, "No priority")]
    options += [(str(p.id), p.statement[:75]) for p in priorities]
    selected = str(suggested) if suggested is not None else NO_PRIORITY
    return [select_input(block_id, ids.FIELD_ACTION, "Strategic priority", options,
                         selected=selected, optional=True,
                         hint="Which of the sponsors' priorities this serves.")]  # fmt: skip


def loading_modal(title: str, external_id: str) -> dict[str, Any]:
    return notice_modal(":hourglass_flowing_sand: One moment…", title, external_id=external_id)


NO_COMMUNITIES = "There is no community yet: `/doughnut setup` in a channel makes one."
LOADING_FAILED = (
    ":warning: Sorry, I couldn't load this form and nothing was saved. Close it and try "
    "again (reference `{reference}`)."
)
OUT_OF_DATE = "This form is out of date and nothing was saved. Try again."


# ---- Proposals --------------------------------------------------------------------------------

PROPOSE_USAGE = (
    "Say what the community learned, and the form asks what the organisation should do: "
    "`/doughnut propose Teams that rehearse rollbacks recover twice as fast`."
)
RESPOND_REFUSED = "Only the sponsors of the proposal's community can answer it."
PROPOSAL_GONE = "That proposal is gone."
DECISION_WORDS = {
    ProposalDecision.ADOPT: "Adopt",
    ProposalDecision.EXPLORE: "Explore",
    ProposalDecision.DECLINE: "Decline",
}
PROPOSAL_FIELDS = {
    ProposalField.INSIGHT: ids.INSIGHT_BLOCK,
    ProposalField.PROPOSAL: ids.PROPOSAL_BLOCK,
    ProposalField.COMMUNITY: ids.PROPOSAL_COMMUNITY_BLOCK,
}


def _multi(block_id: str, label: str, choices: tuple[Any, ...], hint: str) -> list[Block]:
    if not choices:
        return []
    options = [{"text": plain(c.label[:75] or "…"), "value": str(c.id)} for c in choices[:100]]
    element: Block = {"type": "multi_static_select", "action_id": ids.FIELD_ACTION,
                      "options": options, "placeholder": plain("Pick some")}  # fmt: skip
    return [{"type": "input", "block_id": block_id, "optional": True, "label": plain(label),
             "element": element, "hint": plain(hint)}]  # fmt: skip


def proposal_modal(
    insight: str, choices: ProposalChoices, channel_id: str | None, *, external_id: str
) -> dict[str, Any]:
    """The proposal form: insight, proposal, evidence (lessons, gaps), community, priority."""
    communities = [(str(c.id), c.label[:75]) for c in choices.communities]
    default = choices.default_community
    blocks: list[Block] = [
        text_input(ids.INSIGHT_BLOCK, ids.FIELD_ACTION, "What the community learned",
                   insight[:TEXT_MAX], multiline=True, max_length=TEXT_MAX),
        text_input(ids.PROPOSAL_BLOCK, ids.FIELD_ACTION, "What the organisation should do",
                   multiline=True, max_length=TEXT_MAX),
        *_multi(ids.EVIDENCE_LESSONS_BLOCK, "Evidence: lessons", choices.lessons,
                "The lessons this rests on."),
        *_multi(ids.EVIDENCE_GAPS_BLOCK, "Evidence: knowledge gaps", choices.gaps,
                "The open questions it answers."),
        select_input(ids.PROPOSAL_COMMUNITY_BLOCK, ids.FIELD_ACTION, "Community", communities,
                     selected=str(default) if default is not None else None,
                     hint="Its sponsors receive the proposal."),
        *_priority_select(ids.PROPOSAL_PRIORITY_BLOCK, choices.priorities,
                          choices.suggested_priority),
    ]  # fmt: skip
    return {
        "type": "modal",
        "callback_id": ids.PROPOSAL_VIEW,
        "external_id": external_id,
        "title": plain("Propose to sponsors"),
        "submit": plain("Send"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"c": channel_id}),
        "blocks": blocks,
    }


def _proposal_body(proposal: ProposalView) -> list[Block]:
    blocks = [
        section(f"*What we learned*\n{escape(proposal.insight)}"),
        section(f"*What we propose*\n{escape(proposal.proposal)}"),
    ]
    if proposal.evidence:
        items = [
            f"{'lesson' if e.kind == 'lesson' else 'gap'}: {escape(e.label[:100])}"
            for e in proposal.evidence
        ]
        blocks.append(context("Evidence: " + " · ".join(items)))
    return blocks


def sponsor_dm(proposal: ProposalView, community: CommunityView) -> dict[str, Any]:
    """To each sponsor: the proposal, with Acknowledge and Respond."""
    lead = (
        f":envelope_with_arrow: {mention(proposal.proposed_by)} sends a proposal from "
        f"*{escape(community.name)}* to you, its sponsor."
    )
    value = str(proposal.id)
    buttons = actions(
        button("Acknowledge", ids.ACKNOWLEDGE_ACTION, value=value),
        button("Respond", ids.RESPOND_ACTION, value=value, style="primary"),
    )
    return lead_message(lead, [*_proposal_body(proposal), buttons])


def channel_proposal(proposal: ProposalView, community: CommunityView) -> dict[str, Any]:
    """The community channel sees the proposal."""
    sponsors = ", ".join(mention(s) for s in community.sponsors)
    lead = (
        f":envelope_with_arrow: {mention(proposal.proposed_by)} proposed to the sponsors of "
        f"*{escape(community.name)}* ({sponsors})."
    )
    return lead_message(lead, _proposal_body(proposal))


def _decided_line(proposal: ProposalView) -> str:
    assert proposal.decision and proposal.decided_by and proposal.decided_at
    return (
        f"Decided by {mention(proposal.decided_by)} on {proposal.decided_at:%Y-%m-%d}: "
        f"*{DECISION_WORDS[proposal.decision]}*"
    )


def channel_answer(proposal: ProposalView, community: CommunityView) -> dict[str, Any]:
    """The community channel sees the sponsor's answer, with who decided what, when."""
    assert proposal.decision is not None and proposal.decided_by is not None
    lead = (
        f":white_check_mark: {mention(proposal.decided_by)} answered the proposal from "
        f"{mention(proposal.proposed_by)} in *{escape(community.name)}*: "
        f"*{DECISION_WORDS[proposal.decision]}*."
    )
    return lead_message(
        lead,
        [
            section(f">{escape(proposal.response or '')}".replace("\n", "\n>")),
            context(f"The proposal: {escape(proposal.proposal[:300])}"),
            context(_decided_line(proposal)),
        ],
    )


def acknowledged_text(proposal: ProposalView, by_user: str) -> str:
    return (
        f":eyes: {mention(by_user)} acknowledged your proposal: "
        f"“{escape(proposal.proposal[:300])}”. An answer follows."
    )


def proposal_refusal(verdict: Verdict, proposal: ProposalView | None) -> str:
    if verdict is Verdict.NOT_ALLOWED:
        return RESPOND_REFUSED
    if verdict is Verdict.ALREADY and proposal is not None:
        if proposal.decision is not None:
            return f"This proposal is answered already. {_decided_line(proposal)}."
        return "You or another sponsor acknowledged it already; Respond answers it."
    return PROPOSAL_GONE


def respond_modal(proposal: ProposalView, *, on_home: bool = False) -> dict[str, Any]:
    """The sponsor's answer; from the Home tab, the tab is refreshed once it is answered."""
    options = [(d.value, DECISION_WORDS[d]) for d in ProposalDecision]
    metadata: dict[str, Any] = {"pr": proposal.id, "home": True} if on_home else {"pr": proposal.id}
    return {
        "type": "modal",
        "callback_id": ids.RESPOND_VIEW,
        "title": plain("Answer a proposal"),
        "submit": plain("Answer"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps(metadata),
        "blocks": [
            *_proposal_body(proposal),
            select_input(ids.DECISION_BLOCK, ids.FIELD_ACTION, "Decision", options),
            text_input(ids.MESSAGE_BLOCK, ids.FIELD_ACTION, "Your message to the community",
                       multiline=True, max_length=TEXT_MAX),
        ],
    }  # fmt: skip


def read_proposal_id(view: dict[str, Any]) -> int | None:
    try:
        value = json.loads(view.get("private_metadata") or "").get("pr")
        return int(value) if value is not None else None
    except (ValueError, TypeError, AttributeError):
        return None


def opened_from_home(view: dict[str, Any]) -> bool:
    try:
        return json.loads(view.get("private_metadata") or "{}").get("home") is True
    except (ValueError, AttributeError):
        return False


def read_channel(view: dict[str, Any]) -> str | None:
    try:
        value = json.loads(view.get("private_metadata") or "").get("c")
        return value if isinstance(value, str) else None
    except (ValueError, TypeError, AttributeError):
        return None


def sent_modal(proposal: ProposalView, community: CommunityView) -> dict[str, Any]:
    sponsors = ", ".join(mention(s) for s in community.sponsors)
    text = f":envelope_with_arrow: Sent to the sponsors of *{escape(community.name)}*: {sponsors}."
    return notice_modal(text, "Proposal sent")


def answered_notice(proposal: ProposalView) -> dict[str, Any]:
    return notice_modal(
        f"Answered: *{DECISION_WORDS[proposal.decision]}*. The community channel sees it."
        if proposal.decision
        else "Answered.",
        "Proposal",
    )


# ---- Priorities -------------------------------------------------------------------------------

PRIORITIES_NO_COMMUNITY = (
    "This channel is not a community: run `/doughnut priorities` in a community's channel."
)
PRIORITIES_REFUSED = "Only the community's sponsors set its strategic priorities."


def priorities_reply(board: PriorityBoard) -> dict[str, Any]:
    """`/doughnut priorities` for everyone: the list."""
    if board.community is None:
        return ephemeral(PRIORITIES_NO_COMMUNITY)
    name = escape(board.community.name)
    if not board.priorities:
        return ephemeral(f"*{name}* has no strategic priorities yet: its sponsors set them.")
    lead = f":dart: The strategic priorities of *{name}*:"
    blocks = [section(_priority_line(p)) for p in board.priorities]
    return {"response_type": "ephemeral", **lead_message(lead, blocks)}


def _priority_line(priority: PriorityView) -> str:
    tags = f" {_tags(priority.tags)}" if priority.tags else ""
    return f"• {escape(priority.statement)}{tags}"


def priorities_modal(board: PriorityBoard) -> dict[str, Any]:
    """Sponsors set the priorities: one a line, with #tags."""
    assert board.community is not None
    current = "\n".join(
        " ".join([p.statement, *(f"#{t}" for t in p.tags)]) for p in board.priorities
    )
    return {
        "type": "modal",
        "callback_id": ids.PRIORITIES_VIEW,
        "title": plain("Strategic priorities"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"co": board.community.id}),
        "blocks": [
            section(f"The priorities of *{escape(board.community.name)}*, in the "
                    "organisation's terms: gaps, lessons and proposals link to them."),
            text_input(ids.PRIORITIES_BLOCK, ids.FIELD_ACTION, "One a line, with #tags",
                       current, multiline=True, optional=True,
                       max_length=6 * (STATEMENT_MAX + 100),
                       hint="Like: Halve the time to restore service #incidents #rollback"),
        ],
    }  # fmt: skip


def read_community_id(view: dict[str, Any]) -> int | None:
    try:
        value = json.loads(view.get("private_metadata") or "").get("co")
        return int(value) if value is not None else None
    except (ValueError, TypeError, AttributeError):
        return None


def priorities_saved(priorities: tuple[PriorityView, ...]) -> dict[str, Any]:
    if not priorities:
        return notice_modal("Saved: no strategic priorities.", "Strategic priorities")
    lines = "\n".join(_priority_line(p) for p in priorities)
    return notice_modal(f"Saved:\n{lines}", "Strategic priorities")


# ---- The Home tab -----------------------------------------------------------------------------

HOME_INTRO = "the knowledge gaps of your communities and the proposals waiting for you"


def home_section(
    gaps: tuple[GapView, ...],
    total: int,
    proposals: tuple[ProposalView, ...],
    room: int,
) -> list[Block]:
    """Proposals awaiting this sponsor's answer (with Respond), then the open gaps."""
    blocks: list[Block] = []
    if proposals and room >= 4:
        items = []
        for proposal in proposals:
            items.append(
                section(
                    f"{escape(proposal.proposal[:300])} · from {mention(proposal.proposed_by)} "
                    f"on {proposal.created_at:%Y-%m-%d}",
                    accessory=button("Respond", ids.RESPOND_ACTION, value=str(proposal.id)),
                )
            )
        share = room // 2 if gaps else room
        head = [divider(), section("*Proposals waiting for your answer*")]
        blocks += [*head, *truncated(items, share - len(head))]
    left = room - len(blocks)
    if gaps and left >= 3:
        head = [divider(), section(f"*Open knowledge gaps* ({total})")]
        items = [section(f"*{escape(g.question)}* · {g.votes} +1") for g in gaps]
        if total > len(gaps):
            items.append(context("`/doughnut gaps` in the community's channel lists them all."))
        blocks += [*head, *truncated(items, left - len(head))]
    return blocks
