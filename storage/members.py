"""The member cache: a workspace's Slack users and its user groups' members."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, UserGroupMember

# Columns a Slack user object fills (besides workspace_id and user_id).
MEMBER_FIELDS = ("name", "timezone", "is_bot", "deleted", "is_admin", "is_owner", "is_restricted")


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind else "sqlite"


async def upsert_members(
    session: AsyncSession, workspace_id: int, rows: Sequence[dict[str, Any]], now: datetime
) -> None:
    """Insert or refresh cached members (each row: user_id and MEMBER_FIELDS)."""
    insert = pg_insert if _dialect(session) == "postgresql" else sqlite_insert
    # In chunks: SQLite takes at most 32,766 bound parameters in one statement.
    for start in range(0, len(rows), 500):
        chunk = [
            {"workspace_id": workspace_id, "updated_at": now, **row}
            for row in rows[start : start + 500]
        ]
        statement = insert(Member).values(chunk)
        statement = statement.on_conflict_do_update(
            index_elements=["workspace_id", "user_id"],
            set_={f: statement.excluded[f] for f in (*MEMBER_FIELDS, "updated_at")},
        )
        await session.execute(statement)


async def members_by_ids(
    session: AsyncSession, workspace_id: int, user_ids: Iterable[str]
) -> list[Row[Any]]:
    """Cached members' rows (user_id and MEMBER_FIELDS): plain rows, read on every kudos."""
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return []
    columns = [Member.user_id, *(getattr(Member, f) for f in MEMBER_FIELDS)]
    found = await session.execute(
        select(*columns).where(Member.workspace_id == workspace_id, Member.user_id.in_(ids))
    )
    return list(found)


async def member_count(session: AsyncSession, workspace_id: int) -> int:
    found = await session.scalar(
        select(func.count()).select_from(Member).where(Member.workspace_id == workspace_id)
    )
    return int(found or 0)


async def group_members(session: AsyncSession, workspace_id: int, group_id: str) -> list[str]:
    """A cached group's member ids; empty when the group is not cached (or has no one)."""
    found = await session.scalars(
        select(UserGroupMember.user_id)
        .where(UserGroupMember.workspace_id == workspace_id, UserGroupMember.group_id == group_id)
        .order_by(UserGroupMember.user_id)
    )
    return list(found)


async def replace_group(
    session: AsyncSession, workspace_id: int, group_id: str, user_ids: Iterable[str]
) -> None:
    await session.execute(
        delete(UserGroupMember).where(
            UserGroupMember.workspace_id == workspace_id, UserGroupMember.group_id == group_id
        )
    )
    for user_id in dict.fromkeys(user_ids):
        session.add(UserGroupMember(workspace_id=workspace_id, group_id=group_id, user_id=user_id))
    await session.flush()


async def change_group(
    session: AsyncSession,
    workspace_id: int,
    group_id: str,
    added: Iterable[str],
    removed: Iterable[str],
) -> None:
    gone = list(removed)
    if gone:
        await session.execute(
            delete(UserGroupMember).where(
                UserGroupMember.workspace_id == workspace_id,
                UserGroupMember.group_id == group_id,
                UserGroupMember.user_id.in_(gone),
            )
        )
    present = set(await group_members(session, workspace_id, group_id))
    for user_id in dict.fromkeys(added):
        if user_id not in present:
            session.add(
                UserGroupMember(workspace_id=workspace_id, group_id=group_id, user_id=user_id)
            )
    await session.flush()
