"""SlackDriver: sends the bot signed requests shaped exactly as Slack sends them."""

from __future__ import annotations

import base64
import copy
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bot.emulator.api import ApiError
from bot.emulator.server import Call, SlackEmulator
from bot.emulator.state import Message
from bot.emulator.webapi import ResponseUrl

VERIFICATION_TOKEN = "local-verification-token"  # the deprecated `token` field Slack still sends
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass
class Reply:
    """What the bot answered."""

    status: int
    headers: Mapping[str, str]
    text: str
    json: Any = None


@dataclass
class _Signing:
    sign: bool = True
    signing_secret: str | None = None
    timestamp: int | str | None = None


class SlackDriver:
    """Builds, signs and sends Slack's requests to the bot (HTTP, or Socket Mode envelopes)."""

    def __init__(
        self,
        emulator: SlackEmulator,
        bot_url: str | None,
        signing_secret: str,
        *,
        session: aiohttp.ClientSession | None = None,
        socket_mode: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.emu = emulator
        self.bot_url = bot_url
        self.signing_secret = signing_secret
        self.socket_mode = socket_mode or bot_url is None
        self.timeout = timeout
        self._session = session
        self._own_session = session is None

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> SlackDriver:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # the wire

    def sign_headers(self, body: bytes, content_type: str, signing: _Signing) -> dict[str, str]:
        """Content type plus Slack's timestamp and v0 signature headers."""
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        timestamp = str(signing.timestamp if signing.timestamp is not None else int(time.time()))
        headers["X-Slack-Request-Timestamp"] = timestamp
        if signing.sign:
            verifier = SignatureVerifier(signing.signing_secret or self.signing_secret)
            signature = verifier.generate_signature(timestamp=timestamp, body=body)
            headers["X-Slack-Signature"] = signature or ""
        return headers

    async def post(self, body: bytes, headers: Mapping[str, str]) -> Reply:
        """POST raw bytes to the bot's endpoint (for malformed-request tests)."""
        if self.bot_url is None:
            raise RuntimeError("this driver has no bot_url (Socket Mode only)")
        if self._session is None:
            self._session = aiohttp.ClientSession()
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with self._session.post(
            self.bot_url, data=body, headers=dict(headers), timeout=timeout
        ) as resp:
            text = await resp.text()
            return Reply(resp.status, dict(resp.headers), text, _maybe_json(text))

    async def _send(
        self,
        envelope_type: str,
        data: dict[str, Any],
        body: bytes,
        content_type: str,
        signing: _Signing,
        extra_headers: Mapping[str, str] | None = None,
        retry: tuple[int, str] = (0, ""),
    ) -> Reply:
        if self.socket_mode:
            ack = await self.emu.socket_send(
                envelope_type, data, retry_attempt=retry[0], retry_reason=retry[1]
            )
            payload = ack.get("payload")
            return Reply(200, {}, json.dumps(payload) if payload else "", payload)
        headers = self.sign_headers(body, content_type, signing)
        headers.update(extra_headers or {})
        return await self.post(body, headers)

    async def _send_interaction(self, payload: dict[str, Any], signing: _Signing) -> Reply:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self._send("interactive", payload, body, FORM, signing)

    # who and where

    def _user(self, user_id: str) -> dict[str, Any]:
        user = self.emu.state.users[user_id]
        return {
            "id": user.id,
            "username": user.name,
            "name": user.name,
            "team_id": self.emu.state.team_id,
        }

    def _team(self) -> dict[str, Any]:
        return {"id": self.emu.state.team_id, "domain": self.emu.state.domain}

    def _channel_name(self, channel_id: str) -> str:
        channel = self.emu.state.channels.get(channel_id)
        if channel is None:
            return ""
        if channel.is_im:
            return "directmessage"
        if channel.is_private and not channel.is_mpim:
            return "privategroup"
        return channel.name

    def _common(self, kind: str, user_id: str) -> dict[str, Any]:
        return {
            "type": kind,
            "user": self._user(user_id),
            "api_app_id": self.emu.state.app_id,
            "token": VERIFICATION_TOKEN,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _record_ack(self, kind: str, args: dict[str, Any], run: Any) -> None:
        """Show what the bot put in its ack, as Slack would, and record whether it could."""
        try:
            run()
            self.emu.acks.append(Call(kind, args, self.emu.clock()))
        except ApiError as exc:
            self.emu.acks.append(Call(kind, args, self.emu.clock(), ok=False, error=exc.error))

    # slash commands

    async def command(
        self,
        user_id: str,
        channel_id: str,
        command: str,
        text: str = "",
        *,
        sign: bool = True,
        signing_secret: str | None = None,
        timestamp: int | str | None = None,
    ) -> Reply:
        """A slash command, form-encoded exactly like Slack; a non-empty ack is shown."""
        state = self.emu.state
        user = state.users[user_id]
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": state.team_id,
            "team_domain": state.domain,
            "channel_id": channel_id,
            "channel_name": self._channel_name(channel_id),
            "user_id": user_id,
            "user_name": user.name,
            "command": command,
            "text": text,
            "api_app_id": state.app_id,
            "is_enterprise_install": "false",
            "response_url": self.emu.issue_response_url(user_id, channel_id),
            "trigger_id": self.emu.issue_trigger_id(user_id),
        }
        body = urlencode(fields).encode()
        reply = await self._send(
            "slash_commands", fields, body, FORM, _Signing(sign, signing_secret, timestamp)
        )
        if reply.status == 200 and reply.text.strip():
            ack = reply.json if isinstance(reply.json, dict) else {"text": reply.text}
            target = ResponseUrl(user_id, channel_id)
            self._record_ack("command", ack, lambda: self.emu.api.deliver(target, ack))
        return reply

    # interactivity

    def _view(self, view: dict[str, Any] | str) -> dict[str, Any]:
        if isinstance(view, str):
            found = self.emu.api.find_view(view)
            if found is None:
                raise KeyError(f"no open view {view}")
            return copy.deepcopy(found)
        return copy.deepcopy(view)

    async def block_actions(
        self,
        user_id: str,
        actions: list[dict[str, Any]],
        *,
        container: dict[str, Any] | None = None,
        view: dict[str, Any] | str | None = None,
        message: Message | dict[str, Any] | None = None,
        channel_id: str | None = None,
        state_values: dict[str, Any] | None = None,
        sign: bool = True,
        signing_secret: str | None = None,
        timestamp: int | str | None = None,
    ) -> Reply:
        """Clicks on interactive elements; in a message (pass `message`) or a view."""
        payload = self._common("block_actions", user_id)
        payload["trigger_id"] = self.emu.issue_trigger_id(user_id)
        if isinstance(message, Message):
            channel_id = channel_id or message.channel
            message = message.to_api(include_metadata=False)
        view_data = self._view(view) if view is not None else None
        if container is None:
            if view_data is not None:
                container = {"type": "view", "view_id": view_data["id"]}
            elif message is not None:
                container = {
                    "type": "message",
                    "message_ts": message["ts"],
                    "channel_id": channel_id,
                    "is_ephemeral": False,
                }
            else:
                raise ValueError("block_actions needs a container, a view or a message")
        payload["container"] = container
        if view_data is not None:
            view_data["state"] = {"values": normalize_values(state_values or {})}
            payload["view"] = view_data
        if message is not None and channel_id:
            payload["channel"] = {"id": channel_id, "name": self._channel_name(channel_id)}
            payload["message"] = message
            payload["response_url"] = self.emu.issue_response_url(
                user_id, channel_id, message.get("ts")
            )
            payload["state"] = {"values": normalize_values(state_values or {})}
        now = f"{time.time():.6f}"
        payload["actions"] = [
            {"type": "button", "block_id": "", "action_ts": now, **action} for action in actions
        ]
        return await self._send_interaction(payload, _Signing(sign, signing_secret, timestamp))

    async def view_submission(
        self,
        user_id: str,
        view: dict[str, Any] | str,
        values: dict[str, Any],
        *,
        sign: bool = True,
        signing_secret: str | None = None,
        timestamp: int | str | None = None,
    ) -> Reply:
        """A modal submitted with `values` ({block_id: {action_id: value or state dict}})."""
        view_data = self._view(view)
        view_data["state"] = {"values": normalize_values(values)}
        payload = self._common("view_submission", user_id)
        payload["trigger_id"] = self.emu.issue_trigger_id(user_id)
        payload["view"] = view_data
        payload["response_urls"] = []
        reply = await self._send_interaction(payload, _Signing(sign, signing_secret, timestamp))
        if reply.status == 200:
            ack = reply.json if isinstance(reply.json, dict) else None
            self._record_ack(
                "view_submission",
                ack or {},
                lambda: self.emu.api.after_submission(user_id, view_data["id"], ack),
            )
        return reply

    async def view_closed(
        self, user_id: str, view: dict[str, Any] | str, *, is_cleared: bool = False
    ) -> Reply:
        """The user closed a modal (Slack sends this only with notify_on_close)."""
        view_data = self._view(view)
        self.emu.api.close_view(user_id, view_data["id"], cleared=is_cleared)
        payload = self._common("view_closed", user_id)
        payload["view"] = view_data
        payload["is_cleared"] = is_cleared
        return await self._send_interaction(payload, _Signing())

    async def message_action(
        self, user_id: str, channel_id: str, message_ts: str, callback_id: str
    ) -> Reply:
        """A message shortcut on a stored message."""
        message = self.emu.state.find_message(channel_id, message_ts)
        if message is None:
            raise KeyError(f"no message {message_ts} in {channel_id}")
        payload = self._common("message_action", user_id)
        payload.update(
            {
                "action_ts": f"{time.time():.6f}",
                "channel": {"id": channel_id, "name": self._channel_name(channel_id)},
                "callback_id": callback_id,
                "trigger_id": self.emu.issue_trigger_id(user_id),
                "response_url": self.emu.issue_response_url(user_id, channel_id),
                "message_ts": message_ts,
                "message": message.to_api(include_metadata=False),
            }
        )
        return await self._send_interaction(payload, _Signing())

    async def shortcut(self, user_id: str, callback_id: str) -> Reply:
        """A global shortcut."""
        payload = self._common("shortcut", user_id)
        payload.update(
            {
                "action_ts": f"{time.time():.6f}",
                "callback_id": callback_id,
                "trigger_id": self.emu.issue_trigger_id(user_id),
            }
        )
        return await self._send_interaction(payload, _Signing())

    # events

    def event_envelope(self, inner_event: dict[str, Any], event_id: str | None = None) -> dict:
        """The `event_callback` wrapper Slack puts around an inner event."""
        state = self.emu.state
        context = {"team_id": state.team_id, "app_id": state.app_id, "nonce": secrets.token_hex(4)}
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": state.team_id,
            "context_team_id": state.team_id,
            "context_enterprise_id": None,
            "api_app_id": state.app_id,
            "event": inner_event,
            "type": "event_callback",
            "event_id": event_id or "Ev0" + secrets.token_hex(5).upper(),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": state.team_id,
                    "user_id": state.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + base64.b64encode(json.dumps(context).encode()).decode(),
        }

    async def event(
        self,
        inner_event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        sign: bool = True,
        signing_secret: str | None = None,
        timestamp: int | str | None = None,
    ) -> Reply:
        """An Events API delivery (a retry when `retry_num` is given)."""
        envelope = self.event_envelope(inner_event, event_id)
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        body = json.dumps(envelope).encode()
        retry = (retry_num or 0, retry_reason or ("http_timeout" if retry_num else ""))
        signing = _Signing(sign, signing_secret, timestamp)
        return await self._send("events_api", envelope, body, JSON, signing, headers, retry)

    async def url_verification(self, challenge: str = "local-challenge") -> Reply:
        """The handshake Slack sends when the Request URL is saved."""
        data = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        body = json.dumps(data).encode()
        return await self.post(body, self.sign_headers(body, JSON, _Signing()))

    # conveniences: a member acts in the emulator, the bot hears about it

    async def say(
        self, user_id: str, channel_id: str, text: str, thread_ts: str | None = None
    ) -> tuple[Message, list[Reply]]:
        """A member posts; each event Slack would send is delivered to the bot."""
        message, found = self.emu.user_message(user_id, channel_id, text, thread_ts)
        return message, [await self.event(e) for e in found]

    async def react(self, user_id: str, channel_id: str, ts: str, name: str) -> Reply | None:
        event = self.emu.add_reaction(user_id, channel_id, ts, name)
        return await self.event(event) if event else None

    async def unreact(self, user_id: str, channel_id: str, ts: str, name: str) -> Reply | None:
        event = self.emu.remove_reaction(user_id, channel_id, ts, name)
        return await self.event(event) if event else None

    async def join(self, user_id: str, channel_id: str) -> Reply | None:
        event = self.emu.join(user_id, channel_id)
        return await self.event(event) if event else None

    async def open_home(self, user_id: str) -> Reply:
        return await self.event(self.emu.open_home(user_id))


def normalize_values(values: dict[str, Any]) -> dict[str, Any]:
    """View state values; a bare string stands for a plain_text_input's value."""
    return {
        block_id: {
            action_id: (
                {"type": "plain_text_input", "value": value} if isinstance(value, str) else value
            )
            for action_id, value in actions.items()
        }
        for block_id, actions in values.items()
    }


def _maybe_json(text: str) -> Any:
    if text[:1] not in ("{", "["):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
