"""The aiohttp servers: Slack's requests, /livez and /readyz; /metrics on a port of its own."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

from bot.app import DoughnutApp

log = logging.getLogger("doughnut.server")
EVENTS_PATH = "/slack/events"
BOT_APP_KEY = web.AppKey("bot_app", DoughnutApp)
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
    web_app[SLACK_READY_KEY] = slack_ready or _installation_known(bot_app)
    web_app.router.add_get("/livez", livez)
    web_app.router.add_get("/readyz", readyz)
    if serve_slack:
        web_app.router.add_post(EVENTS_PATH, slack_events)
    return web_app


def build_metrics_app(bot_app: DoughnutApp) -> web.Application:
    """/metrics alone, for its own port: the public Slack endpoint does not expose it."""
    web_app = web.Application()
    web_app[BOT_APP_KEY] = bot_app
    web_app.router.add_get("/metrics", metrics)
    return web_app


def _installation_known(bot_app: DoughnutApp) -> SlackReady:
    async def ready() -> bool:
        return bot_app.deps.installation is not None

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
    bot_app = request.app[BOT_APP_KEY]
    if bot_app.deps.installation is None:
        # Until auth.test says which workspace the token serves, no request can be checked
        # against it: Slack retries events, and a person sees the command fail, not a wrong answer.
        return web.Response(status=503, text="starting: not connected to Slack yet")
    try:
        bolt_request = await to_bolt_request(request)
    except ValueError as error:  # not UTF-8, or a JSON body / payload that does not parse
        log.warning("refused a malformed Slack request: %s", type(error).__name__)
        return web.Response(status=400, text="malformed request body")
    bolt_response = await bot_app.async_dispatch(bolt_request)
    return await to_aiohttp_response(bolt_response)
