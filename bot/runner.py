"""`doughnut run`: one process that serves Slack and, when it leads, sends the outbox.

Start-up never waits on Slack: the HTTP server (/livez, /readyz) and the leader work start once
the database is migrated; who the bot is (`auth.test`) is learnt in the background, retried with
back-off, and only then are Slack's requests served (in Socket Mode: only then does the socket
open). SIGTERM stops it in every state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError

from bot.app import (
    INSTALL_PATH,
    OUTBOX_CALL_TIMEOUT,
    DoughnutApp,
    create_app,
    make_client,
    open_connection_pool,
)
from bot.leader import Leadership, LeaderWork
from bot.logs import OneLine, one_line
from bot.outbox import outbox_leader_work
from bot.server import build_metrics_app, build_web_app
from bot.settings import Settings, sqlite_open_error
from bot.tenancy import TokenRejected, identify
from scheduler import Scheduler, build_scheduler, run_scheduler
from storage.db import Database, DatabaseInUse, claim_sqlite_file
from storage.migrate import upgrade

log = logging.getLogger("doughnut.runner")
# Requests in flight are answered within 2.5 s; these two graces run side by side, so a SIGTERM
# exits well within 10 s whatever Slack or the outbox is doing.
SHUTDOWN_GRACE_SECONDS = 4.0
LEADER_RESIGN_GRACE = 4.0
SOCKET_CLOSE_TIMEOUT = 1.0
# slack_sdk logs a traceback on every failed Socket Mode connect; one line each is enough.
SOCKET_LOG = logging.getLogger("doughnut.socket")
SOCKET_LOG.addFilter(OneLine())
# Seconds between auth.test tries while Slack cannot be reached; the last one repeats.
IDENTIFY_BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


class StartupFailed(Exception):
    """`doughnut run` cannot start; the message says why in one line."""


async def run_bot(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Serve until SIGTERM/SIGINT (or `stop`): stop taking requests, finish in-flight ones.

    Raises StartupFailed (database, port) or TokenRejected (Slack refused the bot token).
    """
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
    try:
        if not await _unless_stopped(_migrate(db), stop):
            log.info("stopped before the database was ready")
            return
        await _serve(settings, db, stop)
    finally:
        await db.dispose()
        if file_claim is not None:
            file_claim.release()
    log.info("stopped")


async def _migrate(db: Database) -> None:
    where = db.url.render_as_string(hide_password=True)
    problem = sqlite_open_error(db.url.render_as_string(hide_password=False))
    if problem is not None:
        raise StartupFailed(f"Cannot open the database {where}: {problem}")
    try:
        await upgrade(db)
    except Exception as error:
        raise StartupFailed(f"Cannot open the database {where}: {one_line(error)}") from None


async def _serve(settings: Settings, db: Database, stop: asyncio.Event) -> None:
    client = make_client(settings)
    outbox_client = make_client(settings, timeout=OUTBOX_CALL_TIMEOUT)
    close_pool = await open_connection_pool(client)
    close_outbox_pool = await open_connection_pool(outbox_client)
    # No installation yet: SlackLink sets it once auth.test answers.
    bot_app = create_app(settings, client=client, outbox_client=outbox_client, db=db)
    slack = SlackLink(bot_app, settings)
    runners: list[web.AppRunner] = []
    leading: asyncio.Task[None] | None = None
    linking: asyncio.Task[None] | None = None
    try:
        web_app = build_web_app(
            bot_app, serve_slack=not settings.socket_mode, slack_ready=slack.ready
        )
        runners.append(await _listen(web_app, settings.doughnut_port, "DOUGHNUT_PORT"))
        if settings.doughnut_metrics_port:
            metrics_app = build_metrics_app(bot_app)
            port = settings.doughnut_metrics_port
            runners.append(await _listen(metrics_app, port, "DOUGHNUT_METRICS_PORT"))
        # One try before going on, so a refused token stops here with one line; if Slack cannot
        # be reached, the server serves anyway (/readyz says so) and `slack.run` keeps trying.
        if not await _unless_stopped(slack.try_identify(), stop):
            return
        if slack.rejected is not None:
            raise slack.rejected
        metrics_port = settings.doughnut_metrics_port
        log.info(
            "listening on port %s (%s); metrics %s",
            settings.doughnut_port,
            "Socket Mode" if settings.socket_mode else "HTTP",
            f"on port {metrics_port}" if metrics_port else "off",
        )
        leadership = Leadership(
            db, on_notify=bot_app.deps.wake_outbox, resign_grace=LEADER_RESIGN_GRACE
        )
        work = leader_work(bot_app, build_scheduler(db, bot_app.registry.jobs))
        leading = asyncio.create_task(leadership.run(stop, work), name="leadership")
        linking = asyncio.create_task(slack.run(stop), name="slack link")
        await stop.wait()
        log.info("stopping: no new requests, finishing those in flight")
    finally:
        stop.set()
        if linking is not None:
            linking.cancel()
            await asyncio.gather(linking, return_exceptions=True)
        await slack.close()
        ending: list[Awaitable[None]] = [runner.cleanup() for runner in runners]
        if leading is not None:
            ending.append(leading)
        for result in await asyncio.gather(*ending, return_exceptions=True):
            if isinstance(result, Exception):
                log.warning("while stopping: %s", one_line(result))
        await bot_app.deps.after_ack.drain(SHUTDOWN_GRACE_SECONDS)  # e.g. modals being filled
        await close_pool()
        await close_outbox_pool()
    if slack.rejected is not None:
        raise slack.rejected


