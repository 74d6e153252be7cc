"""Settings from the environment and `.env`, read when asked for, never at import."""

from __future__ import annotations

import logging

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SLACK_API_URL = "https://slack.com/api/"


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


class Settings(BaseSettings):
    """Doughnut's configuration (see README: Configuration)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_url: AnyHttpUrl = Field(default=AnyHttpUrl(SLACK_API_URL))
    database_url: str = "sqlite+aiosqlite:///doughnut.db"
    doughnut_port: int = Field(default=3000, ge=0, le=65535)
    doughnut_timezone: str = "UTC"
    log_level: str = "INFO"

    @field_validator("doughnut_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from bot.timezones import is_known_timezone

        if not is_known_timezone(value):
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

    @field_validator("slack_client_id", "slack_client_secret")
    @classmethod
    def _no_oauth_yet(cls, value: object) -> object:
        # Bolt would read these from the environment and silently switch to its own OAuth flow.
        if value:
            raise ValueError(
                "installing into many workspaces (OAuth) is not supported yet; unset "
                "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET and give SLACK_BOT_TOKEN"
            )
        return value

    @property
    def api_url(self) -> str:
        """The Web API base URL, always ending in a slash as slack_sdk expects."""
        url = str(self.slack_api_url)
        return url if url.endswith("/") else url + "/"

    @property
    def has_slack_credentials(self) -> bool:
        return self.slack_bot_token is not None and (
            self.slack_signing_secret is not None or self.slack_app_token is not None
        )


def normalize_database_url(url: str) -> str:
    """Give a plain `postgresql://` or `sqlite://` URL the async driver we ship."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    if not url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        raise ValueError("must be a postgresql:// or sqlite:// URL")
    return url


def load_settings(**overrides: object) -> Settings:
    """Read settings now; a bad one raises SettingsError naming it in one line."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"]).upper() or "settings"
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}") from None
