"""Which workspace this installation serves: decided by Slack (`auth.test`), never by a payload."""

from __future__ import annotations

from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

# auth.test errors that no retry will mend: the token itself is wrong.
TOKEN_REJECTED = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)


class TokenRejected(Exception):
    """Slack says the bot token is not valid (one line, no token in it)."""


@dataclass(frozen=True)
class Installation:
    """The workspace (or Enterprise Grid org) the bot token belongs to."""

    team_id: str | None
    enterprise_id: str | None
    bot_user_id: str | None
    bot_id: str | None
    is_enterprise_install: bool = False
    # The workspace's own token (OAuth installs); None when the app's one token serves.
    bot_token: str | None = field(default=None, repr=False, compare=False)

    def serves(self, team_id: str | None, enterprise_id: str | None) -> bool:
        """Is a request from this team (and enterprise) one this installation serves?"""
        if self.is_enterprise_install:
            return enterprise_id is not None and enterprise_id == self.enterprise_id
        if team_id is None or team_id != self.team_id:
            return False
        return (
            enterprise_id is None
            or self.enterprise_id is None
            or (enterprise_id == self.enterprise_id)
        )


async def identify(client: AsyncWebClient) -> Installation:
    """Ask Slack whose token this is; `TokenRejected` when Slack refuses it.

    Network failures and Slack's passing errors propagate: the caller retries them.
    """
    try:
        who = await client.auth_test()
    except SlackApiError as error:
        reason = str(error.response.get("error") or "unknown_error")
        if reason in TOKEN_REJECTED:
            raise TokenRejected(f"Slack refused SLACK_BOT_TOKEN: {reason}") from None
        raise
    return Installation(
        team_id=who.get("team_id"),
        enterprise_id=who.get("enterprise_id") or None,
        bot_user_id=who.get("user_id"),
        bot_id=who.get("bot_id"),
        is_enterprise_install=bool(who.get("is_enterprise_install")),
    )


def why_not_served(
    installation: Installation | None, teams: list[str | None], enterprise_id: str | None
) -> str | None:
    """Why a request's workspaces are not all this installation's (for the log), or None."""
    if installation is None:
        return "the installation is not known yet"
    for team_id in teams:
        if not installation.serves(team_id, enterprise_id):
            return f"team {team_id!r:.24} (enterprise {enterprise_id!r:.24}) is not served here"
    return None
