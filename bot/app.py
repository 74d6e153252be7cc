"""The Bolt app factory: ack after the listener's own commit, and no failure reaches Slack raw."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.listener_matcher.async_builtins import AsyncBuiltinListenerMatcher
from slack_bolt.listener_matcher.async_listener_matcher import (
    AsyncCustomListenerMatcher,
    AsyncListenerMatcher,
)
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock, SystemClock
from bot.deps import Deps
from bot.failures import (
    SORRY,
    error_response,
    is_transient,
    new_reference,
    not_installed_response,
    request_kind,
)
from bot.installations import Installations, ResolvedAuthorize
from bot.logs import one_line
from bot.manifest import load_manifest, manifest_declarations
from bot.metrics import Metrics
from bot.registry import Registry
from bot.settings import Settings
from bot.tenancy import Installation, why_not_served
from bot.unit_of_work import DuplicateEvent, OutboxSay, UnitOfWork, guarded_client
from handlers import register_all
from storage.db import Database

log = logging.getLogger("doughnut.app")

# Inline Web API calls (views.open) must fit, with the rest of the request, in Slack's 3 seconds.
INLINE_CALL_TIMEOUT = 2.0
# The outbox sends after the ack: a slow Slack costs it time, not a person's wait.
OUTBOX_CALL_TIMEOUT = 20.0
# Slack waits 3 s for the ack: whatever hangs, the listener is stopped after this and the
# person told that nothing was saved, within CLEANUP_BUDGET more.
REQUEST_DEADLINE = 2.2
CLEANUP_BUDGET = 0.3
# Looking a request's team up in the installation store, within the request's 2.5 s.
STORE_LOOKUP_TIMEOUT = 1.0
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# Slack's own checks (url_verification) are served for no workspace in particular.
NO_WORKSPACE = Installation(team_id=None, enterprise_id=None, bot_user_id=None, bot_id=None)
# Interactions ignore the ack body: their failures are told through the outbox.
TOLD_SEPARATELY = ("block_actions", "shortcut", "message_action", "view_closed")


class DoughnutApp(AsyncApp):
    """An AsyncApp whose every request runs in one unit of work, finished before the ack."""

    def __init__(self, *, deps: Deps, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deps = deps
        self.request_deadline = REQUEST_DEADLINE
        # What the capabilities registered (subcommands, help, Home, jobs, scopes, events).
        self.registry = Registry()
        # What the manifest must declare: every command, event and shortcut listened to.
        self.listened: dict[str, set[str]] = {
            "commands": set(),
            "events": set(),
            "shortcuts": set(),
        }

    def command(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(command, str):
            self.listened["commands"].add(command)
        return super().command(command, *args, **kwargs)

    def event(
        self,
        event: Any,
        matchers: Any = None,
        *args: Any,
        include_bots: bool = False,
        **kwargs: Any,
    ) -> Any:
        name = event.get("type") if isinstance(event, dict) else event
        channel_type = event.get("channel_type") if isinstance(event, dict) else None
        if channel_type:
            # Slack subscribes to messages per conversation type (`message.im`); Bolt can't filter.
            subscription = MESSAGE_SUBSCRIPTIONS.get(channel_type, channel_type)
            self.listened["events"].add(f"{name}.{subscription}")
            matchers = [*(matchers or []), in_conversation_type(channel_type)]
        elif isinstance(name, str):
            self.listened["events"].add(name)
        if name in MESSAGE_EVENTS and not include_bots:
            matchers = [*(matchers or []), sent_by_a_person]
        return super().event(event, matchers, *args, **kwargs)

    def message(
        self, keyword: Any = "", matchers: Any = None, *args: Any, include_bots: bool = False,
        **kwargs: Any,
    ) -> Any:  # fmt: skip
        """Like Bolt's, but messages from bots (this one included) only with `include_bots`."""
        self.listened["events"].add("message")
        if not include_bots:
            matchers = [*(matchers or []), sent_by_a_person]
        return super().message(keyword, matchers, *args, **kwargs)

    def shortcut(self, constraints: Any, *args: Any, **kwargs: Any) -> Any:
        self._remember_shortcut(constraints)
        return super().shortcut(constraints, *args, **kwargs)

    def global_shortcut(self, callback_id: Any, *args: Any, **kwargs: Any) -> Any:
        self._remember_shortcut(callback_id)
        return super().global_shortcut(callback_id, *args, **kwargs)

    def message_shortcut(self, callback_id: Any, *args: Any, **kwargs: Any) -> Any:
        self._remember_shortcut(callback_id)
        return super().message_shortcut(callback_id, *args, **kwargs)

    def _remember_shortcut(self, constraints: Any) -> None:
        callback_id = (
            constraints.get("callback_id") if isinstance(constraints, dict) else constraints
        )
        if isinstance(callback_id, str):
            self.listened["shortcuts"].add(callback_id)

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        started = time.perf_counter()
        kind = request_kind(req.body)
        try:
            installation, refusal = await self._tenant(req, kind)
        except Exception as error:
            reference = new_reference()
            why = one_line(error)
            log.error("the installation store failed (%s, reference=%s)", why, reference)
            response = _failure_response(kind, error, reference)
        else:
            if refusal is not None or installation is None:
                log.info("refused a %s request: %s", kind, refusal)
                response = not_installed_response(kind)
            else:
                req.context["installation"] = installation  # for ResolvedAuthorize
                response = await self._serve(req, kind, installation)
        self.deps.metrics.observe_request(kind, response.status, time.perf_counter() - started)
        return response

    async def _tenant(
        self, req: AsyncBoltRequest, kind: str
    ) -> tuple[Installation | None, str | None]:
        """The installation serving this request (as Bolt derives its team), or why none does."""
        context = req.context
        installations = self.deps.installations
        if kind in ("url_verification", "ssl_check"):  # Slack's own checks name no team
            if installations is not None:
                return NO_WORKSPACE, None
            installation = self.deps.installation
            return installation, None if installation else "the installation is not known yet"
        if installations is None:
            installation = self.deps.installation
        else:
            async with asyncio.timeout(STORE_LOOKUP_TIMEOUT):
                installation = await installations.find(
                    context.enterprise_id, context.team_id, bool(context.is_enterprise_install)
                )
            if installation is None and _ends_installation(req.body):
                # As Bolt does: handled even when the store has nothing left (a retry, a race).
                installation = Installation(
                    team_id=context.team_id,
                    enterprise_id=context.enterprise_id,
                    bot_user_id=None,
                    bot_id=None,
                    is_enterprise_install=bool(context.is_enterprise_install),
                )
            if installation is None:
                return None, (
                    f"no installation for team {context.team_id!r:.24} "
                    f"(enterprise {context.enterprise_id!r:.24})"
                )
        acting = _acting_team(req.body)
        teams = [context.team_id, *([acting] if acting else [])]
        return installation, why_not_served(installation, teams, context.enterprise_id)

    async def _serve(
        self, req: AsyncBoltRequest, kind: str, installation: Installation
    ) -> BoltResponse:
        """Run the request in one unit of work, within the deadline."""
        uow = UnitOfWork(self.deps, installation)
        # An org-wide token needs the acting team on many Web API calls.
        body = req.body
        uow.acting_team_id = req.context.team_id or _acting_team(body) or body.get("team_id")
        req.context["deps"] = self.deps
        req.context["uow"] = uow
        try:
            async with asyncio.timeout(self.request_deadline):
                response = await super().async_dispatch(req)
        except TimeoutError:
            return await _too_slow(uow, req.body, kind)
        try:
            await uow.finish(ok=response.status < 400)
        except DuplicateEvent as duplicate:
            log.info("event %s was already handled; this delivery changed nothing", duplicate)
        except Exception as error:
            # The listener answered, but its record is not stored: the person must not see success.
            reference = new_reference()
            log.exception("commit failed (kind=%s, reference=%s)", kind, reference)
            response = _failure_response(kind, error, reference)
        return response


