"""The aiohttp server: Slack's requests on /slack/events, plus /livez, /readyz and /metrics."""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

from bot.app import DoughnutApp

log = logging.getLogger("doughnut.server")
EVENTS_PATH = "/slack/events"
BOT_APP_KEY = web.AppKey("bot_app", DoughnutApp)
# Slack gives up on a request after 3 s; a body larger than this is not one of Slack's.
MAX_BODY_BYTES = 2 * 1024 * 1024


def build_web_app(bot_app: DoughnutApp, *, serve_slack: bool = True) -> web.Application:
    """Health and metrics always; Slack's endpoint unless Socket Mode carries the requests."""
    web_app = web.Application(client_max_size=MAX_BODY_BYTES)
    web_app[BOT_APP_KEY] = bot_app
    web_app.router.add_get("/livez", livez)
    web_app.router.add_get("/readyz", readyz)
    web_app.router.add_get("/metrics", metrics)
    if serve_slack:
        web_app.router.add_post(EVENTS_PATH, slack_events)
    return web_app


async def livez(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    deps = request.app[BOT_APP_KEY].deps
    database_ok = await deps.db.ping()
    body = {"status": "ok" if database_ok else "unavailable", "database": database_ok}
    return web.json_response(body, status=200 if database_ok else 503)


async def metrics(request: web.Request) -> web.Response:
    deps = request.app[BOT_APP_KEY].deps
    return web.Response(
        body=deps.metrics.render(), headers={"Content-Type": deps.metrics.content_type}
    )


async def slack_events(request: web.Request) -> web.Response:
    bot_app = request.app[BOT_APP_KEY]
    try:
        bolt_request = await to_bolt_request(request)
    except ValueError as error:  # not UTF-8, or a JSON body / payload that does not parse
        log.warning("refused a malformed Slack request: %s", type(error).__name__)
        return web.Response(status=400, text="malformed request body")
    bolt_response = await bot_app.async_dispatch(bolt_request)
    return await to_aiohttp_response(bolt_response)
