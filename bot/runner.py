"""`doughnut run`: one process that serves Slack and, when it leads, sends the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.app import (
    OUTBOX_CALL_TIMEOUT,
    DoughnutApp,
    create_app,
    make_client,
    open_connection_pool,
)
from bot.leader import Leadership, LeaderWork
from bot.outbox import outbox_leader_work
from bot.server import build_web_app
from bot.settings import Settings
from bot.tenancy import identify
from scheduler import Scheduler, build_scheduler, run_scheduler
from storage.db import Database, DatabaseInUse, claim_sqlite_file
from storage.migrate import upgrade

log = logging.getLogger("doughnut.runner")
SHUTDOWN_GRACE_SECONDS = 10


async def run_bot(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Serve until SIGTERM/SIGINT (or `stop`): stop taking requests, finish in-flight ones."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)

    try:
        file_claim = claim_sqlite_file(settings.database_url)  # held until this process exits
    except DatabaseInUse as error:
        raise SystemExit(f"Cannot start: {error}.") from None
    db = Database(settings.database_url)
    await upgrade(db)
    client = make_client(settings)
    outbox_client = make_client(settings, timeout=OUTBOX_CALL_TIMEOUT)
    close_pool = await open_connection_pool(client)
    close_outbox_pool = await open_connection_pool(outbox_client)
    installation = await identify(client)
    bot_app = create_app(
        settings, client=client, outbox_client=outbox_client, installation=installation, db=db
    )
    socket_mode = settings.slack_app_token is not None
    runner = web.AppRunner(
        build_web_app(bot_app, serve_slack=not socket_mode),
        shutdown_timeout=SHUTDOWN_GRACE_SECONDS,
    )
    await runner.setup()
    site = web.TCPSite(runner, host="0.0.0.0", port=settings.doughnut_port)
    await site.start()
    log.info(
        "listening on port %s (%s)",
        settings.doughnut_port,
        "Socket Mode" if socket_mode else "HTTP",
    )

    socket_handler = None
    if socket_mode:
        socket_handler = AsyncSocketModeHandler(
            bot_app,
            app_token=settings.slack_app_token.get_secret_value(),  # type: ignore[union-attr]
        )
        await socket_handler.connect_async()

    leadership = Leadership(db, on_notify=bot_app.deps.wake_outbox)
    leading = asyncio.create_task(leadership.run(stop, leader_work(bot_app, build_scheduler(db))))
    try:
        await stop.wait()
        log.info("stopping: no new requests, finishing those in flight")
    finally:
        if socket_handler is not None:
            await socket_handler.close_async()
        await runner.cleanup()
        stop.set()
        await leading
        await close_pool()
        await close_outbox_pool()
        await db.dispose()
        if file_claim is not None:
            file_claim.release()
    log.info("stopped")


def leader_work(bot_app: DoughnutApp, scheduler: Scheduler) -> LeaderWork:
    """What only the leader runs: the outbox sender and the scheduler, until it resigns."""
    send_outbox = outbox_leader_work(bot_app.deps)

    async def lead(resign: asyncio.Event) -> None:
        await asyncio.gather(
            send_outbox(resign), run_scheduler(scheduler, bot_app.deps.clock.now, resign)
        )

    return lead
