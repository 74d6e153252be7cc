"""The outbox sender: sends owed Slack calls in order, at Slack's pace, at least once, never twice.

A delivery is leased in one short transaction, sent, then marked in another. Deliveries of one
lane (a channel's posts; a person's ephemerals in a channel; a coalesce key) are sent one at a
time, in id order; a channel's posts `channel_spacing` apart; lanes run side by side, those a
person is waiting for started first. A 429's Retry-After holds back its method on every lane.

What a try's outcome means, and what happens next (the policy):

- Slack answered ok: sent.
- Slack answered an error: it did nothing. Permanent errors fail at once, with the reason;
  transient ones are retried with capped, jittered exponential back-off, and count towards
  `max_attempts`; a 429 only waits out its Retry-After and does not count.
- No clear answer (timeout, connection lost mid-call, 5xx, or the sender died holding the lease):
  a post may have gone out. Such a post is "in doubt" from the moment it is leased; its next try
  first pages the channel's history back to that moment, looking for its delivery key (carried in
  message metadata, Slack has no idempotency key). Found: sent. Not found: the try failed (it
  counts), and it is sent again. If the history cannot answer (the bot cannot read the channel,
  e.g. `not_in_channel` in a public channel it posts to through `chat:write.public`; rate-limited,
  as `conversations.history` is for some apps; too long; too slow), the post is marked
  `unknown`, logged and counted, and never re-sent blind: a duplicate is worse than asking.
- A file upload (`files.upload_v2`) is sent in files upload v2's three steps, its progress kept
  on the row between them (the file id, the conversation: see `OutboxSender._upload`). One
  re-leased after an unclear try is checked, never re-uploaded blind: if it never reached the
  sharing step, nothing was shared and it is uploaded again; if it did, the conversation's
  history is looked through for a message with that file. Found: sent. Otherwise: `unknown`.
- Ephemerals and state-setting calls (`views.publish`, `chat.update`) are simply retried: an
  ephemeral cannot be looked up, and a duplicate is seen by one person only; state is idempotent.
- An unexpected exception is a failure with its reason, not retried.

Two kinds of time, kept apart on purpose: the domain clock (`clock`, injected, moved by tests and
the shell) decides what is *due* and when a lease *expires* for other senders (`next_attempt_at`,
`leased_until`, compared with rows other processes wrote); real time (channel pacing, Retry-After,
and the time left on this sender's own lease, checked right before each send so a sender frozen
past its lease sends nothing it no longer owns) is the injected `monotonic` clock and `sleep`,
because Slack counts wall seconds whatever the domain clock says.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import aiohttp
from prometheus_client import Gauge
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.clock import Clock
from bot.metrics import Metrics
from storage import outbox_queries as q
from storage.db import Database
from storage.deliveries import RESPONSE_URL
from storage.outbox_queries import Lane, Lease

if TYPE_CHECKING:
    from bot.deps import Deps

log = logging.getLogger(__name__)

DELIVERY_EVENT_TYPE = "doughnut_delivery"
# Slack errors that say "not now" rather than "never".
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "service_unavailable",
        "fatal_error",
        "internal_error",
        "request_timeout",
    }
)
# Errors after which Slack says some of the call may have been performed.
UNCLEAR_ERRORS = frozenset({"fatal_error", "internal_error", "service_unavailable"})
# Methods whose retry could post twice; each post carries its key so it can be found again.
POSTS = q.POSTS
UPLOADS = q.UPLOADS
# Where a response_url may point: Slack's hooks, or the Web API's own host (GovSlack, emulator).
RESPONSE_HOSTS = ("https://hooks.slack.com/",)
DEFAULT_RETRY_AFTER = 1.0
# Why a delivery of a workspace that uninstalled the app is never sent.
UNINSTALLED = "the workspace uninstalled the app"
# Left on the lease after a send times out, so marking it cannot race a takeover.
LEASE_SAFETY = 2.0


@dataclass(frozen=True)
class Failure:
    """What went wrong with a call: the reason stored on the row, whether to retry, and whether
    Slack may have performed it all the same (`unclear`)."""

    reason: str
    transient: bool
    retry_after: float | None = None
    unclear: bool = False


def classify(error: BaseException) -> Failure:
    """Sort a failed Slack call: transient (retry) or permanent (fail now); clear or unclear."""
    if isinstance(error, SlackApiError):
        response = error.response
        # An unreadable answer comes with aiohttp's response (`status`, no `data`).
        status = int(getattr(response, "status_code", getattr(response, "status", 200)) or 200)
        data = getattr(response, "data", None)
        data = data if isinstance(data, dict) else {}
        reason = str(data.get("error") or f"http_{status}")
        if status == 429:
            return Failure(reason, True, _retry_after(response))
        unclear = status >= 500 or reason in UNCLEAR_ERRORS
        return Failure(reason, status >= 500 or reason in TRANSIENT_ERRORS, unclear=unclear)
    if isinstance(error, TimeoutError):
        return Failure("timeout", True, unclear=True)
    if isinstance(error, aiohttp.ClientConnectorError):
        # Could not even connect: nothing was sent.
        return Failure(f"connection_error: {type(error).__name__}", True)
    if isinstance(error, aiohttp.ClientError | ConnectionError):
        return Failure(f"connection_error: {type(error).__name__}", True, unclear=True)
    if isinstance(error, SlackClientError):
        return Failure(f"client_error: {type(error).__name__}", False)
    return Failure(f"unexpected: {type(error).__name__}: {str(error)[:200]}", False)


class HistoryUnavailable(Exception):
    """The channel's history cannot say whether a post went out."""


