"""slack_sdk's installation and OAuth state stores, kept in our database.

The stores build their tables on MetaData of their own; the same tables are built here on
`STORE_METADATA` (through the stores' own builders), so that our migrations create exactly
them and the autogenerate comparison covers them.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Workspace

STORE_METADATA = MetaData()
INSTALLATIONS: Table = AsyncSQLAlchemyInstallationStore.build_installations_table(
    STORE_METADATA, AsyncSQLAlchemyInstallationStore.default_installations_table_name
)
BOTS: Table = AsyncSQLAlchemyInstallationStore.build_bots_table(
    STORE_METADATA, AsyncSQLAlchemyInstallationStore.default_bots_table_name
)
OAUTH_STATES: Table = AsyncSQLAlchemyOAuthStateStore.build_oauth_states_table(
    STORE_METADATA, AsyncSQLAlchemyOAuthStateStore.default_table_name
)


async def uninstalled_before(session: AsyncSession, before: datetime) -> list[int]:
    """Workspaces uninstalled before `before`: their grace period is over."""
    rows = await session.scalars(
        select(Workspace.id).where(Workspace.uninstalled_at < before).order_by(Workspace.id)
    )
    return list(rows)


async def delete_workspace(session: AsyncSession, workspace_id: int) -> None:
    """Delete a workspace and, by cascade, every row that belongs to it."""
    await session.execute(delete(Workspace).where(Workspace.id == workspace_id))
