"""The local stack: the local Slack, the bot serving HTTP on loopback, a driver and an outbox.

One function starts it for the tests' `bot` fixture, `doughnut shell` and the in-process
benches, built as `doughnut run` builds the bot (an inline client and a patient outbox client,
both pooled, the installation from auth.test) but on port 0 and with an injected clock.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.app import (
    INLINE_CALL_TIMEOUT,
    OUTBOX_CALL_TIMEOUT,
    DoughnutApp,
    create_app,
    make_client,
    open_connection_pool,
)
from bot.clock import Clock
from bot.emulator import SlackDriver, SlackEmulator, Workspace
from bot.outbox import OutboxSender
from bot.server import EVENTS_PATH, build_web_app
from bot.settings import Settings, load_settings
from bot.tenancy import identify
from storage.db import Database


@dataclass
class LocalStack:
    """What `local_stack` started; everything stops when its block ends."""

    emu: SlackEmulator
    app: DoughnutApp
    driver: SlackDriver
    outbox: OutboxSender
    settings: Settings
    url: str  # the bot's base URL, e.g. http://127.0.0.1:PORT
    signing_secret: str

    @property
    def events_url(self) -> str:
        return self.url + EVENTS_PATH


@asynccontextmanager
async def local_stack(
    *,
    db: Database,
    clock: Clock,
    workspace: Workspace | None = None,
    signing_secret: str | None = None,
    inline_timeout: float = INLINE_CALL_TIMEOUT,
    outbox_timeout: float = OUTBOX_CALL_TIMEOUT,
    channel_spacing: float = 1.0,
    after_ack_grace: float = 1.0,
    **settings: Any,
) -> AsyncIterator[LocalStack]:
    """Start the local Slack (`workspace`), the bot on 127.0.0.1:0 over `db`, a driver signing
    with `signing_secret` and an outbox sender (not running: drain it, or run it yourself).

    Extra keyword arguments are settings (`doughnut_timezone=`, `log_level=`...).
    """
    secret = signing_secret or secrets.token_hex(16)
    async with AsyncExitStack() as stack:
        emu = SlackEmulator(workspace or Workspace.with_sample_members())
        await emu.start()
        stack.push_async_callback(emu.stop)
        loaded = load_settings(
            slack_bot_token=emu.state.bot_token,
            slack_signing_secret=secret,
            slack_api_url=emu.api_url,
            database_url=db.url.render_as_string(hide_password=False),
            **settings,
        )
        client = make_client(loaded, timeout=inline_timeout)
        stack.push_async_callback(await open_connection_pool(client))
        outbox_client = make_client(loaded, timeout=outbox_timeout)
        stack.push_async_callback(await open_connection_pool(outbox_client))
        app = create_app(
            loaded,
            client=client,
            outbox_client=outbox_client,
            installation=await identify(client),
            db=db,
            clock=clock,
        )
        # Work after the ack (a form being filled in) ends, or is stopped, before the pools close.
        stack.push_async_callback(app.deps.after_ack.drain, after_ack_grace)
        runner = web.AppRunner(build_web_app(app), access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        url = f"http://{host}:{port}"
        driver = SlackDriver(emu, url + EVENTS_PATH, secret)
        stack.push_async_callback(driver.close)
        outbox = OutboxSender(
            db, outbox_client, clock, app.deps.metrics, channel_spacing=channel_spacing
        )
        yield LocalStack(emu, app, driver, outbox, loaded, url, secret)
