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


def may_see_ledger(community: CommunityView | None, user_id: str) -> bool:
    """The community's contribution ledger (`/doughnut report`): its coordinators and sponsors."""
    return leads(community, user_id)
