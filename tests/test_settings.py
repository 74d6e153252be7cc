"""Settings: read when asked, one clear line for a bad one, secrets never shown."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("DATABASE_URL", "DOUGHNUT_PORT", "SLACK_API_URL", "DOUGHNUT_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///doughnut.db"
    assert settings.doughnut_port == 3000
    assert settings.api_url == "https://slack.com/api/"


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


def test_secrets_never_show_in_repr(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-very-secret")
    settings = load_settings()
    assert "very-secret" not in repr(settings)
    assert "very-secret" not in str(settings.model_dump())
