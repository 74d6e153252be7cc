"""Who may do what: every permission rule of the capabilities, in one place.

Each rule is a pure function of plain data (a `CommunityView`, who is asking, what the member
cache says), so a surface asks here and shows the refusal the rule names; nothing else decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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


def may_edit(community: CommunityView | None, user_id: str) -> bool:
    """Only a community's coordinators may change it (its setup, its roles)."""
    return is_coordinator(community, user_id)


def may_review(community: CommunityView | None, user_id: str) -> bool:
    """Only the reviewers and coordinators of a lesson's community decide on it."""
    return is_reviewer(community, user_id) or is_coordinator(community, user_id)


# ---- The workspace: its admins and owners, and the support team --------------------------------


def is_workspace_admin(user: Mapping[str, Any]) -> bool:
    """Slack's own flags on a user (`users.info`, or the member cache): an admin or an owner."""
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


def may_change_settings(user: Mapping[str, Any]) -> bool:
    """The workspace's settings (the idea reaction) are its admins' and owners' to change."""
    return is_workspace_admin(user)


@dataclass(frozen=True)
class Support:
    """Why someone is on the workspace's support team, if they are: the member cache says they
    are an admin or owner, or one of the team granted it (`support_grants`)."""

    user_id: str
    admin: bool = False
    granted: bool = False

    @property
    def member(self) -> bool:
        return self.admin or self.granted


def is_support(support: Support | None) -> bool:
    """The support team (internal consultants who coach community leaders across the
    initiative): workspace admins and owners, and those granted it."""
    return support is not None and support.member


def may_grant_support(support: Support | None) -> bool:
    """Only the support team grants (or revokes) the support team."""
    return is_support(support)


def may_see_health(
    community: CommunityView | None, user_id: str, support: Support | None = None
) -> bool:
    """A community's health: its coordinators and sponsors, and the support team."""
    return leads(community, user_id) or is_support(support)


def may_see_all_health(support: Support | None) -> bool:
    """Every community's health side by side (`/doughnut stats all`): the support team only."""
    return is_support(support)


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


def may_see_ledger(community: CommunityView | None, user_id: str) -> bool:
    """The community's contribution ledger (`/doughnut report`): its coordinators and sponsors."""
    return leads(community, user_id)
