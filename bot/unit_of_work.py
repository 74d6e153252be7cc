"""One request's database work: a lazily begun transaction, committed before the ack."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.deps import Deps
from bot.tenancy import Installation
from storage import deliveries, workspaces
from storage.models import Priority, Workspace

log = logging.getLogger(__name__)


class DuplicateEvent(Exception):
    """Another delivery of this event was (or is being) handled: this one changes nothing."""


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
        self.failed = False
        # The team of whoever acted: an org-wide token needs it on many Web API calls.
        self.acting_team_id: str | None = None

    def expect_event(self, event_id: str) -> None:
        """This request delivers an event: claim its id before anything else is written."""
        self._event_id = event_id

    def forget_event(self) -> None:
        """No listener handled it: there is nothing to record."""
        self._event_id = None

    async def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self.deps.db.sessions()
            await self._session.begin()
            if self._event_id is not None:
                await self._claim_event(self._event_id)
        return self._session

    async def _claim_event(self, event_id: str) -> None:
        workspace = await self.workspace()
        claimed = await workspaces.claim_event(
            await self.session(), workspace.id, event_id, self.deps.clock.now()
        )
        if not claimed:
            raise DuplicateEvent(event_id)

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
        if self._session is None:
            return
        session, self._session = self._session, None
        try:
            await session.commit()
        finally:
            await session.close()
        if self._wrote_deliveries:
            self._wrote_deliveries = False
            self.deps.wake_outbox()

    async def rollback(self) -> None:
        if self._session is None:
            return
        session, self._session = self._session, None
        self._wrote_deliveries = False
        self._workspace = None  # it may have been created in the rolled-back transaction
        try:
            await session.rollback()
        finally:
            await session.close()

    async def finish(self, *, ok: bool) -> None:
        """Commit (recording the event even if the listener wrote nothing) or roll back."""
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