async def _listen(app: web.Application, port: int, setting: str) -> web.AppRunner:
    # No access log: probes hit /readyz every few seconds; /metrics counts Slack's requests.
    runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_GRACE_SECONDS, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host="0.0.0.0", port=port).start()
    except OSError as error:
        await runner.cleanup()
        reason = error.strerror or one_line(error)
        raise StartupFailed(f"Cannot listen on port {port} ({setting}): {reason}") from None
    return runner


async def _unless_stopped(work: Awaitable[None], stop: asyncio.Event) -> bool:
    """Run `work` unless `stop` comes first (then cancel it); True when it finished."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([task, stopping], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    if task.cancelled():
        return False
    task.result()  # raises what the work raised
    return True


class SlackLink:
    """Who the bot is on Slack (auth.test, retried while unreachable) and the Socket Mode link."""

    def __init__(self, bot_app: DoughnutApp, settings: Settings) -> None:
        self.bot_app = bot_app
        self.settings = settings
        self.socket: AsyncSocketModeHandler | None = None
        self.rejected: TokenRejected | None = None

    async def ready(self) -> bool:
        """Slack can reach the bot: the installation is known (and in Socket Mode, connected)."""
        deps = self.bot_app.deps
        if deps.installation is None and deps.installations is None:
            return False
        if not self.settings.socket_mode:
            return True
        return self.socket is not None and await self.socket.client.is_connected()

    async def try_identify(self) -> bool:
        """One auth.test; True when Slack answered (installation known, or token refused)."""
        if self.bot_app.deps.installations is not None:
            return True  # OAuth: each workspace's token is in the store, there is no one token
        try:
            self.bot_app.deps.installation = await identify(self.bot_app.deps.client)
        except TokenRejected as rejected:
            self.rejected = rejected
        except Exception as error:
            log.warning("cannot reach Slack (auth.test: %s)", _reason(error))
            return False
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Until stopped: learn the installation (retrying with back-off), then open the socket."""
        attempt = 0
        oauth = self.bot_app.deps.installations is not None
        while not oauth and self.bot_app.deps.installation is None and self.rejected is None:
            delay = IDENTIFY_BACKOFF[min(attempt, len(IDENTIFY_BACKOFF) - 1)]
            attempt += 1
            log.info("retrying auth.test in %g s", delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            if stop.is_set():
                return
            await self.try_identify()
        if self.rejected is not None:
            stop.set()
            return
        installation = self.bot_app.deps.installation
        if installation is not None:
            log.info("serving workspace %s", installation.enterprise_id or installation.team_id)
        else:
            log.info("serving the workspaces installed through OAuth (%s)", INSTALL_PATH)
        if self.settings.slack_app_token is not None:
            self.socket = AsyncSocketModeHandler(
                self.bot_app,
                app_token=self.settings.slack_app_token.get_secret_value(),
                logger=SOCKET_LOG,
            )
            await self.socket.connect_async()  # retries by itself until connected or closed
            log.info("connected to Slack in Socket Mode")

    async def close(self) -> None:
        if self.socket is None:
            return
        try:
            await asyncio.wait_for(self.socket.close_async(), SOCKET_CLOSE_TIMEOUT)
        except Exception:
            # A WebSocket to an unreachable Slack does not close politely: drop its session.
            await self.socket.client.aiohttp_client_session.close()


def _reason(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return f"HTTP {error.response.status_code} {error.response.get('error') or ''}".strip()
    return one_line(error)


def leader_work(bot_app: DoughnutApp, scheduler: Scheduler) -> LeaderWork:
    """What only the leader runs: the outbox sender and the scheduler, until it resigns."""
    send_outbox = outbox_leader_work(bot_app.deps)

    async def lead(resign: asyncio.Event) -> None:
        await asyncio.gather(
            send_outbox(resign), run_scheduler(scheduler, bot_app.deps.clock.now, resign)
        )

    return lead
