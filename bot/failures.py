"""What a failure looks like to Slack and to the person: never a traceback, always what to do."""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator
from typing import Any

import aiohttp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import DBAPIError, IntegrityError
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
    """A passing failure (network, database unreachable or busy, Slack 429/5xx): worth a retry.

    Judged by cause, not by class: drivers and SQLAlchemy wrap (or do not wrap) the same
    failure differently, so the whole chain is read. An integrity error is never transient.
    """
    causes = list(_causes(error))
    if any(_is_integrity(cause) for cause in causes):
        return False
    return any(_is_passing(cause) for cause in causes)


# SQLSTATEs of failures that pass: connection (08), insufficient resources (53), shutdown and
# "cannot connect now" (57P01-57P03), statement timeout (57014), lock not available (55P03),
# serialisation failure and deadlock (40001, 40P01).
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53")
_TRANSIENT_SQLSTATES = {"57P01", "57P02", "57P03", "57014", "55P03", "40001", "40P01"}
# SQLite's result codes for a busy, locked, unopenable or failing file (extended codes too).
_TRANSIENT_SQLITE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR")
_TRANSIENT_SQLITE_TEXT = ("database is locked", "database table is locked", "unable to open")


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, what it wraps (`.orig`) and what caused it (`__cause__`, `__context__`)."""
    seen: set[int] = set()
    pending = [error]
    while pending and len(seen) < 32:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for linked in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(linked, BaseException):
                pending.append(linked)


def _sqlstate(error: BaseException) -> str | None:
    code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return code if isinstance(code, str) and len(code) == 5 else None


def _is_integrity(error: BaseException) -> bool:
    code = _sqlstate(error)
    return isinstance(error, IntegrityError | sqlite3.IntegrityError) or (
        code is not None and code.startswith("23")
    )


def _is_passing(error: BaseException) -> bool:
    if isinstance(error, SlackApiError):
        status = getattr(error.response, "status_code", 200)
        return status == 429 or status >= 500
    if isinstance(error, aiohttp.ClientResponseError):
        return error.status == 429 or error.status >= 500
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    # Timeouts of every kind (asyncio's and asyncpg's are TimeoutError), sockets, pool waits.
    if isinstance(error, OSError | PoolTimeoutError | aiohttp.ClientError):
        return True
    code = _sqlstate(error)
    if code is not None:
        if code[:2] in _TRANSIENT_SQLSTATE_CLASSES or code in _TRANSIENT_SQLSTATES:
            return True
        # The server refused the connection: "database ... is not accepting connections".
        severity = getattr(error, "severity_en", None) or getattr(error, "severity", None)
        return code == "55000" and severity == "FATAL"
    if isinstance(error, sqlite3.Error):
        name = getattr(error, "sqlite_errorname", "") or ""
        message = str(error).lower()
        return name.startswith(_TRANSIENT_SQLITE) or any(
            part in message for part in _TRANSIENT_SQLITE_TEXT
        )
    # asyncpg's own word for a connection that went away under a query.
    return type(error).__name__ == "ConnectionDoesNotExistError" or (
        type(error).__module__.startswith("asyncpg") and "connection is closed" in str(error)
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
