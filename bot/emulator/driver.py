"""SlackDriver: sends the bot signed requests shaped exactly as Slack sends them."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bot.emulator.api import ApiError
from bot.emulator.scopes import subscription_of
from bot.emulator.server import Call, SlackEmulator
from bot.emulator.state import Message
from bot.emulator.webapi import ResponseUrl

VERIFICATION_TOKEN = "local-verification-token"  # the deprecated `token` field Slack still sends
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# Slack waits this long for an answer; a slower one is a timeout (events are then retried).
SLACK_DEADLINE = 3.0
# Slack redelivers a failed event up to three times (after 0 s, 1 min and 5 min; here at once).
EVENT_RETRIES = 3


class NotSubscribed(ValueError):
    """Slack would never send this event: the app does not subscribe to it (or lacks its scope)."""


class NotShown(LookupError):
    """A click on an element the surface does not show (or a surface no longer there)."""


@dataclass
class Reply:
    """What the bot answered (status 0 when it did not answer within Slack's deadline)."""

    status: int
    headers: Mapping[str, str]
    text: str
    json: Any = None
    timed_out: bool = False
    # For an event: every delivery Slack made, this last one included.
    attempts: list[Reply] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """What Slack counts as a failed delivery: a timeout or a non-2xx answer."""
        return self.timed_out or not 200 <= self.status < 300


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
        timeout: float = SLACK_DEADLINE,
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
        try:
            async with self._session.post(
                self.bot_url, data=body, headers=dict(headers), timeout=timeout
            ) as resp:
                text = await resp.text()
                return Reply(resp.status, dict(resp.headers), text, _maybe_json(text))
        except TimeoutError:  # Slack gives up and closes the connection
            return Reply(0, {}, "", timed_out=True)

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
            await self.emu.wait_for_socket()
            send = self.emu.socket_send(
                envelope_type, data, retry_attempt=retry[0], retry_reason=retry[1]
            )
            try:
                ack = await asyncio.wait_for(send, self.timeout)
            except TimeoutError:
                return Reply(0, {}, "", timed_out=True)
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

    def _surface(
        self, view: dict[str, Any] | str | None, message: Message | dict[str, Any] | None
    ) -> list[dict[str, Any]]:
        """The blocks a person sees now on a view (its current version) or a message."""
        if view is not None:
            view_id = view if isinstance(view, str) else view.get("id")
            found = self.emu.api.find_view(str(view_id))
            if found is None:
                raise NotShown(f"view {view_id} is not open")
            return list(found.get("blocks") or [])
        if isinstance(message, Message):
            stored = self.emu.state.find_message(message.channel, message.ts)
            if stored is None and message.ephemeral_to is None:
                raise NotShown(f"message {message.ts} is gone from {message.channel}")
            return list((stored or message).blocks or [])
        if isinstance(message, dict):
            return list(message.get("blocks") or [])
        return []

    async def click(
        self,
        user_id: str,
        surface: dict[str, Any] | str | Message,
        action_id: str,
        *,
        choose: Any = None,
        block_id: str | None = None,
        state_values: dict[str, Any] | None = None,
    ) -> Reply:
        """Click a button (or `choose` in a select) that a view or message actually shows.

        `surface`: a view (dict or id) or a Message; `choose`: the option value, user,
        conversation or channel picked (a list for a multi-select).
        """
        is_message = isinstance(surface, Message)
        blocks = self._surface(None if is_message else surface, surface if is_message else None)  # type: ignore[arg-type]
        found_block, element = find_element(blocks, action_id, block_id)
        action = action_from(element, found_block, choose)
        if is_message:
            return await self.block_actions(
                user_id,
                [action],
                message=surface,
                state_values=state_values,  # type: ignore[arg-type]
            )
        return await self.block_actions(
            user_id,
            [action],
            view=surface,
            state_values=state_values,  # type: ignore[arg-type]
        )

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
        """Clicks on interactive elements; in a message (pass `message`) or a view.

        Each action must name an element the surface shows (NotShown otherwise): Slack only
        sends what a person could click. `click` builds the action from the element itself.
        """
        blocks = self._surface(view, message)
        for action in actions:
            found_block, _ = find_element(blocks, action.get("action_id"), action.get("block_id"))
            action["block_id"] = found_block.get("block_id", "")
        payload = self._common("block_actions", user_id)
        payload["trigger_id"] = self.emu.issue_trigger_id(user_id)
        is_ephemeral = isinstance(message, Message) and message.ephemeral_to is not None
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
                    "is_ephemeral": is_ephemeral,
                }
            else:
                raise ValueError("block_actions needs a container, a view or a message")
        payload["container"] = container
        if view_data is not None:
            view_data["state"] = {"values": normalize_values(state_values or {})}
            payload["view"] = view_data
        if message is not None and channel_id:
            payload["channel"] = {"id": channel_id, "name": self._channel_name(channel_id)}
            if not container.get("is_ephemeral"):  # Slack sends no message for an ephemeral
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

    def subscribed(self, inner_event: dict[str, Any]) -> bool:
        """Whether Slack would send this event to the app (subscription and scope granted)."""
        return self.emu.grants.delivers(inner_event)

    async def event(
        self,
        inner_event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        retries: bool = True,
        sign: bool = True,
        signing_secret: str | None = None,
        timestamp: int | str | None = None,
    ) -> Reply:
        """An Events API delivery, redelivered as Slack does while it fails (`retries`).

        Slack retries a timeout or a non-2xx answer up to three times with X-Slack-Retry-Num
        and X-Slack-Retry-Reason; here at once. The last attempt is returned, all of them in
        its `attempts`. `retry_num` starts at that retry. An event the app does not subscribe
        to raises NotSubscribed: Slack would never send it.
        """
        if not self.subscribed(inner_event):
            raise NotSubscribed(f"the app does not get {subscription_of(inner_event)} events")
        envelope = self.event_envelope(inner_event, event_id)
        body = json.dumps(envelope).encode()
        signing = _Signing(sign, signing_secret, timestamp)
        attempts: list[Reply] = []
        number, reason = retry_num or 0, retry_reason or ("http_timeout" if retry_num else "")
        while True:
            headers: dict[str, str] = {}
            if number:
                headers["X-Slack-Retry-Num"] = str(number)
                headers["X-Slack-Retry-Reason"] = reason
            reply = await self._send(
                "events_api", envelope, body, JSON, signing, headers, (number, reason)
            )
            attempts.append(reply)
            reply.attempts = attempts
            no_retry = reply.headers.get("X-Slack-No-Retry") == "1"
            if not retries or not reply.failed or no_retry or number >= EVENT_RETRIES:
                return reply
            number += 1
            reason = "http_timeout" if reply.timed_out else "http_error"

    async def deliver_raised(self) -> list[Reply]:
        """Deliver the events the bot's own actions raised (its posts), as Slack would."""
        raised = self.emu.state.raised_events
        replies = []
        while raised:
            event = raised.popleft()
            if self.subscribed(event):
                replies.append(await self.event(event))
        return replies

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
        return message, [await self.event(e) for e in found if self.subscribed(e)]

    async def _maybe(self, event: dict[str, Any] | None) -> Reply | None:
        """Deliver an event, unless Slack would not (the bot is not there, or not subscribed)."""
        return await self.event(event) if event and self.subscribed(event) else None

    async def react(self, user_id: str, channel_id: str, ts: str, name: str) -> Reply | None:
        return await self._maybe(self.emu.add_reaction(user_id, channel_id, ts, name))

    async def unreact(self, user_id: str, channel_id: str, ts: str, name: str) -> Reply | None:
        return await self._maybe(self.emu.remove_reaction(user_id, channel_id, ts, name))

    async def join(self, user_id: str, channel_id: str) -> Reply | None:
        return await self._maybe(self.emu.join(user_id, channel_id))

    async def remove(self, remover_id: str, user_id: str, channel_id: str) -> Reply | None:
        return await self._maybe(self.emu.remove_from_channel(remover_id, user_id, channel_id))

    async def archive(self, user_id: str, channel_id: str, archived: bool = True) -> Reply | None:
        return await self._maybe(self.emu.set_archived(user_id, channel_id, archived))

    async def open_home(self, user_id: str) -> Reply | None:
        return await self._maybe(self.emu.open_home(user_id))


