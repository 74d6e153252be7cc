"""Community rules, without Slack: who may set up or edit a community."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.communities import SetupVerdict, setup_verdict
from storage.models import Community, Role, RoleName

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def community_coordinated_by(user_id: str) -> Community:
    return Community(
        workspace_id=1,
        channel_id="C1",
        name="SRE",
        timezone="UTC",
        created_by=user_id,
        created_at=NOW,
        updated_at=NOW,
        roles=[Role(workspace_id=1, user_id=user_id, role=RoleName.COORDINATOR)],
    )


def test_a_channel_without_a_community_can_be_set_up_by_anyone() -> None:
    assert setup_verdict(None, "U2", editing=False) is SetupVerdict.CREATE


def test_only_coordinators_edit_and_only_through_an_edit_form() -> None:
    sre = community_coordinated_by("U1")

    assert setup_verdict(sre, "U1", editing=True) is SetupVerdict.EDIT
    assert setup_verdict(sre, "U1", editing=False) is SetupVerdict.ALREADY_A_COMMUNITY
    assert setup_verdict(sre, "U2", editing=True) is SetupVerdict.COORDINATORS_ONLY
    assert setup_verdict(sre, "U2", editing=False) is SetupVerdict.COORDINATORS_ONLY
