"""Workspaces and processed events: get-or-create safe under concurrent first requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base, ProcessedEvent, Workspace


def _insert(session: AsyncSession, model: type[Base]) -> PgInsert | SqliteInsert:
    """An INSERT that can say ON CONFLICT DO NOTHING, in this session's dialect."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model)


def install_key(team_id: str | None, enterprise_id: str | None, is_enterprise_install: bool) -> str:
    """Org-wide installs are keyed by the enterprise, others by the team."""
    key = enterprise_id if is_enterprise_install else team_id
    if not key:
        raise ValueError("a request without a team or enterprise id has no workspace")
    return key


async def get_or_create_workspace(
    session: AsyncSession,
    *,
    key: str,
    team_id: str | None,
    enterprise_id: str | None,
    is_enterprise_install: bool,
    now: datetime,
) -> Workspace:
    found = await session.scalar(select(Workspace).where(Workspace.install_key == key))
    if found is not None:
        return found
    await session.execute(
        _insert(session, Workspace)
        .values(
            install_key=key,
            team_id=None if is_enterprise_install else team_id,
            enterprise_id=enterprise_id,
            is_enterprise_install=is_enterprise_install,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["install_key"])
    )
    return await session.scalar(select(Workspace).where(Workspace.install_key == key))  # type: ignore[return-value]


async def claim_event(
    session: AsyncSession, workspace_id: int, event_id: str, now: datetime
) -> bool:
    """Record an event as handled; False when it was already (or is being) handled."""
    result = await session.execute(
        _insert(session, ProcessedEvent)
        .values(workspace_id=workspace_id, event_id=event_id, received_at=now)
        .on_conflict_do_nothing(index_elements=["workspace_id", "event_id"])
    )
    return result.rowcount == 1


async def prune_processed_events(session: AsyncSession, workspace_id: int, before: datetime) -> int:
    """Forget event ids received before `before` (Slack stops retrying long before)."""
    result = await session.execute(
        delete(ProcessedEvent).where(
            ProcessedEvent.workspace_id == workspace_id, ProcessedEvent.received_at < before
        )
    )
    return result.rowcount or 0


async def find_workspace(session: AsyncSession, key: str) -> Workspace | None:
    return await session.scalar(select(Workspace).where(Workspace.install_key == key))


async def mark_uninstalled(session: AsyncSession, key: str, now: datetime) -> bool:
    """Remember the uninstall; the data goes after a grace period."""
    workspace = await find_workspace(session, key)
    if workspace is None:
        return False
    workspace.uninstalled_at = now
    return True
