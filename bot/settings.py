"""Settings from the environment and `.env`, read when asked for, never at import."""

from __future__ import annotations

import logging
import sqlite3
from typing import Literal

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

SLACK_API_URL = "https://slack.com/api/"
# Prometheus' own default port; /metrics is never served on the Slack-facing port.
DEFAULT_METRICS_PORT = 9090


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


class Settings(BaseSettings):
    """Doughnut's configuration (see README: Configuration)."""

    # An empty value (`SLACK_APP_TOKEN=` in .env.example or compose) means unset.
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        env_ignore_empty=True,
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    # Where Slack sends the installer back; unset: the app's one Redirect URL (OAuth & Permissions).
    slack_redirect_uri: str | None = None
    slack_api_url: AnyHttpUrl = Field(default=AnyHttpUrl(SLACK_API_URL))
    database_url: str = "sqlite+aiosqlite:///doughnut.db"
    doughnut_port: int = Field(default=3000, ge=0, le=65535)
    # 0 turns /metrics off.
    doughnut_metrics_port: int = Field(default=DEFAULT_METRICS_PORT, ge=0, le=65535)
    doughnut_timezone: str = "UTC"
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        # Caught here, not at the first request; the token itself is never echoed.
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError(
                "not a bot token (it starts with xoxb-; see OAuth & Permissions in the app's "
                "settings)"
            )
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError(
                "not an app-level token (it starts with xapp-; see Basic Information → "
                "App-Level Tokens)"
            )
        return value

    @field_validator("doughnut_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from bot.timezones import is_known_timezone

        try:
            known = is_known_timezone(value)
        except Exception:  # e.g. "Europe" names a folder of the zoneinfo database
            known = False
        if not known:
            raise ValueError(f"unknown timezone {value!r} (use an IANA name like Europe/Paris)")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        value = value.upper()
        if value not in logging.getLevelNamesMapping():
            raise ValueError(f"unknown log level {value!r}")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_way_to_install(self) -> Settings:
        # Bolt would pick one of the two silently (the store wins and the token is dropped).
        if self.slack_client_id and self.slack_bot_token:
            raise ValueError(
                "SLACK_BOT_TOKEN: leave it unset when SLACK_CLIENT_ID is set (OAuth installs "
                "bring a token per workspace); set one or the other"
            )
        if bool(self.slack_client_id) != bool(self.slack_client_secret):
            given, missing = "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"
            if not self.slack_client_id:
                given, missing = missing, given
            raise ValueError(
                f"{given}: is set but {missing} is not; installing through OAuth needs both "
                "(Basic Information → App Credentials)"
            )
        return self

    @model_validator(mode="after")
    def _ports_differ(self) -> Settings:
        if self.doughnut_metrics_port and self.doughnut_metrics_port == self.doughnut_port:
            raise ValueError(
                "DOUGHNUT_METRICS_PORT: must differ from DOUGHNUT_PORT (metrics stay off the "
                "Slack-facing port; 0 turns them off)"
            )
        return self

    @property
    def api_url(self) -> str:
        """The Web API base URL, always ending in a slash as slack_sdk expects."""
        url = str(self.slack_api_url)
        return url if url.endswith("/") else url + "/"

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def oauth(self) -> bool:
        """Installed into many workspaces through OAuth (a token per workspace in the store)."""
        return self.slack_client_id is not None

    @property
    def authorize_url(self) -> str:
        """Slack's page where a person approves an install (beside the Web API's `api/`)."""
        return self.api_url.removesuffix("api/") + "oauth/v2/authorize"

    def missing_slack_credentials(self) -> str | None:
        """What `doughnut run` still needs from Slack, in one line; None when nothing."""
        if not (
            self.slack_bot_token
            or self.slack_signing_secret
            or self.slack_app_token
            or self.slack_client_id
        ):
            return (
                "No Slack credentials: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET "
                "(or SLACK_APP_TOKEN for Socket Mode). To try Doughnut without Slack, run "
                "`doughnut shell`."
            )
        if self.slack_bot_token is None and not self.oauth:
            return (
                "SLACK_BOT_TOKEN is not set: give the bot token (xoxb-…) of the workspace "
                "(or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to install into many workspaces)."
            )
        if self.slack_signing_secret is None and self.slack_app_token is None:
            return (
                "SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify Slack's requests "
                "(or set SLACK_APP_TOKEN for Socket Mode)."
            )
        return None

    @property
    def has_slack_credentials(self) -> bool:
        return self.missing_slack_credentials() is None


def normalize_database_url(url: str) -> str:
    """Give a plain `postgresql://` or `sqlite://` URL the async driver we ship."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    if not url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        raise ValueError("must be a postgresql:// or sqlite:// URL")
    return url


def sqlite_open_error(url: str) -> str | None:
    """For a SQLite URL, why its file cannot be opened (None when it can, or not SQLite).

    Checked with the standard library first: when aiosqlite fails to open a file, its worker
    thread can outlive the event loop and print a traceback of its own.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    try:
        sqlite3.connect(parsed.database).close()
    except sqlite3.Error as error:
        return f"{type(error).__name__}: {error}"
    return None


def load_settings(**overrides: object) -> Settings:
    """Read settings now; a bad one raises SettingsError naming it in one line."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"]).upper()
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}" if name else message) from None
