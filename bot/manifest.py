"""The Slack app manifest: load the committed Socket Mode one and derive the HTTP variant."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

# Where the HTTP server receives Slack's commands, interactions and events.
EVENTS_PATH = "/slack/events"

# Plain http is only acceptable for a bot reachable on this machine (Slack itself needs https).
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def manifest_path() -> Path:
    """The committed Socket Mode manifest: the repository root's, or the wheel's copy of it."""
    here = Path(__file__).resolve().parent
    checkout = here.parent / "manifest.yml"
    # An installed wheel carries bot/manifest.yml (see setup.py); a checkout has only the root one.
    return checkout if checkout.is_file() else here / "manifest.yml"


def load_manifest(path: Path | None = None) -> dict[str, Any]:
    """Read a manifest (default: the committed one) into a dict."""
    path = path or manifest_path()
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a YAML mapping")
    return data


def _normalise_base_url(base_url: str) -> str:
    """Check a public base URL and return it without trailing slashes."""
    raw = base_url.strip() if isinstance(base_url, str) else ""
    hint = "expected something like https://doughnut.example.com"
    if not raw or any(ch.isspace() for ch in raw):
        raise ValueError(f"Invalid base URL {base_url!r}: {hint}")
    parts = urlsplit(raw)
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ValueError(f"Invalid base URL {base_url!r}: {exc}; {hint}") from None
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError(f"Invalid base URL {base_url!r}: it must be an https URL; {hint}")
    if parts.scheme == "http" and host not in _LOCAL_HOSTS:
        raise ValueError(
            f"Invalid base URL {base_url!r}: Slack only calls https URLs "
            f"(plain http is allowed for localhost and 127.0.0.1 only); {hint}"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"Invalid base URL {base_url!r}: credentials do not belong in it")
    if parts.query or parts.fragment:
        raise ValueError(f"Invalid base URL {base_url!r}: no query string or fragment; {hint}")
    return raw.rstrip("/")


def http_manifest(manifest: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The manifest for HTTP mode: Socket Mode off, every request URL at `<base>/slack/events`."""
    url = _normalise_base_url(base_url) + EVENTS_PATH
    result = copy.deepcopy(manifest)

    features = result.get("features") or {}
    for command in features.get("slash_commands") or []:
        command["url"] = url

    settings = result.setdefault("settings", {})
    settings["socket_mode_enabled"] = False
    events = settings.get("event_subscriptions") or {}
    settings["event_subscriptions"] = {"request_url": url, **_without(events, "request_url")}
    interactivity = settings.get("interactivity") or {"is_enabled": True}
    settings["interactivity"] = {
        **_without(interactivity, "request_url", "message_menu_options_url"),
        "request_url": url,
        "message_menu_options_url": url,
    }
    return result


def _without(mapping: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k not in keys}


def dump_manifest(manifest: dict[str, Any]) -> str:
    """The manifest as YAML, keys in their original order."""
    # No line wrapping: one line per value diffs cleanly and pastes as-is into Slack's editor.
    return yaml.safe_dump(
        manifest, sort_keys=False, allow_unicode=True, default_flow_style=False, width=2**16
    )


def manifest_declarations(manifest: dict[str, Any]) -> dict[str, set[str]]:
    """What the manifest declares: commands, shortcut callback ids, bot events, bot scopes."""
    features = manifest.get("features") or {}
    settings = manifest.get("settings") or {}
    scopes = (manifest.get("oauth_config") or {}).get("scopes") or {}
    events = settings.get("event_subscriptions") or {}
    return {
        "commands": {c["command"] for c in features.get("slash_commands") or []},
        "shortcut_callback_ids": {s["callback_id"] for s in features.get("shortcuts") or []},
        "bot_events": set(events.get("bot_events") or []),
        "bot_scopes": set(scopes.get("bot") or []),
    }
