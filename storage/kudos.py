"""Kudos queries: every one scoped by workspace."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Kudos, KudosStatus, KudosTag, Visibility

# What counts against a giver's allowance: given, or waiting for Slack to say who it is for.
COUNTED = (KudosStatus.GIVEN, KudosStatus.PENDING)


async def given_on(session: AsyncSession, workspace_id: int, giver_id: str, local_day: str) -> int:
    """How many kudos a giver gave on one of their local days (pending ones count)."""
    found = await session.scalar(
        select(func.count())
        .select_from(Kudos)
        .where(
            Kudos.workspace_id == workspace_id,
            Kudos.giver_id == giver_id,
            Kudos.local_day == local_day,
            Kudos.status.in_(COUNTED),
        )
    )
    return int(found or 0)


async def for_message(
    session: AsyncSession,
    workspace_id: int,
    giver_id: str,
    receiver_ids: Iterable[str],
    channel_id: str,
    message_ts: str,
) -> dict[str, Kudos]:
    """The kudos a giver already has for a message, by receiver (any status)."""
    ids = list(receiver_ids)
    if not ids:
        return {}
    found = await session.scalars(
        select(Kudos).where(
            Kudos.workspace_id == workspace_id,
            Kudos.giver_id == giver_id,
            Kudos.receiver_id.in_(ids),
            Kudos.channel_id == channel_id,
            Kudos.message_ts == message_ts,
        )
    )
    return {k.receiver_id: k for k in found}


async def add_kudos(session: AsyncSession, values: dict[str, Any], tags: Iterable[str]) -> int:
    """Insert one kudos and its tags (plain inserts: this is every kudos' hot path); its id."""
    kudos_id = int(
        (await session.execute(insert(Kudos).values(values).returning(Kudos.id))).scalar_one()
    )
    rows = [
        {"kudos_id": kudos_id, "tag": t, "workspace_id": values["workspace_id"]}
        for t in dict.fromkeys(tags)
    ]
    if rows:
        await session.execute(insert(KudosTag), rows)
    return kudos_id


async def kudos_by_ids(session: AsyncSession, workspace_id: int, ids: Iterable[int]) -> list[Kudos]:
    wanted = list(ids)
    if not wanted:
        return []
    found = await session.scalars(
        select(Kudos)
        .where(Kudos.workspace_id == workspace_id, Kudos.id.in_(wanted))
        .order_by(Kudos.id)
    )
    return list(found)


async def received(
    session: AsyncSession, workspace_id: int, receiver_id: str, limit: int
) -> list[Kudos]:
    """A member's latest kudos received (given ones only), newest first."""
    found = await session.scalars(
        select(Kudos)
        .where(
            Kudos.workspace_id == workspace_id,
            Kudos.receiver_id == receiver_id,
            Kudos.status == KudosStatus.GIVEN,
        )
        .order_by(Kudos.given_at.desc(), Kudos.id.desc())
        .limit(limit)
    )
    return list(found)


async def received_count(session: AsyncSession, workspace_id: int, receiver_id: str) -> int:
    found = await session.scalar(
        select(func.count())
        .select_from(Kudos)
        .where(
            Kudos.workspace_id == workspace_id,
            Kudos.receiver_id == receiver_id,
            Kudos.status == KudosStatus.GIVEN,
        )
    )
    return int(found or 0)


async def known_visibility(session: AsyncSession, workspace_id: int, channel_id: str) -> Visibility:
    """What Slack said about a channel for earlier kudos, or UNKNOWN."""
    found = await session.scalar(
        select(Kudos.visibility)
        .where(
            Kudos.workspace_id == workspace_id,
            Kudos.channel_id == channel_id,
            Kudos.visibility != Visibility.UNKNOWN,
        )
        .limit(1)
    )
    return found or Visibility.UNKNOWN


async def resolve_visibility(
    session: AsyncSession, workspace_id: int, channel_id: str, visibility: Visibility
) -> None:
    """What Slack said about a channel, for its kudos still waiting to know."""
    await session.execute(
        update(Kudos)
        .where(
            Kudos.workspace_id == workspace_id,
            Kudos.channel_id == channel_id,
            Kudos.visibility == Visibility.UNKNOWN,
        )
        .values(visibility=visibility)
    )


async def set_permalink(
    session: AsyncSession, workspace_id: int, channel_id: str, message_ts: str, permalink: str
) -> None:
    await session.execute(
        update(Kudos)
        .where(
            Kudos.workspace_id == workspace_id,
            Kudos.channel_id == channel_id,
            Kudos.message_ts == message_ts,
            Kudos.permalink.is_(None),
        )
        .values(permalink=permalink[:500])
    )


def mark_undone(kudos: Kudos, now: datetime) -> None:
    kudos.status = KudosStatus.UNDONE
    kudos.undone_at = now
