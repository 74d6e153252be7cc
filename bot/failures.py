"""What a failure looks like to Slack and to the person: never a traceback, always what to do."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

import aiohttp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

SORRY = (
    ":warning: Sorry, something went wrong on my side and nothing was saved. "
    "Please try again in a minute; if it keeps happening, tell your Slack admin "
    "(reference `{reference}`)."
)

NOT_INSTALLED = (
    ":no_entry: Doughnut is not installed in this workspace, so it did nothing here. "
    "Ask your Slack admin if you would like to use it."
)


def new_reference() -> str:
    """A short id that ties what the person saw to the log line."""
    return secrets.token_hex(4)


def request_kind(body: dict[str, Any]) -> str:
    """The listener kind of a Slack request body, for metrics, logs and the error reply."""
    if body.get("command"):
        return "command"
    kind = body.get("type")
    if kind == "event_callback":
        return "event"
    if kind in ("block_actions", "view_submission", "view_closed", "shortcut", "message_action"):
        return str(kind)
    if kind in ("block_suggestion", "dialog_suggestion"):
        return "options"
    if kind in ("url_verification", "ssl_check"):
        return str(kind)
    return "unknown"


def is_transient(error: BaseException) -> bool:
    """A passing failure (network, database connection, Slack 429/5xx): worth Slack's retry."""
    if isinstance(error, SlackApiError):
        status = getattr(error.response, "status_code", 200)
        return status == 429 or status >= 500
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(
        error,
        OperationalError
        | PoolTimeoutError
        | aiohttp.ClientError
        | asyncio.TimeoutError
        | ConnectionError,
    )


def error_response(kind: str, reference: str) -> BoltResponse:
    """The ack for a request whose listener failed."""
    text = SORRY.format(reference=reference)
    if kind == "command":
        return _json(200, {"response_type": "ephemeral", "text": text})
    if kind == "view_submission":
        return _json(200, {"response_action": "update", "view": sorry_modal(text)})
    if kind == "options":
        return _json(200, {"options": []})
    # Actions, shortcuts and view_closed: the body is ignored; the person is told separately.
    return BoltResponse(status=200, body="")


def not_installed_response(kind: str) -> BoltResponse:
    """The ack for a request from a workspace this installation does not serve."""
    if kind == "command":
        return _json(200, {"response_type": "ephemeral", "text": NOT_INSTALLED})
    if kind == "view_submission":
        return _json(200, {"response_action": "update", "view": sorry_modal(NOT_INSTALLED)})
    if kind == "options":
        return _json(200, {"options": []})
    # Events (200, so Slack does not retry), actions, shortcuts: nothing is shown, nothing is sent.
    return BoltResponse(status=200, body="")


def sorry_modal(text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Doughnut"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }


def _json(status: int, body: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=status,
        body=json.dumps(body),
        headers={"content-type": "application/json"},
    )
