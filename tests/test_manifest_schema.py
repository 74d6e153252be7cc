"""The manifest matches Slack's schema, the design's scopes and the events the bot handles."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.app import create_app
from bot.manifest import (
    dump_manifest,
    http_manifest,
    load_manifest,
    manifest_declarations,
    manifest_path,
)
from bot.registry import Registry
from bot.settings import load_settings
from handlers.ids import DOUGHNUT_COMMAND
from storage.db import Database

# Slack's published app manifest schema, kept in the repository with its MIT licence
# (tests/slack/LICENSE) so every clone checks the manifest against it.
SCHEMA_PATH = Path(__file__).resolve().parent / "slack" / "manifest.schema.1.0.0.json"
BASE_URL = "https://doughnut.example.com"
EVENTS_URL = BASE_URL + "/slack/events"

# The bot scopes Doughnut asks for: what its listeners and outbox call (commands, posts, DMs,
# member and conversation lookups, history for quotes, reactions, mentions, uploads, user
# groups, team info), no more and no less.
DESIGN_BOT_SCOPES = {
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "mpim:write",
    "users:read",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
    "im:history",
    "reactions:read",
    "app_mentions:read",
    "files:write",
    "usergroups:read",
    "team:read",
    "im:read",  # what a lesson's conversation is, when it is a DM
    "mpim:read",  # or a group DM
    "mpim:history",  # the outbox's recovery reads group DMs it answers mentions in
    "channels:join",  # an After Action Review joins its public channel to hear the replies
}


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.fixture
def manifest() -> dict:
    return load_manifest()


@pytest.fixture(scope="module")
def registry() -> Registry:
    """What the app's chassis and capabilities registered."""
    settings = load_settings(
        slack_bot_token="xoxb-test", slack_signing_secret="s", database_url="sqlite:///:memory:"
    )
    return create_app(settings, db=Database(settings.database_url)).registry


def _errors(validator: jsonschema.protocols.Validator, instance: dict) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


def test_manifest_file_is_at_repo_root() -> None:
    assert manifest_path() == Path(__file__).resolve().parents[1] / "manifest.yml"
    assert manifest_path().is_file()


def test_socket_mode_manifest_matches_slack_schema(validator, manifest) -> None:
    assert _errors(validator, manifest) == []


def test_http_manifest_matches_slack_schema(validator, manifest) -> None:
    assert _errors(validator, http_manifest(manifest, BASE_URL)) == []


@pytest.mark.parametrize(
    "breakage",
    [
        pytest.param(lambda m: m.update(not_a_manifest_key=True), id="unknown-top-level-key"),
        pytest.param(lambda m: m["display_information"].pop("name"), id="missing-app-name"),
        pytest.param(
            lambda m: m["features"]["slash_commands"][0].update(command="doughnut"),
            id="command-without-slash",
        ),
        pytest.param(
            lambda m: m["settings"]["interactivity"].update(is_enabled="yes"),
            id="wrong-type",
        ),
    ],
)
def test_schema_check_rejects_broken_manifests(validator, manifest, breakage) -> None:
    broken = copy.deepcopy(manifest)
    breakage(broken)
    assert _errors(validator, broken), "a broken manifest passed the schema check"


def test_metadata_and_display_information(manifest) -> None:
    assert manifest["_metadata"] == {"major_version": 1, "minor_version": 1}
    info = manifest["display_information"]
    assert info["name"] == "Doughnut"
    assert info["description"].strip()
    assert len(info["long_description"]) >= 175
    # Slack's schema spells this constraint "regex", which JSON Schema ignores: check it here.
    assert re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", info["background_color"])


def test_features(manifest) -> None:
    features = manifest["features"]
    assert features["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": False,
    }
    assert features["bot_user"] == {"display_name": "Doughnut", "always_online": True}
    shortcuts = {s["callback_id"] for s in features["shortcuts"]}
    assert shortcuts == {
        "save_as_lesson",
        "capture_lesson",
        "give_kudos_for_message",
        "ask_peer_assist",
        "raise_gap",
    }


def test_settings_are_socket_mode(manifest) -> None:
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"] == {"is_enabled": True}
    assert settings["org_deploy_enabled"] is True  # org-wide installs (Enterprise Grid)
    assert settings["token_rotation_enabled"] is False
    assert "request_url" not in settings["event_subscriptions"]
    assert all("url" not in c for c in manifest["features"]["slash_commands"])


def test_bot_scopes_are_the_design_list(manifest) -> None:
    bot_scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert len(bot_scopes) == len(set(bot_scopes)), "duplicate scope"
    # Only what the code uses now (README, "Scopes and why"); each capability adds its own.
    assert set(bot_scopes) <= DESIGN_BOT_SCOPES
    assert manifest_declarations(manifest)["bot_scopes"] == set(bot_scopes)


def test_every_slash_command_escapes_user_text(manifest) -> None:
    commands = manifest["features"]["slash_commands"]
    assert commands
    for command in commands:
        assert command.get("should_escape") is True, command["command"]
        assert command["description"].strip(), command["command"]


def test_declared_commands_include_doughnut(manifest) -> None:
    assert DOUGHNUT_COMMAND in manifest_declarations(manifest)["commands"]