MESSAGE_EVENTS = ("message", "app_mention")
# An event's `channel_type` → its subscription's suffix (`message.channels` for "channel").
MESSAGE_SUBSCRIPTIONS = {"channel": "channels", "group": "groups", "im": "im", "mpim": "mpim"}


async def sent_by_a_person(body: dict[str, Any]) -> bool:
    """A listener matcher: the message was not posted by a bot or an integration."""
    event = body.get("event") or {}
    return not event.get("bot_id") and event.get("subtype") != "bot_message"


def in_conversation_type(channel_type: str) -> Callable[[dict[str, Any]], Awaitable[bool]]:
    """A listener matcher: the event happened in that kind of conversation (`im`, `channel`…)."""

    async def matches(body: dict[str, Any]) -> bool:
        return (body.get("event") or {}).get("channel_type") == channel_type

    return matches


def make_client(settings: Settings, *, timeout: float = INLINE_CALL_TIMEOUT) -> AsyncWebClient:
    """A Web API client for SLACK_API_URL with no retry handler that sleeps (the outbox retries)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = AsyncWebClient(token=token, base_url=settings.api_url, timeout=timeout)  # type: ignore[arg-type]
    client.retry_handlers.clear()
    return client


async def open_connection_pool(client: AsyncWebClient) -> Callable[[], Awaitable[None]]:
    """Give the client one HTTP session for all its calls; returns what closes it.

    Without it slack_sdk opens a session, and so a TLS connection, for every call. Bolt's
    per-request clients share the session too. It must be made inside the running loop.
    slack_sdk applies its `timeout` only to sessions it makes itself, so the shared session
    carries the client's timeout as a hard total.
    """
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=client.timeout))
    client.session = session
    return session.close


def create_app(
    settings: Settings,
    *,
    client: AsyncWebClient | None = None,
    outbox_client: AsyncWebClient | None = None,
    installation: Installation | None = None,
    db: Database | None = None,
    clock: Clock | None = None,
    metrics: Metrics | None = None,
) -> DoughnutApp:
    """Build the app with every capability registered; nothing starts running here.

    With SLACK_CLIENT_ID set, workspaces install through OAuth and the store in our database
    says who is served, with which token; else the one bot token's workspace is served.
    """
    client = client or make_client(settings)
    db = db or Database(settings.database_url)
    clock = clock or SystemClock()
    installations = None
    if settings.oauth:
        assert settings.slack_client_id is not None
        installations = Installations(db, settings.slack_client_id, clock)
    deps = Deps(
        settings=settings,
        db=db,
        clock=clock,
        client=client,
        metrics=metrics or Metrics(),
        outbox_client=outbox_client or client,
        installation=installation,
        installations=installations,
    )
    secret = settings.slack_signing_secret
    bolt_logger = logging.getLogger("doughnut.bolt")
    bolt_logger.addFilter(_ignore_token_warning)
    oauth: dict[str, Any] = {}
    if installations is not None:
        oauth = {
            "oauth_settings": oauth_settings(settings, installations),
            "authorize": ResolvedAuthorize(),
        }
    app = DoughnutApp(
        deps=deps,
        client=client,
        signing_secret=secret.get_secret_value() if secret else "",
        process_before_response=True,
        # The HTTP server verifies signatures before Bolt (robust to junk headers, no body logged).
        request_verification_enabled=False,
        raise_error_for_unhandled_request=True,
        logger=bolt_logger,
        name="doughnut",
        **oauth,
    )
    app.use(EventsOnce())
    app.error(_on_error)
    app.registry = register_all(app)
    _match_on_body(app)
    return app


def oauth_settings(settings: Settings, installations: Installations) -> AsyncOAuthSettings:
    """Bolt's OAuth flow on our stores, every value given (Bolt would read the environment)."""
    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=sorted(manifest_declarations(load_manifest())["bot_scopes"]),
        user_scopes=[],
        redirect_uri=settings.slack_redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        # Straight to Slack's approval page: no page of ours in between.
        install_page_rendering_enabled=False,
        authorization_url=settings.authorize_url,
        installation_store=installations.store,
        installation_store_bot_only=True,
        state_store=installations.state_store,
        logger=logging.getLogger("doughnut.oauth"),
    )


