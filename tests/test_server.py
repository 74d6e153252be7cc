"""The HTTP server's own endpoints: /livez, /readyz, /metrics."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from bot.app import create_app
from bot.server import build_web_app
from bot.settings import load_settings
from storage.db import Database
from tests.conftest import Bot


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.text()


async def test_livez_and_readyz(bot: Bot) -> None:
    assert (await get(bot.url + "/livez"))[0] == 200
    status, body = await get(bot.url + "/readyz")
    assert status == 200
    assert '"database": true' in body


async def test_readyz_is_503_when_the_database_is_down() -> None:
    settings = load_settings(
        slack_bot_token="xoxb-x",
        slack_signing_secret="s",
        database_url="postgresql://nobody@127.0.0.1:1/nothing",
    )
    app = create_app(settings, db=Database(settings.database_url))
    runner = web.AppRunner(build_web_app(app))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        status, body = await get(f"http://{host}:{port}/readyz")
    finally:
        await runner.cleanup()
    assert status == 503
    assert '"database": false' in body


async def test_metrics_count_requests_and_ack_latency_by_kind(bot: Bot) -> None:
    await bot.driver.command(bot.user("alice"), bot.channel("general"), "/doughnut", "help")

    status, body = await get(bot.url + "/metrics")

    assert status == 200
    assert 'doughnut_slack_requests_total{kind="command",status="200"} 1.0' in body
    assert 'doughnut_ack_seconds_count{kind="command"} 1.0' in body
