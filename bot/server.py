"""The aiohttp servers: Slack's requests, /livez and /readyz; /metrics on a port of its own."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.app import DoughnutApp
from bot.logs import one_line

log = logging.getLogger("doughnut.server")
EVENTS_PATH = "/slack/events"
BOT_APP_KEY = web.AppKey("bot_app", DoughnutApp)
VERIFIER_KEY = web.AppKey("signature_verifier", SignatureVerifier)
# Slack refuses requests older than five minutes; so does the bot (replays).
MAX_REQUEST_AGE_SECONDS = 5 * 60
# The verifier int()s the timestamp: only plain digits reach it ("abc", "", "12e3" do not).
TIMESTAMP = re.compile(r"[0-9]{1,12}")
SlackReady = Callable[[], Awaitable[bool]]
SLACK_READY_KEY = web.AppKey("slack_ready", SlackReady)
# /readyz answers a probe in time even when the database hangs.
READY_CHECK_TIMEOUT = 2.0
# Slack gives up on a request after 3 s; a body larger than this is not one of Slack's.
MAX_BODY_BYTES = 2 * 1024 * 1024


def build_web_app(
    bot_app: DoughnutApp, *, serve_slack: bool = True, slack_ready: SlackReady | None = None
) -> web.Application:
    """Health always; Slack's endpoint unless Socket Mode carries the requests.

    `slack_ready` says whether Slack can reach the bot (default: the installation is known).
    """
    web_app = web.Application(client_max_size=MAX_BODY_BYTES)
    web_app[BOT_APP_KEY] = bot_app
    secret = bot_app.deps.settings.slack_signing_secret
    if serve_slack and secret is not None and secret.get_secret_value().strip():
        web_app[VERIFIER_KEY] = SignatureVerifier(secret.get_secret_value())
    web_app[SLACK_READY_KEY] = slack_ready or _installation_known(bot_app)
    web_app.router.add_get("/livez", livez)
    web_app.router.add_get("/readyz", readyz)
    if serve_slack:
        web_app.router.add_post(EVENTS_PATH, slack_events)
    flow = bot_app.oauth_flow
    if flow is not None:
        # A browser's visits, not Slack's requests: served in Socket Mode too.
        web_app.router.add_get(flow.install_path, oauth_install)
        web_app.router.add_get(flow.redirect_uri_path, oauth_redirect)
    return web_app


def build_metrics_app(bot_app: DoughnutApp) -> web.Application:
    """/metrics alone, for its own port: the public Slack endpoint does not expose it."""
    web_app = web.Application()
    web_app[BOT_APP_KEY] = bot_app
    web_app.router.add_get("/metrics", metrics)
    return web_app


def _installation_known(bot_app: DoughnutApp) -> SlackReady:
    async def ready() -> bool:
        deps = bot_app.deps
        return deps.installation is not None or deps.installations is not None

    return ready


async def livez(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    deps = request.app[BOT_APP_KEY].deps
    try:
        database_ok = await asyncio.wait_for(deps.db.ping(), READY_CHECK_TIMEOUT)
    except TimeoutError:
        database_ok = False
    slack_ok = await request.app[SLACK_READY_KEY]()
    ready = database_ok and slack_ok
    body = {
        "status": "ok" if ready else "unavailable",
        "database": database_ok,
        "slack": "ok" if slack_ok else "unavailable",
    }
    return web.json_response(body, status=200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    deps = request.app[BOT_APP_KEY].deps
    return web.Response(
        body=deps.metrics.render(), headers={"Content-Type": deps.metrics.content_type}
    )


async def slack_events(request: web.Request) -> web.Response:
    """Only a request Slack signed reaches Bolt: no listener, middleware or error handler before."""
    bot_app = request.app[BOT_APP_KEY]
    raw = await request.read()
    problem = signature_problem(request.app.get(VERIFIER_KEY), request.headers, raw)
    if problem is not None:
        log.info("refused an unverified request: %s", problem)
        return web.json_response({"error": "invalid request"}, status=401)
    if bot_app.deps.installation is None and bot_app.deps.installations is None:
        # Until auth.test says which workspace the token serves, no request can be checked
        # against it: Slack retries events, and a person sees the command fail, not a wrong answer.
        return web.Response(status=503, text="starting: not connected to Slack yet")
    try:
        bolt_request = AsyncBoltRequest(
            body=raw.decode("utf-8"), query=request.query_string, headers=request.headers
        )
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as error:
        # Not UTF-8, not JSON, or not an object (Bolt reads its ids from it as from a dict).
        log.warning("refused a malformed Slack request: %s", type(error).__name__)
        return web.Response(status=400, text="malformed request body")
    bolt_response = await bot_app.async_dispatch(bolt_request)
    return await to_aiohttp_response(bolt_response)


async def oauth_install(request: web.Request) -> web.Response:
    """`/slack/install`: off to Slack's approval page, with a fresh state (and its cookie)."""
    flow = request.app[BOT_APP_KEY].oauth_flow
    assert flow is not None
    try:
        response = await flow.handle_installation(await to_bolt_request(request))
    except Exception as error:  # the state store: the database
        log.error("could not start an install: %s", one_line(error))
        return web.Response(status=503, text="Cannot start the install right now; try again.")
    return await to_aiohttp_response(response)


async def oauth_redirect(request: web.Request) -> web.Response:
    """`/slack/oauth_redirect`: Slack sends the installer back with a code; the install is saved."""
    flow = request.app[BOT_APP_KEY].oauth_flow
    assert flow is not None
    try:
        response = await flow.handle_callback(await to_bolt_request(request))
    except Exception as error:  # oauth.v2.access unreachable, the database
        log.error("an install did not complete: %s", one_line(error))
        return web.Response(status=503, text="The install did not complete; try again.")
    return await to_aiohttp_response(response)


def signature_problem(
    verifier: SignatureVerifier | None, headers: Mapping[str, str], body: bytes
) -> str | None:
    """Why a request cannot be Slack's (for the log), or None when its signature holds."""
    if verifier is None:
        return "no signing secret is configured"
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not signature.isascii():  # compare_digest raises on non-ASCII text
        return "the signature is not ASCII"
    if not signature:
        return "no signature"
    if not TIMESTAMP.fullmatch(timestamp):
        return "the timestamp is not a number"
    if abs(verifier.clock.now() - int(timestamp)) > MAX_REQUEST_AGE_SECONDS:
        return "the timestamp is not recent"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        # The verifier signs text; Slack signs raw bytes (such a body is then refused as malformed).
        valid = hmac.compare_digest(_raw_signature(verifier, timestamp, body), signature)
    else:
        valid = verifier.is_valid(text, timestamp, signature)
    return None if valid else "the signature does not match"


def _raw_signature(verifier: SignatureVerifier, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(verifier.signing_secret.encode(), base, hashlib.sha256).hexdigest()
