"""SlackEmulator: a local Slack (Web API, response URLs, uploads, Socket Mode) on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import BasicAuth, WSMsgType, web

from bot.emulator import events
from bot.emulator.api import ApiError, Triggers
from bot.emulator.scopes import EVENT_SCOPES, Grants, takes_json
from bot.emulator.state import Channel, Message, Workspace
from bot.emulator.webapi import METHODS, WebApi

# Arguments slack_sdk sends as JSON strings in form bodies; recorded decoded.
JSON_ARGS = ("blocks", "attachments", "view", "metadata", "files")
APP_TOKEN_METHODS = ("apps.connections.open",)
NO_TOKEN_METHODS = ("oauth.v2.access",)
CLIENT_ID = "0000000001.0000000001"
CLIENT_SECRET = "local-client-secret"
CODE_TTL = 600.0  # Slack's authorization codes expire after ten minutes


@dataclass
class Install:
    """A bot token Slack issued: for which workspace (or org) and with which scopes."""

    team_id: str | None
    enterprise_id: str | None
    is_enterprise_install: bool
    scopes: set[str]
    user_id: str
    team_name: str = ""
    enterprise_name: str = ""


@dataclass
class _Code:
    install: Install
    redirect_uri: str | None
    issued_at: float


@dataclass
class Call:
    """One request the emulator received, with its decoded arguments (never the token)."""

    method: str
    args: dict[str, Any]
    at: float
    ok: bool = True
    error: str | None = None
    injected: bool = False  # answered by fail(), nothing was performed
    hung: bool = False  # performed, but the response was never sent
    # Whose token made the call: the team (or org, for an org-wide install) it was issued to.
    token_owner: str | None = None


@dataclass
class _Fault:
    error: str
    status: int
    retry_after: int | None
    times: int
    raw: str | None = None  # a raw body instead of Slack's JSON error (a garbled answer)


def _decode_json_args(args: dict[str, Any]) -> dict[str, Any]:
    for key in JSON_ARGS:
        value = args.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(value)
    return args


class SlackEmulator:
    """A faithful-enough Slack for one workspace, served by aiohttp on 127.0.0.1."""

    def __init__(
        self,
        state: Workspace | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        host: str = "127.0.0.1",
        port: int = 0,
        trigger_ttl: float = 3.0,
        grants: Grants | None = None,
    ) -> None:
        self.state = state or Workspace()
        self.clock = clock
        self.host = host
        self.port = port
        self.calls: list[Call] = []
        self.acks: list[Call] = []  # what the bot put in its acks, as the driver showed it
        self.triggers = Triggers(clock, ttl=trigger_ttl)
        # What the app may call and hear: the repository's manifest unless a test says otherwise.
        self.grants = grants or Grants.from_manifest()
        self.api = WebApi(self.state, self.triggers, lambda: self.base_url, self.grants)
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        self.installs: dict[str, Install] = {}  # bot tokens issued by oauth.v2.access
        self._codes: dict[str, _Code] = {}
        self._revoked: set[str] = set()
        self._faults: dict[str, list[_Fault]] = {}
        self._hangs: dict[str, int] = {}
        self._delays: dict[str, list[float]] = {}
        self._hooks: dict[str, list[Callable[[], Awaitable[None]]]] = {}
        self._runner: web.AppRunner | None = None
        self._socket: web.WebSocketResponse | None = None
        self._socket_ready = asyncio.Event()
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.socket_timeout = 5.0  # seconds to wait for a Socket Mode connection or ack

    # lifecycle

    async def start(self) -> SlackEmulator:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{url_id}", self._handle_response_url)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_get("/socket", self._handle_socket)
        # handler_cancellation: a client that gives up on a hung call frees its handler.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        for future in self._acks.values():
            future.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackEmulator:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def api_url(self) -> str:
        """For `AsyncWebClient(base_url=...)`, which appends the method name."""
        return f"{self.base_url}api/"

    @property
    def socket_url(self) -> str:
        return f"ws://{self.host}:{self.port}/socket"

    # recording and fault injection

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def clear_calls(self) -> None:
        self.calls.clear()

    def fail(
        self,
        method: str,
        *,
        error: str = "ratelimited",
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` answer `{"ok": false, "error": error}`.

        With `retry_after` and the default status, the status becomes 429, as Slack does.
        """
        if retry_after is not None and status == 200:
            status = 429
        self._faults.setdefault(method, []).append(_Fault(error, status, retry_after, times))

    def garble(self, method: str, body: str, *, status: int = 200, times: int = 1) -> None:
        """The next `times` calls of `method` perform nothing and answer `body` as JSON, raw."""
        self._faults.setdefault(method, []).append(_Fault("garbled", status, None, times, body))

    def before(self, method: str, hook: Callable[[], Awaitable[None]], times: int = 1) -> None:
        """The next `times` calls of `method` first await `hook` (to act while one is in flight)."""
        self._hooks.setdefault(method, []).extend([hook] * times)

    def hang_after_accept(self, method: str, times: int = 1) -> None:
        """The next `times` calls of `method` are performed but never answered."""
        self._hangs[method] = self._hangs.get(method, 0) + times

    def slow_down(self, method: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls of `method` answer only after `seconds` (a slow Slack)."""
        self._delays.setdefault(method, []).extend([seconds] * times)

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.pop(0)
        return fault

    def _take_hang(self, method: str) -> bool:
        if self._hangs.get(method, 0) <= 0:
            return False
        self._hangs[method] -= 1
        return True

    # interaction plumbing used by the driver

    def issue_trigger_id(self, user_id: str) -> str:
        """A fresh trigger_id for `user_id`, valid once, for 3 seconds of `clock`."""
        return self.triggers.issue(user_id)

    def issue_response_url(
        self, user_id: str, channel_id: str, message_ts: str | None = None
    ) -> str:
        """A response_url served by this emulator (message_ts: the message it may replace)."""
        return self.api.issue_response_url(user_id, channel_id, message_ts)

    def subscribe(self, *subscriptions: str) -> None:
        """The app subscribes to more events (with the scopes they need), as a test wants."""
        for subscription in subscriptions:
            self.grants.events.add(subscription)
            self.grants.scopes.update(EVENT_SCOPES.get(subscription, ())[:1])

    # OAuth

    def authorization_code(
        self,
        team_id: str | None = None,
        enterprise_id: str | None = None,
        *,
        is_enterprise_install: bool = False,
        user_id: str | None = None,
        scopes: set[str] | None = None,
        redirect_uri: str | None = None,
    ) -> str:
        """The `code` Slack puts on the redirect after someone installs the app.

        Default: this workspace's team. An org-wide install (`is_enterprise_install`) names
        the enterprise and no team. The code is good once, for ten minutes of `clock`.
        """
        bot_user = self.state.bot_user_id
        if is_enterprise_install:
            if not enterprise_id:
                raise ValueError("an org-wide install needs an enterprise_id")
            team_id = None
        else:
            team_id = team_id or self.state.team_id
        install = Install(
            team_id=team_id,
            enterprise_id=enterprise_id,
            is_enterprise_install=is_enterprise_install,
            scopes=set(self.grants.scopes if scopes is None else scopes),
            user_id=user_id or next((u for u in self.state.users if u != bot_user), ""),
            team_name=self.state.team_name if team_id == self.state.team_id else f"Team {team_id}",
            enterprise_name=f"Org {enterprise_id}" if enterprise_id else "",
        )
        code = f"{int(self.state.wall())}.{uuid.uuid4().hex[:12]}.{uuid.uuid4().hex}"
        self._codes[code] = _Code(install, redirect_uri, self.clock())
        return code

    def revoke(self, token: str) -> None:
        """The token stops working (`token_revoked`), as after an uninstall."""
        self._revoked.add(token)

    def _oauth_access(self, args: dict[str, Any], basic: BasicAuth | None) -> dict[str, Any]:
        client_id = basic.login if basic else args.get("client_id")
        secret = args.pop("client_secret", None)  # never recorded
        client_secret = basic.password if basic else secret
        if client_id != self.client_id:
            raise ApiError("invalid_client_id")
        if client_secret != self.client_secret:
            raise ApiError("bad_client_secret")
        code = self._codes.pop(str(args.get("code") or ""), None)
        if code is None or self.clock() - code.issued_at > CODE_TTL:
            raise ApiError("invalid_code")
        if code.redirect_uri and args.get("redirect_uri") != code.redirect_uri:
            raise ApiError("bad_redirect_uri")
        install = code.install
        token = f"xoxb-{install.team_id or install.enterprise_id}-{uuid.uuid4().hex[:24]}"
        self.installs[token] = install
        team = {"id": install.team_id, "name": install.team_name} if install.team_id else None
        enterprise = (
            {"id": install.enterprise_id, "name": install.enterprise_name}
            if install.enterprise_id
            else None
        )
        return {
            "ok": True,
            "access_token": token,
            "token_type": "bot",
            "scope": ",".join(sorted(install.scopes)),
            "bot_user_id": self.state.bot_user_id,
            "app_id": self.state.app_id,
            "team": team,
            "enterprise": enterprise,
            "is_enterprise_install": install.is_enterprise_install,
            "authed_user": {"id": install.user_id},
        }

    def _auth_test_for(self, install: Install) -> dict[str, Any]:
        body = self.api.auth_test({})
        body.update(
            team_id=install.team_id or "",
            team=install.team_name,
            enterprise_id=install.enterprise_id,
            is_enterprise_install=install.is_enterprise_install,
        )
        return body

    def _token_owner(self, token: str | None) -> str | None:
        install = self.installs.get(token or "")
        if install is not None:
            return install.team_id or install.enterprise_id
        return self.state.team_id if token == self.state.bot_token else None

    # HTTP handlers

    async def _read_args(
        self, request: web.Request, method: str
    ) -> tuple[dict[str, Any], str | None]:
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                # Slack reads a JSON body only for write methods; a read sees no arguments.
                if isinstance(body, dict) and takes_json(method):
                    args.update(body)
            else:
                form = await request.post()
                args.update({k: v for k, v in form.items() if isinstance(v, str)})
        token = args.pop("token", None)
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth.removeprefix("Bearer ").strip()
        return _decode_json_args(args), token

    def _authorize(self, method: str, token: str | None) -> None:
        if not token:
            raise ApiError("not_authed")
        if token in self._revoked:
            raise ApiError("token_revoked")
        bot_tokens = (self.state.bot_token, *self.installs)
        if method in APP_TOKEN_METHODS:
            if token == self.state.app_token:
                return
        elif token in bot_tokens:
            return
        if token == self.state.app_token or token in bot_tokens:
            raise ApiError("not_allowed_token_type")
        raise ApiError("invalid_auth")

    def _perform(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        install = self.installs.get(token or "")
        if method == "auth.test" and install is not None:
            return self._auth_test_for(install)
        if install is None:
            return self.api.call(method, args)
        # A token from an install carries that install's scopes.
        self.api.grants = Grants(install.scopes, self.grants.events)
        try:
            return self.api.call(method, args)
        finally:
            self.api.grants = self.grants

    def _connections_open(self) -> dict[str, Any]:
        return {"ok": True, "url": f"{self.socket_url}?ticket={uuid.uuid4()}"}

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        at = self.clock()
        try:
            args, token = await self._read_args(request, method)
        except ValueError:  # a body that is not JSON although it says so
            self.calls.append(Call(method, {}, at, ok=False, error="invalid_json"))
            return web.json_response({"ok": False, "error": "invalid_json"})
        hooks = self._hooks.get(method)
        if hooks:
            await hooks.pop(0)()
        delays = self._delays.get(method)
        if delays:
            await asyncio.sleep(delays.pop(0))
        fault = self._take_fault(method)
        if fault is not None:
            self.calls.append(Call(method, args, at, ok=False, error=fault.error, injected=True))
            if fault.raw is not None:
                return web.Response(
                    text=fault.raw, status=fault.status, content_type="application/json"
                )
            headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            body = {"ok": False, "error": fault.error}
            return web.json_response(body, status=fault.status, headers=headers)
        try:
            if method in NO_TOKEN_METHODS:
                basic = None
                with contextlib.suppress(ValueError):
                    basic = BasicAuth.decode(request.headers.get("Authorization", ""))
                body = self._oauth_access(args, basic)
            elif method not in METHODS and method not in APP_TOKEN_METHODS:
                raise ApiError("unknown_method", req_method=method)
            else:
                self._authorize(method, token)
                if method in APP_TOKEN_METHODS:
                    body = self._connections_open()
                else:
                    body = self._perform(method, args, token)
        except ApiError as exc:
            body = exc.body()
        call = Call(method, args, at, ok=bool(body.get("ok")), error=body.get("error"))
        call.token_owner = self._token_owner(token)
        self.calls.append(call)
        if self._take_hang(method):
            call.hung = True
            # Slack accepted the call; the bot never hears back (cancelled on disconnect).
            await asyncio.Event().wait()
        return web.json_response(body)

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        url_id = request.match_info["url_id"]
        try:
            if request.content_type == "application/json":
                body = await request.json()
            else:
                form = await request.post()
                body = json.loads(str(form.get("payload") or "{}"))
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return web.json_response({"ok": False, "error": "invalid_json"}, status=400)
        body = _decode_json_args(body)
        at = self.clock()
        fault = self._take_fault("response_url")
        if fault is not None:
            self.calls.append(
                Call("response_url", body, at, ok=False, error=fault.error, injected=True)
            )
            return web.json_response({"ok": False, "error": fault.error}, status=fault.status)
        try:
            result = self.api.respond(url_id, body)
            status = 200
        except ApiError as exc:
            result = exc.body()
            status = 404 if exc.error == "expired_url" else 200
        call = Call("response_url", {**body, "url_id": url_id}, at, ok=result["ok"])
        call.error = result.get("error")
        self.calls.append(call)
        return web.json_response(result, status=status)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        content = await request.read()
        file_id = request.match_info["file_id"]
        ok = self.api.receive_upload(file_id, content)
        self.calls.append(Call("upload", {"file_id": file_id, "size": len(content)}, self.clock()))
        if not ok:
            return web.Response(status=404, text="Not Found")
        return web.Response(text=f"OK - {len(content)}")

    # Socket Mode

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._socket = ws
        self._socket_ready.set()
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {
                    "host": "emulator",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.state.app_id},
            }
        )
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                with contextlib.suppress(ValueError):
                    data = json.loads(msg.data)
                    future = self._acks.pop(str(data.get("envelope_id")), None)
                    if future is not None and not future.done():
                        future.set_result(data)
        finally:
            if self._socket is ws:
                self._socket = None
                self._socket_ready.clear()
        return ws

    async def wait_for_socket(self) -> None:
        """Until a Socket Mode client is connected (at most `socket_timeout`)."""
        await asyncio.wait_for(self._socket_ready.wait(), self.socket_timeout)

    async def socket_send(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> dict[str, Any]:
        """Push an envelope to the connected client; returns its ack message."""
        await self.wait_for_socket()
        assert self._socket is not None
        envelope_id = str(uuid.uuid4())
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = future
        await self._socket.send_json(
            {
                "envelope_id": envelope_id,
                "payload": payload,
                "type": envelope_type,
                "accepts_response_payload": envelope_type != "events_api",
                "retry_attempt": retry_attempt,
                "retry_reason": retry_reason,
            }
        )
        try:
            return await asyncio.wait_for(future, self.socket_timeout)
        finally:
            self._acks.pop(envelope_id, None)

    # members acting in Slack: each returns the events Slack would send the bot

    def _member_in(self, user_id: str, channel_id: str) -> Channel:
        user = self.state.users.get(user_id)
        if user is None or user.deleted:
            raise ValueError(f"no active member {user_id}")
        if channel_id == self.state.bot_user_id:
            return self.state.dm_channel(user_id)
        channel = self.state.channels.get(channel_id)
        if channel is None:
            raise ValueError(f"no channel {channel_id}")
        if user_id not in channel.members:
            raise ValueError(f"{user_id} is not in {channel_id}")
        return channel

    def _bot_hears(self, channel: Channel) -> bool:
        return self.state.bot_user_id in channel.members

    def user_message(
        self, user_id: str, channel_id: str, text: str, thread_ts: str | None = None
    ) -> tuple[Message, list[dict[str, Any]]]:
        """A member posts; channel_id may be the bot's user id for the DM with the app."""
        channel = self._member_in(user_id, channel_id)
        if channel.is_archived:
            raise ValueError(f"{channel.id} is archived")
        if thread_ts:
            parent = self.state.find_message(channel.id, thread_ts)
            if parent is None:
                raise ValueError(f"no message {thread_ts} in {channel.id}")
            thread_ts = parent.thread_ts if parent.is_reply else parent.ts
        message = self.state.add_message(
            Message(channel.id, self.state.new_ts(), text, user=user_id, thread_ts=thread_ts)
        )
        found: list[dict[str, Any]] = []
        if self._bot_hears(channel):
            found.append(events.message_event(message, channel, self.state.team_id))
            mention = re.compile(rf"<@{re.escape(self.state.bot_user_id)}(\|[^>]*)?>")
            if not channel.is_im and mention.search(text):
                found.append(events.app_mention_event(message, channel, self.state.team_id))
        return message, found

    def edit_message(
        self, user_id: str, channel_id: str, ts: str, text: str
    ) -> dict[str, Any] | None:
        """A member edits their message: `message_changed`, if the bot is in the channel."""
        channel = self._member_in(user_id, channel_id)
        message = self.state.find_message(channel.id, ts)
        if message is None or message.user != user_id:
            raise ValueError(f"{user_id} has no message {ts} in {channel.id}")
        before = message.to_api(include_metadata=False)
        message.text = text
        message.edited_ts = self.state.new_ts()
        if not self._bot_hears(channel):
            return None
        return events.message_changed_event(before, message, channel, message.edited_ts)

    def delete_message(self, user_id: str, channel_id: str, ts: str) -> dict[str, Any] | None:
        """A member deletes their message: `message_deleted`, if the bot is in the channel."""
        channel = self._member_in(user_id, channel_id)
        message = self.state.find_message(channel.id, ts)
        if message is None or message.user != user_id:
            raise ValueError(f"{user_id} has no message {ts} in {channel.id}")
        self.state.remove_message(channel.id, ts)
        if not self._bot_hears(channel):
            return None
        return events.message_deleted_event(message, channel, self.state.new_ts())

    def _reaction(
        self, kind: str, user_id: str, channel_id: str, ts: str, name: str
    ) -> dict[str, Any] | None:
        channel = self._member_in(user_id, channel_id)
        message = self.state.find_message(channel.id, ts)
        if message is None:
            raise ValueError(f"no message {ts} in {channel.id}")
        name = name.strip(":")
        users = message.reactions.setdefault(name, [])
        if kind == "reaction_added":
            if user_id in users:
                raise ValueError(f"{user_id} already reacted with {name}")
            users.append(user_id)
        else:
            if user_id not in users:
                raise ValueError(f"{user_id} has no {name} reaction there")
            users.remove(user_id)
        if not users:
            del message.reactions[name]
        if not self._bot_hears(channel):
            return None
        return events.reaction_event(kind, user_id, name, message, self.state.new_ts())

    def add_reaction(
        self, user_id: str, channel_id: str, ts: str, name: str
    ) -> dict[str, Any] | None:
        """A member reacts: `reaction_added` (None when the bot is not in the channel)."""
        return self._reaction("reaction_added", user_id, channel_id, ts, name)

    def remove_reaction(
        self, user_id: str, channel_id: str, ts: str, name: str
    ) -> dict[str, Any] | None:
        """A member takes a reaction back: `reaction_removed`."""
        return self._reaction("reaction_removed", user_id, channel_id, ts, name)

    def join(
        self, user_id: str, channel_id: str, inviter: str | None = None
    ) -> dict[str, Any] | None:
        """A member (or the bot) joins: `member_joined_channel`, if the bot is in the channel."""
        channel = self.state.channels.get(channel_id)
        user = self.state.users.get(user_id)
        if channel is None or user is None or user.deleted or channel.is_im:
            raise ValueError(f"{user_id} cannot join {channel_id}")
        if user_id in channel.members:
            raise ValueError(f"{user_id} is already in {channel_id}")
        channel.members.add(user_id)
        ts = self.state.new_ts()
        text = f"<@{user_id}> has joined the channel"
        self.state.add_message(Message(channel.id, ts, text, user=user_id, subtype="channel_join"))
        if not self._bot_hears(channel):
            return None
        return events.member_joined_event(user_id, channel, self.state.team_id, ts, inviter)

    def remove_from_channel(
        self, remover_id: str, user_id: str, channel_id: str
    ) -> dict[str, Any] | None:
        """A member removes someone (the bot, say): `member_left_channel`, which the bot hears
        about its own removal too."""
        channel = self._member_in(remover_id, channel_id)
        if user_id not in channel.members:
            raise ValueError(f"{user_id} is not in {channel_id}")
        heard = self._bot_hears(channel)
        channel.members.discard(user_id)
        if not heard:
            return None
        ts = self.state.new_ts()
        return events.member_left_event(user_id, channel, self.state.team_id, ts)

    def set_archived(self, user_id: str, channel_id: str, archived: bool) -> dict[str, Any] | None:
        """A member archives (or unarchives) a channel: `channel_archive` / `channel_unarchive`
        for a public one (to every app), `group_archive` / `group_unarchive` for a private one
        (to the apps in it)."""
        channel = self.state.channels.get(channel_id)
        if channel is None or channel.is_im or channel.is_mpim:
            raise ValueError(f"{channel_id} cannot be archived")
        if channel.is_archived == archived:
            raise ValueError(f"{channel_id} is {'already' if archived else 'not'} archived")
        channel.is_archived = archived
        if channel.is_private and not self._bot_hears(channel):
            return None
        kind = ("group" if channel.is_private else "channel") + (
            "_archive" if archived else "_unarchive"
        )
        return events.channel_archive_event(kind, user_id, channel, self.state.new_ts())

    def open_home(self, user_id: str) -> dict[str, Any]:
        """A member opens the app's Home tab: `app_home_opened`."""
        dm = self.state.dm_channel(user_id)
        view = self.state.home_views.get(user_id)
        return events.app_home_opened_event(user_id, dm, self.state.new_ts(), view)

    def deactivate(self, user_id: str) -> dict[str, Any]:
        """An admin deactivates a member: `user_change` with `deleted: true`."""
        user = self.state.users[user_id]
        user.deleted = True
        return events.user_change_event(user, self.state.team_id, self.state.new_ts())

    def rename(self, user_id: str, name: str, tz: str | None = None) -> dict[str, Any]:
        """A member changes their display name (and timezone): `user_change`."""
        user = self.state.users[user_id]
        user.display_name = name
        if tz is not None:
            user.tz = tz
        return events.user_change_event(user, self.state.team_id, self.state.new_ts())

    def new_member(self, name: str, **options: Any) -> dict[str, Any]:
        """Someone joins the workspace: `team_join`."""
        user = self.state.add_user(name, **options)
        return events.team_join_event(user, self.state.team_id, self.state.new_ts())

    def update_group(self, group_id: str, members: list[str]) -> dict[str, Any]:
        """A user group is edited (its members set whole): `subteam_updated`."""
        handle, _ = self.state.user_groups[group_id]
        self.state.user_groups[group_id] = (handle, list(members))
        return events.subteam_updated_event(
            group_id, handle, self.state.team_id, list(members), self.state.new_ts()
        )

    def change_group(
        self,
        group_id: str,
        added: list[str] = (),
        removed: list[str] = (),  # type: ignore[assignment]
    ) -> dict[str, Any]:
        """Members join or leave a user group: `subteam_members_changed`."""
        handle, members = self.state.user_groups[group_id]
        kept = [u for u in members if u not in removed] + [u for u in added if u not in members]
        self.state.user_groups[group_id] = (handle, kept)
        return events.subteam_members_changed_event(
            group_id, self.state.team_id, list(added), list(removed), self.state.new_ts()
        )