def _ends_installation(body: dict[str, Any]) -> bool:
    return (body.get("event") or {}).get("type") in ("app_uninstalled", "tokens_revoked")


class BodyMatcher(AsyncListenerMatcher):
    """A listener matcher that reads the body alone, called without Bolt's argument injection.

    Bolt builds every matcher's arguments for every listener it tries, on every request: that
    was a tenth of an event's ack. Its built-in matchers and ours only read the body.
    """

    def __init__(self, func: Callable[..., Awaitable[bool]]) -> None:
        self.func = func

    async def async_matches(self, req: AsyncBoltRequest, resp: BoltResponse) -> bool:
        return await self.func(body=req.body)


def _match_on_body(app: AsyncApp) -> None:
    for listener in app._async_listeners:
        listener.matchers = [
            BodyMatcher(m.func)
            if isinstance(m, AsyncBuiltinListenerMatcher | AsyncCustomListenerMatcher)
            and list(m.arg_names) == ["body"]
            else m
            for m in listener.matchers
        ]


def _ignore_token_warning(record: logging.LogRecord) -> bool:
    # Bolt reads SLACK_BOT_TOKEN itself and warns that our client's token wins: it is the same.
    return "`token` will be unused" not in record.getMessage()


class EventsOnce(AsyncMiddleware):
    """Events once: the unit of work records `(workspace, event_id)` with the event's effects.

    An event listener's `say` queues in the outbox, and its `client` refuses writes until the
    event is claimed, so a retried event cannot post twice.

    A plain middleware class, not a decorated function: Bolt's argument injection for those
    costs more than the rest of a help command's ack.
    """

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        body = req.body
        if body.get("type") == "event_callback" and body.get("event_id"):
            uow: UnitOfWork = req.context["uow"]
            uow.expect_event(body["event_id"])
            req.context["client"] = guarded_client(req.context.client, uow)
            req.context["say"] = OutboxSay(uow, req.context.channel_id)
        return await next()


