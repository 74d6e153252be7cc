"""Roles' text: pure builders, frozen dataclasses in, dicts out."""

from __future__ import annotations

from typing import Any

from bot.blocks import Block, ephemeral, lead_message, section, truncated
from bot.core.roles import (
    BY_CLI,
    CommunityRoles,
    GrantResult,
    GrantVerdict,
    RoleHolder,
    RolesList,
    RolesVerdict,
    SupportTeam,
)
from bot.text import channel_link, escape, mention

USAGE = (
    "`/doughnut roles` lists the roles of this channel's community, `/doughnut roles all` every "
    "community's. The support team: `/doughnut roles grant-support @person` (or "
    "`revoke-support`). Coordinators change a community's roles with `/doughnut setup`."
)
NO_COMMUNITY = (
    "This channel is not a community: `/doughnut roles all` lists every community's roles, "
    "and `/doughnut setup` makes this channel one."
)
GRANT_USAGE = "Name one person: `/doughnut roles {verb} @person`."
SUPPORT_ONLY = (
    "Only the support team (workspace admins and owners, and those they granted it) can "
    "grant or revoke it. Ask one of them."
)
GRANTED = "{who} is now on the support team: `/doughnut stats all` shows them every community."
ALREADY = "{who} is already on the support team: nothing changed."
REVOKED = "{who} is no longer on the support team."
NOT_GRANTED = "{who} was not granted the support team: nothing changed."
STILL_ADMIN = (
    "{who} is a workspace admin or owner, so stays on the support team whatever is granted."
)
TOLD = (
    "{by} added you to Doughnut's support team: `/doughnut stats all` shows every community's "
    "health side by side, and which are quiet or lack a coordinator, reviewer or sponsor."
)
LABELS = {"coordinator": "Coordinators", "reviewer": "Reviewers", "sponsor": "Sponsors"}
SHOWN = 40


def who(user_id: str) -> str:
    return mention(user_id)


def holder(h: RoleHolder) -> str:
    since = f"since {h.since.date().isoformat()}" if h.since else "since before records"
    if h.granted_by == BY_CLI:
        by = ", from the command line"
    elif h.granted_by:
        by = f", by {mention(h.granted_by)}"
    else:
        by = ""
    return f"{mention(h.user_id)} ({since}{by})"


def community_text(roles: CommunityRoles) -> str:
    head = f"*{escape(roles.name)}* ({channel_link(roles.channel_id)})"
    lines = [head]
    for role, label in LABELS.items():
        held = roles.of(role)
        lines.append(f"{label}: " + (", ".join(holder(h) for h in held) or "nobody yet"))
    return "\n".join(lines)


def support_text(team: SupportTeam) -> str:
    admins = ", ".join(mention(u) for u in team.admins) or "none known yet"
    granted = ", ".join(holder(h) for h in team.granted) or "nobody yet"
    return f"*Support team*\nWorkspace admins and owners: {admins}\nGranted: {granted}"


def roles_answer(listed: RolesList) -> dict[str, Any]:
    if listed.verdict is RolesVerdict.NO_COMMUNITY:
        return ephemeral(NO_COMMUNITY)
    texts = [community_text(c) for c in listed.communities]
    if listed.support is not None:
        if not texts:
            texts.append("No community yet: `/doughnut setup` in a channel makes one.")
        texts.append(support_text(listed.support))
    blocks: list[Block] = truncated([section(t) for t in texts], SHOWN)
    return ephemeral("\n\n".join(texts), blocks)


def grant_answer(result: GrantResult) -> dict[str, Any]:
    messages = {
        GrantVerdict.GRANTED: GRANTED,
        GrantVerdict.ALREADY: ALREADY,
        GrantVerdict.REVOKED: REVOKED,
        GrantVerdict.NOT_GRANTED: NOT_GRANTED,
        GrantVerdict.STILL_ADMIN: STILL_ADMIN,
        GrantVerdict.NOT_ALLOWED: SUPPORT_ONLY,
    }
    return ephemeral(messages[result.verdict].format(who=who(result.user_id)))


def told_of_support(by_user: str) -> dict[str, Any]:
    """The DM to someone just granted the support team."""
    by = "The command line" if by_user == BY_CLI else mention(by_user)
    return lead_message(TOLD.format(by=by), [])
