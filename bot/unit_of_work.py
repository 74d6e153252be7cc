"""One request's database work: a lazily begun transaction, committed before the ack."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from sqlalchemy.ext.asyncio import AsyncSession

from bot.deps import Deps
from bot.tenancy import Installation
from storage import deliveries, workspaces
from storage.db import close_quickly
from storage.models import Priority, Workspace

log = logging.getLogger(__name__)


class DuplicateEvent(Exception):
    """Another delivery of this event was (or is being) handled: this one changes nothing."""


class UnclaimedEventWrite(RuntimeError):
    """A Slack write from an event listener before its event id was claimed (a retry could
    repeat it): effects go through the outbox (`uow.deliver`, `say`) instead."""


# Web API methods without an effect, by the last part of their name (`conversations.history`).
READ_VERBS = frozenset(
    {
        "test", "info", "list", "history", "replies", "members", "conversations", "get",
        "getPermalink", "lookupByEmail", "getPresence", "getProfile",
    }
)  # fmt: skip


def is_read(method: str) -> bool:
    """True for a Web API method that only reads (`users.info`), False for any write."""
    return method.rsplit(".", 1)[-1] in READ_VERBS


class UnitOfWork:
    """Begins on first use, so a request that only opens a modal touches no database.

    For an event, the first statement of the transaction records `(workspace, event_id)`, so
    the event's effects commit with it or not at all, and a duplicate delivery stops at its
    first database use (`DuplicateEvent`). So an event listener may make inline Slack reads
    before that (they hold no lock) but nothing with an effect: effects go through `deliver`.
    """

    def __init__(self, deps: Deps, installation: Installation) -> None:
        self.deps = deps
        # The workspace is the authorized installation's, never what a payload claims.
        self.installation = installation
        self._session: AsyncSession | None = None
        self._workspace: Workspace | None = None
        self._wrote_deliveries = False
        self._event_id: str | None = None
        self._claimed = False
        self.duplicate = False
        self.failed = False
        # The team of whoever acted: an org-wide token needs it on many Web API calls.
        self.acting_team_id: str | None = None
        self._after_commit: list[Callable[[], None]] = []

    def expect_event(self, event_id: str) -> None:
        """This request delivers an event: claim its id before anything else is written."""
        self._event_id = event_id

    def forget_event(self) -> None:
        """No listener handled it: there is nothing to record."""
        self._event_id = None

    @property
    def unclaimed_event(self) -> bool:
        """An event whose id is not claimed yet: nothing with an effect may happen."""
        return self._event_id is not None and not self._claimed

    async def session(self) -> AsyncSession:
        if self.duplicate:
            # Even a listener that caught the first DuplicateEvent changes nothing.
            raise DuplicateEvent(self._event_id)
        if self._session is None:
            # On SQLite this waits (bounded) for the writer lock, which the session holds until
            # it is closed; on PostgreSQL it sets the transaction's statement and lock timeouts.
            self._session = await self.deps.db.request_session()
            if self._event_id is not None:
                await self._claim_event(self._event_id)
        return self._session

    async def _claim_event(self, event_id: str) -> None:
        workspace = await self.workspace()
        claimed = await workspaces.claim_event(
            await self.session(), workspace.id, event_id, self.deps.clock.now()
        )
        if not claimed:
            self.duplicate = True
            await self.rollback()
            raise DuplicateEvent(event_id)
        self._claimed = True

    @property
    def install_key(self) -> str:
        installation = self.installation
        return workspaces.install_key(
            installation.team_id, installation.enterprise_id, installation.is_enterprise_install
        )

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[tuple[AsyncSession, Workspace | None]]:
        """A read-only session and this workspace, if it exists (takes no write lock)."""
        async with self.deps.db.reading() as session:
            yield session, await workspaces.find_workspace(session, self.install_key)

    async def workspace(self) -> Workspace:
        """The workspace this request belongs to (created on its first request)."""
        if self._workspace is None:
            self._workspace = await workspaces.get_or_create_workspace(
                await self.session(),
                key=self.install_key,
                team_id=self.installation.team_id,
                enterprise_id=self.installation.enterprise_id,
                is_enterprise_install=self.installation.is_enterprise_install,
                now=self.deps.clock.now(),
            )
        return self._workspace

    async def deliver(
        self,
        method: str,
        payload: dict[str, Any],
        *,
        channel: str | None = None,
        coalesce_key: str | None = None,
        priority: Priority | None = None,
    ) -> None:
        """Queue a Slack call for after the commit (the outbox sends it).

        `priority` defaults by method: ephemerals, views and DMs are for a person waiting;
        pass `Priority.BULK` for a DM nobody is waiting for (a digest).
        """
        workspace = await self.workspace()
        if self.installation.is_enterprise_install and self.acting_team_id:
            payload = {"team_id": self.acting_team_id, **payload}
        await deliveries.enqueue(
            await self.session(),
            workspace_id=workspace.id,
            method=method,
            payload=payload,
            channel=channel,
            coalesce_key=coalesce_key,
            priority=priority,
            now=self.deps.clock.now(),
        )
        self._wrote_deliveries = True

    async def commit(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            try:
                await session.commit()
            finally:
                await close_quickly(session)
        if self._wrote_deliveries:
            self._wrote_deliveries = False
            self.deps.wake_outbox()
        done, self._after_commit = self._after_commit, []
        for callback in done:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once this unit of work has committed (never if it rolls back)."""
        self._after_commit.append(callback)

    async def rollback(self) -> None:
        if self._session is None:
            return
        session, self._session = self._session, None
        self._wrote_deliveries = False
        self._after_commit = []
        self._workspace = None  # it may have been created in the rolled-back transaction
        await close_quickly(session)  # closing rolls back; bounded, for a silent database

    async def finish(self, *, ok: bool) -> None:
        """Commit (recording the event even if the listener wrote nothing) or roll back."""
        if self.duplicate:
            await self.rollback()
            if not self.failed:  # the listener caught it and went on: its effects are dropped
                raise DuplicateEvent(self._event_id)
            return
        if not ok or self.failed:
            await self.rollback()
            return
        try:
            if self._event_id is not None:
                await self.session()
            await self.commit()
        except BaseException:
            await self.rollback()
            raise