async def _on_error(
    error: Exception, body: dict[str, Any], context: AsyncBoltContext
) -> BoltResponse:
    uow: UnitOfWork | None = context.get("uow")
    if isinstance(error, BoltUnhandledRequestError):
        # Slack retries a 404; a request nobody listens to is simply acknowledged.
        log.debug("no listener for %s", request_kind(body))
        if uow is not None:
            uow.forget_event()
        return BoltResponse(status=200, body="")
    if isinstance(error, DuplicateEvent):
        log.info("event %s was already handled; this delivery changed nothing", error)
        if uow is not None:
            uow.failed = True
            await uow.rollback()
        return BoltResponse(status=200, body="")
    kind = request_kind(body)
    reference = new_reference()
    if is_transient(error):
        # A passing failure (the database busy in a burst): one line, not a traceback each
        # (formatting those costs the CPU a burst is short of, and floods the log).
        log.warning(
            "listener failed, passing (kind=%s, what=%s, reference=%s): %s: %s",
            kind,
            _what(body),
            reference,
            type(error).__name__,
            error,
        )
    else:
        log.error(
            "listener failed (kind=%s, team=%s, user=%s, what=%s, reference=%s)",
            kind,
            context.team_id,
            context.user_id,
            _what(body),
            reference,
            exc_info=error,
        )
    if uow is not None:
        uow.failed = True
        await uow.rollback()
        if kind in TOLD_SEPARATELY:
            await _tell_person(uow, body, reference)
    return _failure_response(kind, error, reference)


async def _too_slow(uow: UnitOfWork, body: dict[str, Any], kind: str) -> BoltResponse:
    """The listener ran out of time: nothing it did is kept, and the person is told."""
    reference = new_reference()
    log.error(
        "request over its deadline (kind=%s, what=%s, reference=%s)", kind, _what(body), reference
    )
    uow.failed = True
    try:
        async with asyncio.timeout(CLEANUP_BUDGET):
            await uow.rollback()
            if kind in TOLD_SEPARATELY:
                await _tell_person(uow, body, reference)
    except Exception as error:  # a rollback of a cancelled query may fail too; it is logged once
        what = type(error).__name__
        log.error("could not clean up after a deadline (%s, reference=%s)", what, reference)
    return _failure_response(kind, TimeoutError(), reference)


def _failure_response(kind: str, error: BaseException, reference: str) -> BoltResponse:
    if kind == "event":
        # A passing failure gets a 5xx so Slack retries; a lasting one is not worth retrying.
        return BoltResponse(status=503 if is_transient(error) else 200, body="")
    return error_response(kind, reference)


async def _tell_person(uow: UnitOfWork, body: dict[str, Any], reference: str) -> None:
    """Interactions ignore the ack body: tell the person through the outbox, in its own commit."""
    user_id = (body.get("user") or {}).get("id")
    if not user_id:
        return
    channel_id = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    text = SORRY.format(reference=reference)
    try:
        if channel_id:
            await uow.deliver(
                "chat.postEphemeral",
                {"channel": channel_id, "user": user_id, "text": text},
                channel=channel_id,
            )
        else:
            await uow.deliver(
                "chat.postMessage", {"channel": user_id, "text": text}, channel=user_id
            )
        await uow.commit()
    except Exception:
        log.exception("could not queue the failure notice (reference=%s)", reference)
        await uow.rollback()


def _acting_team(body: dict[str, Any]) -> str | None:
    """The workspace of whoever acted (Bolt trusts a view's `app_installed_team_id` first)."""
    team = body.get("team")
    if isinstance(team, dict):
        return team.get("id") or None
    return None


def _what(body: dict[str, Any]) -> str:
    """The command, callback or event a request was about, for the log."""
    if body.get("command"):
        return str(body["command"])
    if body.get("type") == "event_callback":
        event = body.get("event") or {}
        return f"{event.get('type')} {body.get('event_id')}"
    view = body.get("view") or {}
    actions = body.get("actions") or [{}]
    return str(body.get("callback_id") or view.get("callback_id") or actions[0].get("action_id"))