class LeaseLost(Exception):
    """Another sender took a delivery over mid-upload: this one stops before sharing it."""


def upload_content(payload: dict[str, Any]) -> bytes:
    """An upload's bytes: `content` (text, sent as UTF-8) or `content_base64` (an image...)."""
    if payload.get("content_base64") is not None:
        try:
            return base64.b64decode(str(payload["content_base64"]), validate=True)
        except (binascii.Error, ValueError) as error:
            raise SlackClientError("content_base64 is not base64") from error
    content = payload.get("content")
    if isinstance(content, str):
        return content.encode("utf-8")
    raise SlackClientError("an upload needs content or content_base64")


def _retry_after(response: Any) -> float:
    headers = getattr(response, "headers", None) or {}
    try:
        return max(0.0, float(headers.get("Retry-After", DEFAULT_RETRY_AFTER)))
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER


def with_delivery_key(metadata: Any, key: str) -> dict[str, Any]:
    """Message metadata carrying the delivery key, keeping whatever metadata the payload had."""
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            metadata = None
    metadata = metadata if isinstance(metadata, dict) else {}
    event_payload = metadata.get("event_payload")
    event_payload = event_payload if isinstance(event_payload, dict) else {}
    return {
        "event_type": metadata.get("event_type") or DELIVERY_EVENT_TYPE,
        "event_payload": {**event_payload, "key": key},
    }


def result_of(data: Any) -> dict[str, Any]:
    """The parts of Slack's answer worth keeping on the row (where the message is)."""
    if not isinstance(data, dict):
        return {}
    kept = {k: data[k] for k in ("channel", "ts", "message_ts") if isinstance(data.get(k), str)}
    view = data.get("view")
    if isinstance(view, dict) and isinstance(view.get("id"), str):
        kept["view_id"] = view["id"]
    files = data.get("files")
    if isinstance(files, list):
        kept["file_ids"] = [f["id"] for f in files if isinstance(f, dict) and "id" in f]
    return kept


_DEPTH_GAUGES: WeakKeyDictionary[Metrics, Gauge] = WeakKeyDictionary()


def depth_gauge(metrics: Metrics) -> Gauge:
    """The outbox depth gauge, registered once per registry however many senders there are."""
    gauge = _DEPTH_GAUGES.get(metrics)
    if gauge is None:
        gauge = Gauge(
            "doughnut_outbox_depth",
            "Deliveries still owed to Slack (pending), as of the last drain.",
            registry=metrics.registry,
        )
        _DEPTH_GAUGES[metrics] = gauge
    return gauge


