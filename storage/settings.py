"""Workspace settings: one JSON object per workspace, read and replaced whole."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Workspace


async def read_settings(session: AsyncSession, install_key: str) -> dict[str, Any]:
    """The workspace's settings; empty when it has none (or is not known yet)."""
    found = await session.scalar(
        select(Workspace.settings).where(Workspace.install_key == install_key)
    )
    return dict(found) if isinstance(found, dict) else {}


def put_setting(workspace: Workspace, key: str, value: Any) -> None:
    # A new dict: SQLAlchemy does not see changes made inside a JSON value.
    workspace.settings = {**(workspace.settings or {}), key: value}
