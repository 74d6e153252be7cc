"""Community rules, without Slack: who may set up or edit a community, which timezone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.communities import (
    CommunityView,
    SetupField,
    SetupForm,
    SetupVerdict,
    setup_verdict,
    validate_setup,
    view_of,
)
from bot.timezones import is_known_timezone, suggest_timezones
from storage.models import Community, Role, RoleName

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def community_coordinated_by(user_id: str) -> CommunityView:
    # The rules see what the service reads: the plain view of a stored community.
    return view_of(
        Community(
            workspace_id=1,
            channel_id="C1",
            name="SRE",
            timezone="UTC",
            created_by=user_id,
            created_at=NOW,
            updated_at=NOW,
            roles=[Role(workspace_id=1, user_id=user_id, role=RoleName.COORDINATOR)],
        )
    )


def test_a_channel_without_a_community_can_be_set_up_by_anyone() -> None:
    assert setup_verdict(None, "U2", editing=False) is SetupVerdict.CREATE


def test_only_coordinators_edit_and_only_through_an_edit_form() -> None:
    sre = community_coordinated_by("U1")

    assert setup_verdict(sre, "U1", editing=True) is SetupVerdict.EDIT
    assert setup_verdict(sre, "U1", editing=False) is SetupVerdict.ALREADY_A_COMMUNITY
    assert setup_verdict(sre, "U2", editing=True) is SetupVerdict.COORDINATORS_ONLY
    assert setup_verdict(sre, "U2", editing=False) is SetupVerdict.COORDINATORS_ONLY


@pytest.mark.parametrize(
    "name",
    [
        "Europe",
        "America",
        "America/Argentina",
        "x" * 300,
        "é" * 200,  # over 255 bytes, not characters
        "Europe/Paris\x00",
        "\x00",
        "..",
        "../../etc/passwd",
        "/usr/share/zoneinfo/Europe/Paris",
        "Europe/../Europe/Paris",
        " Europe/Paris",
        "",
        "europe/paris",
    ],
)
def test_any_string_is_a_zone_or_not_never_an_exception(name: str) -> None:
    assert is_known_timezone(name) is False
    validate_setup(SetupForm(name="SRE", description="", timezone=name, coordinators=["U1"]))


def test_zone_names_are_known() -> None:
    assert all(is_known_timezone(tz) for tz in ("UTC", "Europe/Paris", "America/New_York"))


@pytest.mark.parametrize(
    "typed, closest",
    [
        ("Europe", "Europe/London"),
        ("america", "America/New_York"),
        ("europe/paris", "Europe/Paris"),
        ("Berlin", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("Amercia/New_Yrok", "America/New_York"),
    ],
)
def test_a_typo_is_offered_the_closest_zones(typed: str, closest: str) -> None:
    assert suggest_timezones(typed)[0] == closest
    assert (
        closest
        in validate_setup(
            SetupForm(name="SRE", description="", timezone=typed, coordinators=["U1"])
        )[SetupField.TIMEZONE]
    )