def default_owner() -> str:
    """Who holds a lease, for the logs and for telling senders apart."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class OutboxSender:
    """Sends the outbox's deliveries; run by the leader only (see `bot.leader`)."""

    def __init__(
        self,
        db: Database,
        client: AsyncWebClient,
        clock: Clock,
        metrics: Metrics,
        *,
        lease_seconds: float = 60.0,
        send_timeout: float = 20.0,
        max_attempts: int = 8,
        base_backoff: float = 2.0,
        max_backoff: float = 300.0,
        channel_spacing: float = 1.0,
        batch_size: int = 500,
        max_lanes: int = 32,
        lane_batch: int = 50,
        poll_interval: float = 3.0,
        wake_gathering: float = 0.05,
        history_limit: int = 200,
        history_max_pages: int = 50,
        history_margin: timedelta = timedelta(minutes=2),
        shutdown_grace: float = 5.0,
        owner: str | None = None,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        tokens: Callable[[int], Awaitable[str | None]] | None = None,
    ) -> None:
        if send_timeout + LEASE_SAFETY >= lease_seconds:
            # Otherwise a slow send could outlive its lease and be taken over while in flight.
            raise ValueError("send_timeout must be well shorter than lease_seconds")
        self.db = db
        self.client = client
        self.clock = clock
        self.metrics = metrics
        self.lease_seconds = lease_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.send_timeout = send_timeout
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.channel_spacing = channel_spacing
        self.batch_size = batch_size
        self.max_lanes = max_lanes
        self.lane_batch = lane_batch
        self.poll_interval = poll_interval
        self.wake_gathering = wake_gathering
        self.history_limit = history_limit
        self.history_max_pages = history_max_pages
        self.history_margin = history_margin
        self.shutdown_grace = shutdown_grace
        self.owner = (owner or default_owner())[:64]
        self._rng = rng or random.Random()
        self._monotonic = monotonic
        self._sleep = sleep
        # OAuth: each workspace's own bot token (None once it uninstalled); else the client's.
        self._tokens = tokens
        self._depth = depth_gauge(metrics)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._lanes: dict[Lane, asyncio.Task[int]] = {}
        # Monotonic instants before which a channel / a method must wait.
        self._channel_free_at: dict[str, float] = {}
        self._method_free_at: dict[str, float] = {}

    def wake(self) -> None:
        """Look at the outbox now (called after a transaction that enqueued deliveries commits)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send deliveries as they come, until `stop` is set; then let in-flight sends finish."""
        log.info("outbox sender %s started", self.owner)
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    if len(self._lanes) < self.max_lanes:  # full: a lane ending wakes it
                        await self._dispatch()
                        await self._update_depth()
                except Exception:
                    log.exception("outbox dispatch failed; trying again shortly")
                await _first_set(self._wake, stop, seconds=self.poll_interval)
                # A burst of commits and lane ends makes one pass, not one each (each pass
                # reads every lane's head): let the wakes gather for a moment.
                await _first_set(stop, seconds=self.wake_gathering)
        finally:
            await self._shut_down()
            log.info("outbox sender %s stopped", self.owner)

    async def drain_once(self) -> int:
        """Send what is due now (waiting out pacing and Retry-After); how many were settled."""
        await self._dispatch()
        lanes = list(self._lanes.values())
        settled = sum(await asyncio.gather(*lanes)) if lanes else 0
        await self._update_depth()
        return settled

    # lanes

    async def _dispatch(self) -> None:
        """Start a lane for every lane whose oldest delivery is due, a person's first."""
        now = self.clock.now()
        async with self.db.reading() as session:
            # At most one head per running lane comes back: max_lanes heads fill every slot.
            heads = await q.lane_heads(session, now, min(self.batch_size, self.max_lanes))
        for head in heads:
            if len(self._lanes) >= self.max_lanes:
                break  # the rest start on a later pass
            if head.lane in self._lanes or not head.is_due(now):
                continue
            task = asyncio.create_task(self._run_lane(head.lane), name=f"outbox {head.lane}")
            self._lanes[head.lane] = task
            task.add_done_callback(partial(self._lane_done, head.lane))

    def _lane_done(self, lane: Lane, task: asyncio.Task[int]) -> None:
        if self._lanes.get(lane) is task:
            del self._lanes[lane]
        if not task.cancelled() and task.exception() is None and task.result() > 0:
            self._wake.set()  # more may have arrived meanwhile

    async def _run_lane(self, lane: Lane) -> int:
        """Send one lane's due deliveries in order; stop at the first one that is not due."""
        settled = 0
        try:
            while not self._stopping.is_set():
                async with self.db.reading() as session:
                    batch = await q.lane_pending(session, lane, self.lane_batch)
                if not batch:
                    break
                last_batch = len(batch) < self.lane_batch
                for head in batch:
                    if self._stopping.is_set() or not head.is_due(self.clock.now()):
                        return settled  # keep the lane's order: nothing passes a waiting one
                    await self._wait_turn(lane, head.method)
                    if self._stopping.is_set():
                        return settled
                    # The lease is ours for `lease_seconds` from before it was taken.
                    deadline = self._monotonic() + self.lease_seconds
                    leased = await self._lease(head.id)
                    if leased == "busy":
                        return settled  # another sender holds it, or it was rescheduled
                    if leased == "gone":
                        continue
                    if leased == "superseded":
                        self.metrics.deliveries.labels(outcome="superseded").inc()
                        settled += 1
                        continue
                    assert isinstance(leased, Lease)
                    outcome = await self._deliver(leased, lane, deadline)
                    if outcome == "lapsed":
                        return settled  # this sender was too slow (frozen?): let others lead
                    if outcome == "retried":
                        break  # look again: a 429 leaves it due, a back-off does not
                    settled += 1
                else:
                    if last_batch:  # the lane is done: what came meanwhile, a new pass sends
                        if not settled:
                            self._wake.set()  # (a lane that settled something wakes it anyway)
                        break
        except Exception:
            log.exception("outbox lane %s stopped; it resumes on the next pass", lane)
        return settled

    async def _wait_turn(self, lane: Lane, method: str) -> None:
        """Real-time wait: the channel's pacing and the method's Retry-After."""
        while not self._stopping.is_set():
            ready_at = self._method_free_at.get(method, 0.0)
            if lane.channel is not None:
                ready_at = max(ready_at, self._channel_free_at.get(lane.channel, 0.0))
            delay = ready_at - self._monotonic()
            if delay <= 0:
                return
            await self._pause(delay)

    async def _pause(self, seconds: float) -> None:
        """The injected sleep, cut short when the sender stops."""
        sleeping = asyncio.create_task(self._sleep(seconds))
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            await asyncio.wait({sleeping, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeping, stopping):
                task.cancel()
            await asyncio.gather(sleeping, stopping, return_exceptions=True)

    async def _lease(self, delivery_id: int) -> Lease | q.Refusal:
        now = self.clock.now()
        async with self.db.transaction() as session:
            return await q.lease(
                session, delivery_id, owner=self.owner, now=now, until=now + self.lease
            )

    # one delivery

    async def _deliver(self, lease: Lease, lane: Lane, deadline: float) -> str:
        """Send one leased delivery and settle it: "sent", "retried", "failed", "unknown" or
        "lapsed" (the lease ran out before the send: nothing sent, nothing marked)."""
        # Database trouble while settling escapes to the lane (it stops; the lease runs out, and
        # the next try looks before sending); only the call to Slack is classified.
        auth: dict[str, str] = {}
        if self._tokens is not None:
            token = await self._tokens(lane.workspace_id)
            if token is None:
                return await self._settle_failed(lease, UNINSTALLED)
            auth = {"token": token}
        if lease.method in POSTS and lease.in_doubt_since is not None:
            settled = await self._recover(lease, deadline, auth)
            if settled is not None:
                return settled
        if lease.method in UPLOADS and lease.in_doubt_since is not None:
            settled = await self._recover_upload(lease, deadline, auth)
            if settled is not None:
                return settled
        # Right before the send: is the lease still ours long enough to send and mark?
        if deadline - self._monotonic() < self.send_timeout + LEASE_SAFETY:
            return await self._lapse(lease)
        if lane.channel is not None:
            self._channel_free_at[lane.channel] = self._monotonic() + self.channel_spacing
        try:
            response = await asyncio.wait_for(self._send(lease, auth), self.send_timeout)
        except LeaseLost:
            return await self._lapse(lease)
        except Exception as error:
            return await self._settle_failure(lease, classify(error))
        return await self._settle_sent(lease, result_of(response.data))

    async def _recover(self, lease: Lease, deadline: float, auth: dict[str, str]) -> str | None:
        """Settle a post an earlier try may have made; None when it was not made (send it)."""
        assert lease.in_doubt_since is not None
        # Leave the lease enough time for the send that may follow.
        budget = deadline - self._monotonic() - self.send_timeout - LEASE_SAFETY
        if budget <= 0:
            return await self._lapse(lease)  # frozen since leasing: not ours to settle
        try:
            async with asyncio.timeout(budget):
                found = await self._find_posted(lease, lease.in_doubt_since, auth)
        except (HistoryUnavailable, TimeoutError) as error:
            reason = str(error) or "the history lookup timed out"
            self.metrics.history_lookups.labels(result="unavailable").inc()
            return await self._settle_unknown(lease, reason)
        if found is not None:
            self.metrics.history_lookups.labels(result="found").inc()
            log.info(
                "delivery %s (%s to %s) was already posted (ts %s); not posting again",
                lease.id,
                lease.method,
                lease.channel,
                found.get("ts"),
            )
            return await self._settle_sent(lease, found)
        self.metrics.history_lookups.labels(result="absent").inc()
        if lease.failures >= self.max_attempts:
            # The last unclear try did not post after all: now it is safe to give up.
            reason = f"{lease.previous_error} (gave up after {lease.failures} attempts)"
            return await self._settle_failed(lease, reason)
        return None

    async def _recover_upload(
        self, lease: Lease, deadline: float, auth: dict[str, str]
    ) -> str | None:
        """Settle an upload an earlier try may have shared; None when it surely was not (send
        it again: a file uploaded but never shared stays private to the bot)."""
        assert lease.in_doubt_since is not None
        progress = lease.progress or {}
        file_id, channel = progress.get("file_id"), progress.get("channel")
        if progress.get("step") != "sharing" or not file_id or not channel:
            if lease.failures >= self.max_attempts:
                reason = f"{lease.previous_error} (gave up after {lease.failures} attempts)"
                return await self._settle_failed(lease, reason)
            return None
        budget = deadline - self._monotonic() - self.send_timeout - LEASE_SAFETY
        if budget <= 0:
            return await self._lapse(lease)
        try:
            async with asyncio.timeout(budget):
                found = await self._find_posted(
                    lease, lease.in_doubt_since, auth, channel=str(channel), file_id=str(file_id)
                )
        except (HistoryUnavailable, TimeoutError) as error:
            self.metrics.history_lookups.labels(result="unavailable").inc()
            return await self._settle_unknown(lease, str(error) or "the history lookup timed out")
        if found is not None:
            self.metrics.history_lookups.labels(result="found").inc()
            log.info("delivery %s: file %s was already shared in %s; not uploading it again",
                     lease.id, file_id, channel)  # fmt: skip
            return await self._settle_sent(lease, found)
        self.metrics.history_lookups.labels(result="absent").inc()
        # Slack shares a completed upload on its own time: not seen yet is not "never".
        return await self._settle_unknown(
            lease, f"file {file_id} not seen shared in {channel}; not uploaded again"
        )

    async def _keep(self, lease: Lease, progress: dict[str, Any]) -> None:
        async with self.db.transaction() as session:
            held = await q.keep_progress(session, lease.id, owner=self.owner, progress=progress)
        if not held:
            raise LeaseLost(f"delivery {lease.id} was taken over mid-upload")

    async def _upload(self, lease: Lease, auth: dict[str, str]) -> AsyncSlackResponse:
        """Files upload v2, step by step, keeping the progress on the row before each step
        that could leave a file behind.

        The payload (`uow.deliver("files.upload_v2", {...}, channel=...)`): `channel` (a
        conversation id, or a user id meaning the app's DM with them, opened here, since
        files.completeUploadExternal refuses a `U…` id), `filename`, `content` (text, sent as
        UTF-8) or `content_base64` (bytes, e.g. a PNG), and optionally `title`,
        `initial_comment` (mrkdwn, escape user text), `thread_ts`.
        """
        payload = lease.payload
        team = {"team_id": payload["team_id"]} if payload.get("team_id") else {}
        content = upload_content(payload)
        filename = str(payload.get("filename") or "file")
        target = str(payload.get("channel_id") or payload.get("channel") or "")
        if target[:1] in ("U", "W"):
            opened = await self.client.conversations_open(users=target, **auth, **team)
            target = str(opened["channel"]["id"])
        step = await self.client.files_getUploadURLExternal(
            filename=filename, length=len(content), **auth, **team
        )
        file_id, upload_url = str(step["file_id"]), str(step["upload_url"])
        progress = {"file_id": file_id, "channel": target, "step": "uploading"}
        await self._keep(lease, progress)
        await self._post_bytes(upload_url, content)
        # From here on Slack may share it: a re-leased try looks before uploading again.
        await self._keep(lease, {**progress, "step": "sharing"})
        response = await self.client.files_completeUploadExternal(
            files=[{"id": file_id, "title": str(payload.get("title") or filename)}],
            channel_id=target,
            initial_comment=payload.get("initial_comment"),
            thread_ts=payload.get("thread_ts"),
            **auth,
            **team,
        )
        if isinstance(response.data, dict):
            response.data["channel"] = target  # kept on the row: where the file went
        return response

    async def _post_bytes(self, url: str, content: bytes) -> None:
        """Send an upload's bytes to the URL files.getUploadURLExternal gave."""
        session = self.client.session
        own = session is None
        session = session or aiohttp.ClientSession()
        try:
            async with session.post(url, data=content) as reply:
                status = reply.status
                await reply.read()
        finally:
            if own:
                await session.close()
        if status != 200:
            response = AsyncSlackResponse(
                client=self.client, http_verb="POST", api_url=url, req_args={},
                data={"ok": False, "error": f"upload_http_{status}"}, headers={},
                status_code=status,
            )  # fmt: skip
            raise SlackApiError("the upload URL refused the file", response)

    async def _send(self, lease: Lease, auth: dict[str, str]) -> AsyncSlackResponse:
        payload = dict(lease.payload)
        if lease.method == RESPONSE_URL:
            return await self._respond(str(payload.get("url") or ""), payload.get("body") or {})
        if lease.method in POSTS:
            payload["metadata"] = with_delivery_key(payload.get("metadata"), lease.key)
        if lease.method in UPLOADS:
            return await self._upload(lease, auth)
        # slack_sdk takes a `token` in the body as the call's bearer token, not as an argument.
        return await self.client.api_call(lease.method, json={**payload, **auth})

    async def _respond(self, url: str, body: dict[str, Any]) -> AsyncSlackResponse:
        """POST to an interaction's response_url (no token: the URL is the credential)."""
        api_root = self.client.base_url.split("/api/", 1)[0] + "/"
        if not url.startswith((*RESPONSE_HOSTS, api_root)):
            raise SlackClientError("a response_url that is not Slack's")  # never sent anywhere else
        session = self.client.session
        own = session is None
        session = session or aiohttp.ClientSession()
        try:
            async with session.post(url, json=body) as reply:
                text = await reply.text()
                status = reply.status
        finally:
            if own:
                await session.close()
        try:
            data = json.loads(text) if text.strip().startswith("{") else {"ok": text == "ok"}
        except ValueError:
            data = {"ok": False, "error": text[:100]}
        response = AsyncSlackResponse(
            client=self.client, http_verb="POST", api_url=url, req_args={}, data=data,
            headers={}, status_code=status,
        )  # fmt: skip
        if status != 200 or not data.get("ok", True):
            raise SlackApiError("the response_url refused the message", response)
        return response

    async def _find_posted(
        self,
        lease: Lease,
        since: datetime,
        auth: dict[str, str],
        *,
        channel: str | None = None,
        file_id: str | None = None,
    ) -> dict[str, Any] | None:
        """The message this delivery already posted (its key in the metadata, or with
        `file_id`: the message sharing that file), paging the channel's history back to
        `since`; raises HistoryUnavailable when the history cannot tell."""
        channel = channel or str(lease.payload.get("channel") or lease.channel or "")
        # Message ts are wire (wall) time; a domain clock moved ahead (tests, the shell) must
        # not push the window past the message. The margin covers clock skew with Slack.
        oldest = f"{(min(since, datetime.now(UTC)) - self.history_margin).timestamp():.6f}"
        thread_ts = lease.payload.get("thread_ts")
        cursor: str | None = None
        # The same token, and the acting team an org-wide token needs.
        team = {"team_id": lease.payload["team_id"]} if lease.payload.get("team_id") else {}
        try:
            if channel[:1] in ("U", "W"):  # a post to a user lands in the app's DM with them
                opened = await self.client.conversations_open(users=channel, **auth, **team)
                channel = opened["channel"]["id"]
            for _ in range(self.history_max_pages):
                args: dict[str, Any] = {
                    "channel": channel,
                    "oldest": oldest,
                    "limit": self.history_limit,
                    "include_all_metadata": True,
                    **auth,
                    **team,
                }
                if cursor:
                    args["cursor"] = cursor
                if thread_ts:
                    page = await self.client.conversations_replies(ts=str(thread_ts), **args)
                else:
                    page = await self.client.conversations_history(**args)
                for message in page.get("messages") or []:
                    found = {"channel": channel, "ts": message.get("ts"), "recovered": True}
                    if file_id is not None:
                        files = message.get("files") or []
                        if any(isinstance(f, dict) and f.get("id") == file_id for f in files):
                            return {**found, "file_ids": [file_id]}
                        continue
                    event_payload = (message.get("metadata") or {}).get("event_payload") or {}
                    if event_payload.get("key") == lease.key:
                        return found
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    return None
        except TimeoutError:
            raise
        except Exception as error:  # whatever it is, the history did not tell
            raise HistoryUnavailable(f"history of {channel}: {classify(error).reason}") from error
        raise HistoryUnavailable(
            f"history of {channel}: more than {self.history_max_pages} pages to look through"
        )

    # settling

    async def _settle_sent(self, lease: Lease, result: dict[str, Any]) -> str:
        async with self.db.transaction() as session:
            held = await q.mark_sent(
                session, lease.id, owner=self.owner, now=self.clock.now(), result=result
            )
        if not held:
            log.warning("delivery %s was sent but another sender had taken it over", lease.id)
        self.metrics.deliveries.labels(outcome="sent").inc()
        return "sent"

    async def _settle_unknown(self, lease: Lease, reason: str) -> str:
        async with self.db.transaction() as session:
            await q.mark_unknown(session, lease.id, owner=self.owner, error=reason)
        log.error(
            "delivery %s (%s to %s): outcome unknown, not sent again (%s)",
            lease.id,
            lease.method,
            lease.channel,
            reason,
        )
        self.metrics.deliveries.labels(outcome="unknown").inc()
        return "unknown"

    async def _settle_failed(self, lease: Lease, reason: str) -> str:
        async with self.db.transaction() as session:
            await q.mark_failed(session, lease.id, owner=self.owner, error=reason)
        log.error(
            "delivery %s (%s to %s) failed for good: %s",
            lease.id,
            lease.method,
            lease.channel,
            reason,
        )
        self.metrics.deliveries.labels(outcome="failed").inc()
        return "failed"

    async def _lapse(self, lease: Lease) -> str:
        """Too little time left on the lease: send nothing; give it back if still ours."""
        async with self.db.transaction() as session:
            await q.release(session, lease.id, owner=self.owner)
        log.warning(
            "delivery %s (%s to %s): lease nearly over before sending; not sent by this sender",
            lease.id,
            lease.method,
            lease.channel,
        )
        self.metrics.lease_lapses.inc()
        return "lapsed"

    async def _settle_failure(self, lease: Lease, failure: Failure) -> str:
        if failure.retry_after is not None:
            free_at = self._monotonic() + failure.retry_after
            self._method_free_at[lease.method] = max(
                free_at, self._method_free_at.get(lease.method, 0.0)
            )
        if not failure.transient:
            return await self._settle_failed(lease, failure.reason)
        # Attempts are counted by outcome: a 429 is Slack's pacing, not a failure.
        counts = failure.retry_after is None
        failures = lease.failures + counts
        # A post that may have gone out is looked up before anything else (even giving up).
        in_doubt = lease.method in q.IN_DOUBT_METHODS and failure.unclear
        # A safety net against endless 429s.
        worn_out = lease.attempts >= self.max_attempts * 4
        if worn_out or (failures >= self.max_attempts and not in_doubt):
            given = lease.attempts if worn_out else failures
            return await self._settle_failed(
                lease, f"{failure.reason} (gave up after {given} attempts)"
            )
        # A 429 waits in real time (above), so the row is due again at once.
        delay = 0.0 if failure.retry_after is not None else self._backoff(failures)
        async with self.db.transaction() as session:
            await q.mark_retry(
                session,
                lease.id,
                owner=self.owner,
                at=self.clock.now() + timedelta(seconds=delay),
                error=failure.reason,
                counts=counts,
                in_doubt=in_doubt,
            )
        log.warning(
            "delivery %s (%s to %s) failed: %s; failure %d of %d, retrying in %.1fs",
            lease.id,
            lease.method,
            lease.channel,
            failure.reason,
            failures,
            self.max_attempts,
            failure.retry_after if failure.retry_after is not None else delay,
        )
        self.metrics.deliveries.labels(outcome="retried").inc()
        return "retried"

    def _backoff(self, attempts: int) -> float:
        """Exponential, capped, with jitter (half fixed, half random) so retries spread out."""
        ceiling = min(self.max_backoff, self.base_backoff * 2 ** max(0, attempts - 1))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    # housekeeping

    async def _update_depth(self) -> None:
        async with self.db.reading() as session:
            self._depth.set(await q.pending_count(session))

    async def _shut_down(self) -> None:
        """Let in-flight sends finish (their waits end at once); cancel what outlives the grace."""
        self._stopping.set()
        try:
            lanes = list(self._lanes.values())
            if lanes:
                _, late = await asyncio.wait(lanes, timeout=self.shutdown_grace)
                for task in late:
                    task.cancel()  # its lease expires; the next leader looks before resending
                await asyncio.gather(*late, return_exceptions=True)
        finally:
            self._stopping.clear()


async def _first_set(*events: asyncio.Event, seconds: float) -> None:
    """Wait until one of `events` is set, or `seconds` pass."""
    waiters = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*waiters, return_exceptions=True)


def outbox_leader_work(deps: Deps, **options: Any) -> Callable[[asyncio.Event], Awaitable[None]]:
    """What the leader runs: an outbox sender, woken by `deps.wake_outbox()`, until it resigns."""

    async def lead(resign: asyncio.Event) -> None:
        if deps.installations is not None:
            options.setdefault("tokens", deps.installations.token_for_workspace)
        sender = OutboxSender(deps.db, deps.outbox_client, deps.clock, deps.metrics, **options)
        deps.outbox_wakers.append(sender.wake)
        try:
            await sender.run(resign)
        finally:
            deps.outbox_wakers.remove(sender.wake)

    return lead