def _elements(blocks: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Every interactive element of a surface, with its block."""
    for block in blocks:
        candidates = [block.get("accessory"), block.get("element"), *(block.get("elements") or [])]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id"):
                yield block, element


def find_element(
    blocks: list[dict[str, Any]], action_id: Any, block_id: Any = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (block, element) with this action_id (and block_id, when one is given)."""
    for block, element in _elements(blocks):
        same_block = not block_id or block.get("block_id") == block_id
        if element["action_id"] == action_id and same_block:
            return block, element
    shown = sorted({e["action_id"] for _, e in _elements(blocks)})
    raise NotShown(f"no element {action_id!r} (block {block_id!r}) is shown; shown: {shown}")


SELECTED = {
    "users_select": "selected_user",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
    "multi_users_select": "selected_users",
    "multi_conversations_select": "selected_conversations",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "plain_text_input": "value",
}
WITH_OPTIONS = ("static_select", "overflow", "radio_buttons", "external_select")
WITH_MANY_OPTIONS = ("multi_static_select", "checkboxes", "multi_external_select")


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    return options


def _option(element: dict[str, Any], value: Any) -> dict[str, Any]:
    for option in _options(element):
        if option.get("value") == value:
            return option
    if element.get("type", "").endswith("external_select"):
        return {"text": {"type": "plain_text", "text": str(value)}, "value": value}
    raise NotShown(f"{element['action_id']!r} offers no option {value!r}")


def action_from(element: dict[str, Any], block: dict[str, Any], choose: Any = None) -> dict:
    """The `actions` entry Slack sends for a click on (or a choice in) this element."""
    kind = element.get("type", "button")
    action: dict[str, Any] = {
        "type": kind,
        "action_id": element["action_id"],
        "block_id": block.get("block_id", ""),
    }
    if kind == "button":
        action["text"] = element.get("text")
        for key in ("value", "style"):
            if key in element:
                action[key] = element[key]
        return action
    if choose is None:
        raise ValueError(f"{element['action_id']!r} is a {kind}: say what to choose")
    if kind in WITH_OPTIONS:
        action["selected_option"] = _option(element, choose)
    elif kind in WITH_MANY_OPTIONS:
        action["selected_options"] = [_option(element, v) for v in choose]
    elif kind in SELECTED:
        action[SELECTED[kind]] = choose
    else:
        raise ValueError(f"cannot choose in a {kind}")
    return action


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