def guarded_client(client: AsyncWebClient, uow: UnitOfWork) -> AsyncWebClient:
    """A copy of Bolt's per-request client that refuses writes while the event is unclaimed."""
    guarded = object.__new__(_GuardedClient)
    guarded.__dict__.update(client.__dict__)
    guarded.uow = uow
    return guarded


class _GuardedClient(AsyncWebClient):
    uow: UnitOfWork

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:  # type: ignore[override]
        if self.uow.unclaimed_event and not is_read(api_method):
            log.error("refused %s from an event listener before its event was claimed", api_method)
            raise UnclaimedEventWrite(api_method)
        return await super().api_call(api_method, **kwargs)


class OutboxSay:
    """Bolt's `say` for event listeners: the post is queued in the outbox, in the transaction.

    It returns nothing: the message exists only once the outbox has sent it.
    """

    def __init__(self, uow: UnitOfWork, channel: str | None, thread_ts: str | None = None) -> None:
        self.uow = uow
        self.channel = channel
        self.thread_ts = thread_ts

    async def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: list[dict[str, Any]] | None = None,
        channel: str | None = None,
        thread_ts: str | None = None,
        **kwargs: Any,
    ) -> None:
        payload: dict[str, Any] = dict(text) if isinstance(text, dict) else {"text": text}
        if blocks is not None:
            payload["blocks"] = blocks
        payload.update({k: v for k, v in kwargs.items() if v is not None})
        target = channel or payload.get("channel") or self.channel
        if not target:
            raise ValueError("say() needs a channel: this event happened in none")
        payload["channel"] = target
        thread_ts = thread_ts or payload.get("thread_ts") or self.thread_ts
        if thread_ts:
            payload["thread_ts"] = thread_ts
        await self.uow.deliver("chat.postMessage", payload, channel=target)
