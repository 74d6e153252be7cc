"""The HTTP server's own endpoints: /livez, /readyz; /metrics on a port of its own."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from bot.app import create_app
from bot.emulator import SlackDriver
from bot.server import EVENTS_PATH, build_metrics_app, build_web_app
from bot.settings import load_settings
from storage.db import Database
from tests.conftest import SIGNING_SECRET, Bot


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.text()


async def test_livez_and_readyz(bot: Bot) -> None:
    assert (await get(bot.url + "/livez"))[0] == 200
    status, body = await get(bot.url + "/readyz")
    assert status == 200
    assert '"database": true' in body
    assert '"slack": "ok"' in body


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


async def test_before_slack_answers_auth_test_nothing_is_served_and_not_ready(
    bot: Bot,
) -> None:
    # As `doughnut run` starts while Slack is unreachable: the installation is not known yet.
    app = create_app(bot.settings, db=bot.db, clock=bot.clock)
    bot.emu.clear_calls()
    runner, url = await serve(build_web_app(app))
    try:
        status, body = await get(url + "/readyz")
        driver = SlackDriver(bot.emu, url + EVENTS_PATH, SIGNING_SECRET)
        try:
            reply = await driver.command(bot.user("alice"), bot.channel("general"), "/kudos")
        finally:
            await driver.close()
    finally:
        await runner.cleanup()
    assert status == 503
    assert '"slack": "unavailable"' in body and '"database": true' in body
    assert reply.status == 503
    assert bot.emu.calls == []  # nothing was said to anyone


async def test_readyz_is_503_when_the_database_is_down() -> None:
    settings = load_settings(
        slack_bot_token="xoxb-x",
        slack_signing_secret="s",
        database_url="postgresql://nobody@127.0.0.1:1/nothing",
    )
    app = create_app(settings, db=Database(settings.database_url))
    runner, url = await serve(build_web_app(app))
    try:
        status, body = await get(url + "/readyz")
    finally:
        await runner.cleanup()
    assert status == 503
    assert '"database": false' in body


async def test_metrics_count_requests_and_ack_latency_by_kind_on_their_own_port(bot: Bot) -> None:
    await bot.driver.command(bot.user("alice"), bot.channel("general"), "/doughnut", "help")

    runner, metrics_url = await serve(build_metrics_app(bot.app))
    try:
        status, body = await get(metrics_url + "/metrics")
    finally:
        await runner.cleanup()

    assert (await get(bot.url + "/metrics"))[0] == 404  # not on the port Slack reaches
    assert status == 200
    assert 'doughnut_slack_requests_total{kind="command",status="200"} 1.0' in body
    assert 'doughnut_ack_seconds_count{kind="command"} 1.0' in body
