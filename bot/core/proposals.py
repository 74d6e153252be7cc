"""Proposals to sponsors: an insight (what the community learned) turned into a proposal (what
the organisation should do), resting on lessons and gaps, sent to the community's sponsors.

`open` → `acknowledged` → `answered` (adopt, explore or decline, with a message). Only the
community's sponsors acknowledge and answer, and who decided what, when, is kept on the proposal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core import permissions
from bot.core.communities import CommunityView
from bot.core.communities import view_of as community_view
from bot.core.gaps import PriorityView, Verdict, _priorities, suggest_priority
from storage import communities as community_queries
from storage import gaps as queries
from storage import lessons as lesson_queries
from storage.lessons import Viewer
from storage.models import Community, Lesson
from storage.models.gaps import Gap, Proposal, ProposalDecision, ProposalStatus

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.unit_of_work import UnitOfWork

TEXT_MAX = 2000
MESSAGE_MAX = 2000
EVIDENCE_CHOICES = 50


@dataclass(frozen=True)
class Evidence:
    kind: str  # "lesson" or "gap"
    id: int
    label: str


@dataclass(frozen=True)
class ProposalView:
    id: int
    community_id: int
    insight: str
    proposal: str
    proposed_by: str
    status: ProposalStatus
    priority_id: int | None
    created_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    decision: ProposalDecision | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    response: str | None = None
    evidence: tuple[Evidence, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status in queries.OPEN_PROPOSALS


def proposal_view(proposal: Proposal, evidence: tuple[Evidence, ...] = ()) -> ProposalView:
    return ProposalView(
        id=proposal.id, community_id=proposal.community_id, insight=proposal.insight,
        proposal=proposal.proposal, proposed_by=proposal.proposed_by, status=proposal.status,
        priority_id=proposal.priority_id, created_at=proposal.created_at,
        acknowledged_by=proposal.acknowledged_by, acknowledged_at=proposal.acknowledged_at,
        decision=proposal.decision, decided_by=proposal.decided_by,
        decided_at=proposal.decided_at, response=proposal.response, evidence=evidence,
    )  # fmt: skip


@dataclass(frozen=True)
class ProposalForm:
    insight: str
    proposal: str
    community_id: int | None
    lesson_ids: tuple[int, ...] = ()
    gap_ids: tuple[int, ...] = ()
    priority_id: int | None = None


class ProposalField:
    INSIGHT = "insight"
    PROPOSAL = "proposal"
    COMMUNITY = "community"


def validate_proposal(form: ProposalForm) -> dict[str, str]:
    errors = {}
    if not form.insight.strip():
        errors[ProposalField.INSIGHT] = "Say what the community learned."
    elif len(form.insight) > TEXT_MAX:
        errors[ProposalField.INSIGHT] = f"Keep this under {TEXT_MAX} characters."
    if not form.proposal.strip():
        errors[ProposalField.PROPOSAL] = "Say what the organisation should do about it."
    elif len(form.proposal) > TEXT_MAX:
        errors[ProposalField.PROPOSAL] = f"Keep this under {TEXT_MAX} characters."
    if form.community_id is None:
        errors[ProposalField.COMMUNITY] = "Pick the community whose sponsors should answer."
    return errors


NO_SPONSOR = (
    "This community has no sponsor yet: ask a coordinator to name one with `/doughnut setup`."
)


@dataclass(frozen=True)
class Choice:
    id: int
    label: str


@dataclass(frozen=True)
class ProposalChoices:
    """What the proposal form offers: communities (the channel's first), evidence, priorities."""

    communities: tuple[Choice, ...]
    default_community: int | None
    lessons: tuple[Choice, ...] = ()
    gaps: tuple[Choice, ...] = ()
    priorities: tuple[PriorityView, ...] = ()
    suggested_priority: int | None = None


async def form_choices(
    uow: UnitOfWork, channel_id: str | None, user_id: str, insight: str
) -> ProposalChoices:
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return ProposalChoices((), None)
        found = await community_queries.communities_of_workspace(session, workspace.id)
        default = next((c.id for c in found if c.channel_id == channel_id), None)
        lessons = await lesson_queries.search(
            session, workspace.id, [], Viewer(user_id, channel_id), limit=EVIDENCE_CHOICES
        )
        gaps = await queries.open_gaps(
            session, workspace.id, [c.id for c in found], limit=EVIDENCE_CHOICES
        )
        priorities = await _priorities(session, workspace.id, default) if default else ()
    return ProposalChoices(
        tuple(Choice(c.id, c.name) for c in found),
        default,
        tuple(Choice(lesson.id, lesson.title) for lesson in lessons),
        tuple(Choice(gap.id, gap.question) for gap in gaps),
        priorities,
        suggest_priority(priorities, insight, ()),
    )


@dataclass(frozen=True)
class Submitted:
    proposal: ProposalView | None
    errors: dict[str, str] = field(default_factory=dict)
    community: CommunityView | None = None


async def submit_proposal(uow: UnitOfWork, user_id: str, form: ProposalForm) -> Submitted:
    """Store a proposal for the community's sponsors (who are then told by the caller)."""
    errors = validate_proposal(form)
    if errors:
        return Submitted(None, errors)
    workspace = await uow.workspace()
    session = await uow.session()
    community = await session.get(Community, form.community_id)
    if community is None or community.workspace_id != workspace.id:
        return Submitted(None, {ProposalField.COMMUNITY: "Pick one of the communities listed."})
    view = community_view(community)
    if not view.sponsors:
        return Submitted(None, {ProposalField.COMMUNITY: NO_SPONSOR})
    priorities = await _priorities(session, workspace.id, community.id)
    priority_id = form.priority_id
    if priority_id not in {p.id for p in priorities}:
        priority_id = suggest_priority(priorities, f"{form.insight} {form.proposal}", ())
    evidence = await _evidence(session, workspace.id, form.lesson_ids, form.gap_ids)
    proposal = await queries.add_proposal(
        session,
        Proposal(
            workspace_id=workspace.id, community_id=community.id, insight=form.insight.strip(),
            proposal=form.proposal.strip(), proposed_by=user_id, status=ProposalStatus.OPEN,
            priority_id=priority_id, created_at=uow.deps.clock.now(),
        ),
        [(e.kind, e.id) for e in evidence],
    )  # fmt: skip
    return Submitted(proposal_view(proposal, evidence), community=view)


async def _evidence(
    session: AsyncSession, workspace_id: int, lesson_ids: tuple[int, ...], gap_ids: tuple[int, ...]
) -> tuple[Evidence, ...]:
    """The picked lessons and gaps that exist in this workspace, with what to show of them."""
    found: list[Evidence] = []
    for lesson_id in dict.fromkeys(lesson_ids):
        lesson = await session.get(Lesson, lesson_id)
        if lesson is not None and lesson.workspace_id == workspace_id:
            found.append(Evidence("lesson", lesson.id, lesson.title))
    for gap_id in dict.fromkeys(gap_ids):
        gap = await session.get(Gap, gap_id)
        if gap is not None and gap.workspace_id == workspace_id:
            found.append(Evidence("gap", gap.id, gap.question))
    return tuple(found)


async def _load(
    session: AsyncSession, workspace_id: int, proposal_id: int
) -> tuple[Proposal | None, CommunityView | None]:
    proposal = await queries.proposal_by_id(session, workspace_id, proposal_id)
    if proposal is None:
        return None, None
    community = await session.get(Community, proposal.community_id)
    return proposal, community_view(community) if community is not None else None


async def _with_evidence(session: AsyncSession, proposal: Proposal) -> ProposalView:
    rows = await queries.evidence_of(session, proposal.id)
    found = await _evidence(
        session,
        proposal.workspace_id,
        tuple(r.item_id for r in rows if r.kind == "lesson"),
        tuple(r.item_id for r in rows if r.kind == "gap"),
    )
    return proposal_view(proposal, found)


@dataclass(frozen=True)
class Decided:
    verdict: Verdict
    proposal: ProposalView | None = None
    community: CommunityView | None = None


async def may_respond(uow: UnitOfWork, proposal_id: int, user_id: str) -> Decided:
    """Whether this person may answer this proposal (asked when Respond is clicked)."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return Decided(Verdict.NOT_FOUND)
        proposal, community = await _load(session, workspace.id, proposal_id)
        if proposal is None:
            return Decided(Verdict.NOT_FOUND)
        view = await _with_evidence(session, proposal)
        if not permissions.may_answer_proposal(community, user_id):
            return Decided(Verdict.NOT_ALLOWED, view, community)
        if not view.is_open:
            return Decided(Verdict.ALREADY, view, community)
        return Decided(Verdict.DONE, view, community)


async def acknowledge(uow: UnitOfWork, proposal_id: int, user_id: str) -> Decided:
    """A sponsor says they have read it (once; an answered proposal stays answered)."""
    workspace = await uow.workspace()
    session = await uow.session()
    proposal, community = await _load(session, workspace.id, proposal_id)
    if proposal is None:
        return Decided(Verdict.NOT_FOUND)
    if not permissions.may_answer_proposal(community, user_id):
        return Decided(Verdict.NOT_ALLOWED, proposal_view(proposal), community)
    if proposal.status is not ProposalStatus.OPEN:
        return Decided(Verdict.ALREADY, proposal_view(proposal), community)
    proposal.status = ProposalStatus.ACKNOWLEDGED
    proposal.acknowledged_by = user_id
    proposal.acknowledged_at = uow.deps.clock.now()
    await session.flush()
    return Decided(Verdict.DONE, proposal_view(proposal), community)


async def respond(
    uow: UnitOfWork, proposal_id: int, user_id: str, decision: ProposalDecision | None, message: str
) -> Decided:
    """A sponsor answers: adopt, explore or decline, with a message; kept with who and when."""
    workspace = await uow.workspace()
    session = await uow.session()
    proposal, community = await _load(session, workspace.id, proposal_id)
    if proposal is None:
        return Decided(Verdict.NOT_FOUND)
    if not permissions.may_answer_proposal(community, user_id):
        return Decided(Verdict.NOT_ALLOWED, proposal_view(proposal), community)
    if proposal.status not in queries.OPEN_PROPOSALS:
        return Decided(Verdict.ALREADY, proposal_view(proposal), community)
    if decision is None or not message.strip():
        return Decided(Verdict.NOTE_REQUIRED, proposal_view(proposal), community)
    if len(message) > MESSAGE_MAX:
        return Decided(Verdict.NOTE_TOO_LONG, proposal_view(proposal), community)
    proposal.status = ProposalStatus.ANSWERED
    proposal.decision = decision
    proposal.decided_by = user_id
    proposal.decided_at = uow.deps.clock.now()
    proposal.response = message.strip()
    await session.flush()
    return Decided(Verdict.DONE, await _with_evidence(session, proposal), community)


async def get_proposal(uow: UnitOfWork, proposal_id: int) -> ProposalView | None:
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return None
        proposal = await queries.proposal_by_id(session, workspace.id, proposal_id)
        return await _with_evidence(session, proposal) if proposal is not None else None


async def open_proposals(
    session: AsyncSession, workspace_id: int, community_id: int
) -> tuple[ProposalView, ...]:
    """A community's proposals still waiting for an answer, oldest first (the monthly sponsor
    digest calls this)."""
    found = await queries.open_proposals(session, workspace_id, [community_id])
    return tuple(map(proposal_view, found))


async def awaiting(uow: UnitOfWork, user_id: str, *, shown: int = 5) -> tuple[ProposalView, ...]:
    """The open proposals of the communities this person sponsors (their Home tab)."""
    async with uow.reading() as (session, workspace):
        if workspace is None:
            return ()
        found = await community_queries.communities_of_workspace(session, workspace.id)
        mine = [c.id for c in found if permissions.is_sponsor(community_view(c), user_id)]
        rows = await queries.open_proposals(session, workspace.id, mine, limit=shown)
        return tuple(map(proposal_view, rows))
