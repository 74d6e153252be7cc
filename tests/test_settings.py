"""Settings: read when asked, one clear line for a bad one, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

SETTINGS = (
    "DATABASE_URL",
    "DOUGHNUT_PORT",
    "DOUGHNUT_METRICS_PORT",
    "SLACK_API_URL",
    "DOUGHNUT_TIMEZONE",
    "LOG_LEVEL",
    "LOG_FORMAT",
)


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///doughnut.db"
    assert settings.doughnut_port == 3000
    assert settings.doughnut_metrics_port == 9090
    assert settings.api_url == "https://slack.com/api/"
    assert (settings.log_level, settings.log_format) == ("INFO", "text")


def test_metrics_can_be_turned_off_and_logs_be_json(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOUGHNUT_METRICS_PORT", "0")
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    settings = load_settings()
    assert (settings.doughnut_metrics_port, settings.log_format) == (0, "json")


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "No Slack credentials"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET is not set"),
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, None),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, None),  # Socket Mode
        # Empty means unset, as in .env.example and compose.yaml.
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": ""}, "SLACK_SIGNING_SECRET is not set"),
    ],
)
def test_the_missing_slack_credential_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path, env: dict[str, str], missing: str | None
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    problem = load_settings().missing_slack_credentials()
    if missing is None:
        assert problem is None
    else:
        assert problem is not None and problem.startswith(missing) and "\n" not in problem


def test_environment_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SLACK_API_URL=http://127.0.0.1:9999/api\nDOUGHNUT_PORT=8080\n")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db:5432/doughnut")
    settings = load_settings()
    assert settings.api_url == "http://127.0.0.1:9999/api/"
    assert settings.doughnut_port == 8080
    assert settings.database_url == "postgresql+asyncpg://u@db:5432/doughnut"


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("DOUGHNUT_PORT", "eighty", "DOUGHNUT_PORT"),
        ("DOUGHNUT_TIMEZONE", "Mars/Olympus", "DOUGHNUT_TIMEZONE"),
        ("DOUGHNUT_TIMEZONE", "Europe", "DOUGHNUT_TIMEZONE"),  # a folder of the zoneinfo database
        ("DOUGHNUT_METRICS_PORT", "-1", "DOUGHNUT_METRICS_PORT"),
        ("DOUGHNUT_METRICS_PORT", "3000", "DOUGHNUT_METRICS_PORT"),  # DOUGHNUT_PORT's default
        ("SLACK_BOT_TOKEN", "abc", "SLACK_BOT_TOKEN"),
        ("SLACK_BOT_TOKEN", "xapp-1-A1-1-abc", "SLACK_BOT_TOKEN"),
        ("SLACK_APP_TOKEN", "xoxb-1-abc", "SLACK_APP_TOKEN"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("SLACK_API_URL", "not a url", "SLACK_API_URL"),
        ("SLACK_CLIENT_ID", "123.456", "SLACK_CLIENT_ID"),
    ],
)
def test_a_malformed_setting_fails_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path,
    name: str,
    value: str,
    named: str,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith(named)
    assert "\n" not in message
    if name.endswith("_TOKEN"):
        assert value not in message  # a token is never echoed back


def test_secrets_never_show_in_repr(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-very-secret")
    settings = load_settings()
    assert "very-secret" not in repr(settings)
    assert "very-secret" not in str(settings.model_dump())
