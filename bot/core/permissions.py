"""Who may do what: every permission rule of the capabilities, in one place.

Each rule is a pure function of plain data (a `CommunityView`, who is asking), so a surface
asks here and shows the refusal the rule names; nothing else decides.
"""

from __future__ import annotations

from bot.core.communities import CommunityView


def is_coordinator(community: CommunityView | None, user_id: str) -> bool:
    return community is not None and user_id in community.coordinators


def is_sponsor(community: CommunityView | None, user_id: str) -> bool:
    return community is not None and user_id in community.sponsors


def is_reviewer(community: CommunityView | None, user_id: str) -> bool:
    return community is not None and user_id in community.reviewers


def leads(community: CommunityView | None, user_id: str) -> bool:
    """Coordinators and sponsors: they see the community's ledger and its health."""
    return is_coordinator(community, user_id) or is_sponsor(community, user_id)


def may_steer_assist(
    requesters: tuple[str, ...], community: CommunityView | None, user_id: str
) -> bool:
    """A peer assist's requesters, and its community's coordinators, pick its helpers and
    change its state (done, cancelled); others are refused."""
    return user_id in requesters or is_coordinator(community, user_id)


def may_close_gap(community: CommunityView | None, user_id: str) -> bool:
    """Closing a knowledge gap (answered, out of scope) is the coordinators' call."""
    return is_coordinator(community, user_id)


def may_set_priorities(community: CommunityView | None, user_id: str) -> bool:
    """A community's strategic priorities are set by its sponsors."""
    return is_sponsor(community, user_id)


def may_answer_proposal(community: CommunityView | None, user_id: str) -> bool:
    """Only the sponsors of a proposal's community acknowledge and answer it."""
    return is_sponsor(community, user_id)