def test_declared_events_are_the_handled_events(manifest, registry) -> None:
    declared = manifest_declarations(manifest)["bot_events"]
    handled = set(registry.events)
    assert handled - declared == set(), "handled but not subscribed in manifest.yml"
    assert declared - handled == set(), "subscribed in manifest.yml but not handled"


def test_manifest_declarations_shape() -> None:
    declared = manifest_declarations(
        {
            "features": {
                "slash_commands": [{"command": "/a", "description": "a"}],
                "shortcuts": [
                    {"name": "n", "type": "global", "callback_id": "cb", "description": "d"}
                ],
            },
            "oauth_config": {"scopes": {"bot": ["commands"]}},
            "settings": {"event_subscriptions": {"bot_events": ["app_mention"]}},
        }
    )
    assert declared == {
        "commands": {"/a"},
        "shortcut_callback_ids": {"cb"},
        "bot_events": {"app_mention"},
        "bot_scopes": {"commands"},
    }
    assert manifest_declarations({"display_information": {"name": "x"}}) == {
        "commands": set(),
        "shortcut_callback_ids": set(),
        "bot_events": set(),
        "bot_scopes": set(),
    }


def test_http_manifest_has_request_urls_and_no_socket_mode(manifest) -> None:
    http = http_manifest(manifest, BASE_URL)
    settings = http["settings"]
    assert settings["socket_mode_enabled"] is False
    assert settings["event_subscriptions"]["request_url"] == EVENTS_URL
    assert (
        settings["event_subscriptions"]["bot_events"]
        == (manifest["settings"]["event_subscriptions"]["bot_events"])
    )
    assert settings["interactivity"] == {
        "is_enabled": True,
        "request_url": EVENTS_URL,
        "message_menu_options_url": EVENTS_URL,
    }
    assert http["features"]["slash_commands"]
    for command in http["features"]["slash_commands"]:
        assert command["url"] == EVENTS_URL
    # Everything else is unchanged.
    assert http["oauth_config"] == manifest["oauth_config"]
    assert http["display_information"] == manifest["display_information"]


def test_http_manifest_does_not_touch_its_input(manifest) -> None:
    before = copy.deepcopy(manifest)
    http_manifest(manifest, BASE_URL)
    assert manifest == before


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://doughnut.example.com/", EVENTS_URL),
        ("https://doughnut.example.com///", EVENTS_URL),
        ("https://example.com/doughnut/", "https://example.com/doughnut/slack/events"),
        ("https://example.com:8443", "https://example.com:8443/slack/events"),
        ("http://localhost:3000/", "http://localhost:3000/slack/events"),
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000/slack/events"),
    ],
)
def test_http_manifest_normalises_base_url(manifest, base_url, expected) -> None:
    http = http_manifest(manifest, base_url)
    assert http["settings"]["event_subscriptions"]["request_url"] == expected
    assert http["features"]["slash_commands"][0]["url"] == expected


@pytest.mark.parametrize(
    "base_url",
    [
        "ftp://x",
        "http://public.example.com",
        "doughnut.example.com",
        "https://",
        "",
        "https://exa mple.com",
        "https://example.com:notaport",
        "https://example.com/?a=1",
        "https://user:secret@example.com",
    ],
)
def test_http_manifest_rejects_bad_base_url(manifest, base_url) -> None:
    with pytest.raises(ValueError, match="base URL"):
        http_manifest(manifest, base_url)


def test_dump_manifest_round_trips_and_keeps_key_order(manifest) -> None:
    for variant in (manifest, http_manifest(manifest, BASE_URL)):
        text = dump_manifest(variant)
        loaded = yaml.safe_load(text)
        assert loaded == variant
        assert list(loaded) == list(variant)
        assert list(loaded["settings"]) == list(variant["settings"])
    assert list(yaml.safe_load(dump_manifest(manifest))) == [
        "_metadata",
        "display_information",
        "features",
        "oauth_config",
        "settings",
    ]


def test_the_manifest_declares_exactly_what_the_app_listens_to() -> None:
    settings = load_settings(
        slack_bot_token="xoxb-test", slack_signing_secret="s", database_url="sqlite:///:memory:"
    )
    app = create_app(settings, db=Database(settings.database_url))
    declared = manifest_declarations(load_manifest())

    assert app.listened["commands"] == declared["commands"]
    assert app.listened["events"] == declared["bot_events"]
    assert app.listened["shortcuts"] == declared["shortcut_callback_ids"]


def test_the_manifest_asks_for_exactly_the_scopes_the_registered_capabilities_declare(
    manifest, registry
) -> None:
    asked = manifest_declarations(manifest)["bot_scopes"]

    assert asked - registry.scopes == set(), "asked for, but no capability declares it"
    assert registry.scopes - asked == set(), "declared by a capability, missing in manifest.yml"
    # The chassis's own: the outbox posts, and reads history before it posts again.
    outbox = next(c for c in registry.capabilities if c.name == "outbox")
    assert {"chat:write", "channels:history", "groups:history", "mpim:history"} <= set(
        outbox.scopes
    )
