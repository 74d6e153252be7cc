"""Installations into many workspaces (OAuth): slack_sdk's stores in our database.

Who may be served, and with which token, is what the installation store says. The stores open
transactions of their own, so they are never called while a request's unit of work holds its
write transaction (on SQLite that would be "database is locked"): the tenant is looked up before
the listener runs, and an uninstall deletes from the store before the listener's first write.
Their writes go through `Database.writer()` when the database has one (SQLite's in-process
writer lock), like every other write.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store import Installation as StoredInstallation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.tenancy import Installation
from storage import workspaces
from storage.db import READ_ONLY, Database
from storage.models import Workspace

log = logging.getLogger(__name__)

# An install or an uninstall on this replica is seen at once; on another one within this.
LOOKUP_CACHE_SECONDS = 10.0
# Slack's install links are good for ten minutes.
STATE_EXPIRATION_SECONDS = 600

Key = tuple[str | None, str | None, bool]


@asynccontextmanager
async def _writing(db: Database) -> AsyncIterator[None]:
    """Hold the database's writer lock, where it has one (SQLite, one writer at a time)."""
    writer: Callable[[], Any] | None = getattr(db, "writer", None)
    async with writer() if writer is not None else contextlib.nullcontext():
        yield


def _installation(bot: Bot) -> Installation:
    return Installation(
        team_id=bot.team_id,
        enterprise_id=bot.enterprise_id,
        bot_user_id=bot.bot_user_id,
        bot_id=bot.bot_id,
        is_enterprise_install=bool(bot.is_enterprise_install),
        bot_token=bot.bot_token,
    )


@dataclass
class _Cached:
    value: Installation | None
    until: float


class Installations:
    """The installation store, read through a short cache, written under the writer lock."""

    def __init__(
        self,
        db: Database,
        client_id: str,
        clock: Clock,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        # Reads take no write lock on SQLite (plain BEGIN, not BEGIN IMMEDIATE).
        reading = db.engine.execution_options(**{READ_ONLY: True})
        self._reader = AsyncSQLAlchemyInstallationStore(client_id, engine=reading)
        self._writer = AsyncSQLAlchemyInstallationStore(client_id, engine=db.engine)
        self.store = _Store(self)
        self.state_store = _StateStore(
            db, AsyncSQLAlchemyOAuthStateStore(STATE_EXPIRATION_SECONDS, engine=db.engine)
        )
        self.clock = clock
        self._monotonic = monotonic
        self._cache: dict[Key, _Cached] = {}

    async def find(
        self, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool
    ) -> Installation | None:
        """The installation serving this team (or its org, for an org-wide install), or None."""
        key = (enterprise_id, None if is_enterprise_install else team_id, is_enterprise_install)
        cached = self._cache.get(key)
        if cached is not None and cached.until > self._monotonic():
            return cached.value
        bot = await self._reader.async_find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        if bot is None and enterprise_id and not is_enterprise_install:
            # An org-wide install serves every team of its enterprise.
            bot = await self._reader.async_find_bot(
                enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True
            )
        found = _installation(bot) if bot is not None else None
        self._cache[key] = _Cached(found, self._monotonic() + LOOKUP_CACHE_SECONDS)
        return found

    async def for_workspace(self, workspace_id: int) -> Installation | None:
        """The installation (and so the token) of one of our workspaces, or None if it left."""
        async with self.db.reading() as session:
            workspace = await session.get(Workspace, workspace_id)
            if workspace is None or workspace.uninstalled_at is not None:
                return None
            enterprise_id, team_id = workspace.enterprise_id, workspace.team_id
            org_wide = workspace.is_enterprise_install
        return await self.find(enterprise_id, team_id, org_wide)

    async def token_for_workspace(self, workspace_id: int) -> str | None:
        """The bot token to call Slack with for one workspace (the outbox's lookup)."""
        installation = await self.for_workspace(workspace_id)
        return installation.bot_token if installation is not None else None

    async def saved(self, installation: StoredInstallation) -> None:
        """An install completed: the workspace is ours (again), whatever its grace period said."""
        self._cache.clear()
        org_wide = bool(installation.is_enterprise_install)
        key = workspaces.install_key(installation.team_id, installation.enterprise_id, org_wide)
        async with self.db.transaction() as session:
            workspace = await workspaces.get_or_create_workspace(
                session,
                key=key,
                team_id=installation.team_id,
                enterprise_id=installation.enterprise_id,
                is_enterprise_install=org_wide,
                now=self.clock.now(),
            )
            workspace.uninstalled_at = None
        log.info("installed into %s", key)

    async def forget(
        self, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool
    ) -> None:
        """Delete the workspace's installation and bot token from the store (an uninstall)."""
        async with _writing(self.db):
            await self._writer.async_delete_all(
                enterprise_id=enterprise_id, team_id=None if is_enterprise_install else team_id
            )
        self._cache.clear()


class _Store(AsyncInstallationStore):
    """What Bolt's OAuth flow saves into: the SQLAlchemy store, reads and writes kept apart."""

    def __init__(self, installations: Installations) -> None:
        self._installations = installations

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: StoredInstallation) -> None:
        async with _writing(self._installations.db):
            await self._installations._writer.async_save(installation)
        await self._installations.saved(installation)

    async def async_save_bot(self, bot: Bot) -> None:
        async with _writing(self._installations.db):
            await self._installations._writer.async_save_bot(bot)
        self._installations._cache.clear()

    async def async_find_bot(self, **kwargs: Any) -> Bot | None:
        return await self._installations._reader.async_find_bot(**kwargs)

    async def async_find_installation(self, **kwargs: Any) -> StoredInstallation | None:
        return await self._installations._reader.async_find_installation(**kwargs)

    async def async_delete_bot(self, **kwargs: Any) -> None:
        async with _writing(self._installations.db):
            await self._installations._writer.async_delete_bot(**kwargs)
        self._installations._cache.clear()

    async def async_delete_installation(self, **kwargs: Any) -> None:
        async with _writing(self._installations.db):
            await self._installations._writer.async_delete_installation(**kwargs)
        self._installations._cache.clear()


class _StateStore(AsyncOAuthStateStore):
    """The OAuth state store, its writes under the writer lock."""

    def __init__(self, db: Database, store: AsyncSQLAlchemyOAuthStateStore) -> None:
        self._db = db
        self._store = store

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        async with _writing(self._db):
            return await self._store.async_issue(*args, **kwargs)

    async def async_consume(self, state: str) -> bool:
        async with _writing(self._db):
            return await self._store.async_consume(state)


class ResolvedAuthorize(AsyncAuthorize):
    """Bolt's authorize step: the installation the dispatch found (no auth.test per request)."""

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **_: Any,
    ) -> AuthorizeResult | None:
        installation: Installation | None = context.get("installation")
        if installation is None or installation.bot_token is None:
            return None
        return AuthorizeResult(
            enterprise_id=installation.enterprise_id,
            team_id=installation.team_id or team_id,
            bot_user_id=installation.bot_user_id,
            bot_id=installation.bot_id,
            bot_token=installation.bot_token,
            user_id=user_id,
        )


def with_token(client: AsyncWebClient, token: str | None) -> AsyncWebClient:
    """`client` (its timeout, its connection pool) calling as `token`; itself when None."""
    if token is None or token == client.token:
        return client
    return AsyncWebClient(
        token=token,
        base_url=client.base_url,
        timeout=client.timeout,
        session=client.session,
        retry_handlers=[],
    )
