"""Queries for After Action Review runs and their replies; each takes the workspace, except the
scheduler's sweep, which finds due runs across installed workspaces (as the loop does)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AarReply, AarRun, AarState, Delivery, Member, Workspace

# One sweep handles at most this many runs per step; the rest wait for the next tick.
SWEEP_BATCH = 100


async def add_run(session: AsyncSession, run: AarRun) -> AarRun:
    session.add(run)
    await session.flush()
    return run


async def get_run(session: AsyncSession, workspace_id: int, run_id: int) -> AarRun | None:
    return await session.scalar(
        select(AarRun).where(AarRun.workspace_id == workspace_id, AarRun.id == run_id)
    )


async def due(session: AsyncSession, state: AarState, now: datetime) -> list[int]:
    """Runs of installed workspaces due to move on: to start (scheduled) or to sum up (open)."""
    when = AarRun.starts_at if state is AarState.SCHEDULED else AarRun.ends_at
    rows = await session.scalars(
        select(AarRun.id)
        .join(Workspace, Workspace.id == AarRun.workspace_id)
        .where(AarRun.state == state, when <= now, Workspace.uninstalled_at.is_(None))
        .order_by(when, AarRun.id)
        .limit(SWEEP_BATCH)
    )
    return list(rows)


async def claim_step(
    session: AsyncSession, run_id: int, before: AarState, after: AarState, **values: Any
) -> AarRun | None:
    """Move a run from `before` to `after`; None when another tick (or process) moved it first.

    A conditional update: on PostgreSQL a rival's update waits for this transaction and then
    finds the state changed; SQLite has one writer. So each step happens once.
    """
    result = await session.execute(
        update(AarRun)
        .where(AarRun.id == run_id, AarRun.state == before)
        .values(state=after, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    return await session.scalar(
        select(AarRun).where(AarRun.id == run_id).execution_options(populate_existing=True)
    )


async def open_runs_in(
    session: AsyncSession, workspace_id: int, channel_id: str
) -> list[tuple[int, str | None, dict[str, Any] | None]]:
    """A channel's open runs: (id, thread ts if known, what the outbox kept of the questions)."""
    rows = await session.execute(
        select(AarRun.id, AarRun.thread_ts, Delivery.result)
        .outerjoin(Delivery, Delivery.id == AarRun.questions_delivery_id)
        .where(
            AarRun.workspace_id == workspace_id,
            AarRun.channel_id == channel_id,
            AarRun.state == AarState.OPEN,
        )
    )
    return [(run_id, thread_ts, result) for run_id, thread_ts, result in rows]


async def posted_ts(session: AsyncSession, delivery_id: int | None) -> str | None:
    """Where the outbox says a post landed (its ts), once sent."""
    if delivery_id is None:
        return None
    result = await session.scalar(select(Delivery.result).where(Delivery.id == delivery_id))
    ts = (result or {}).get("ts")
    return ts if isinstance(ts, str) else None


async def add_reply(
    session: AsyncSession,
    *,
    workspace_id: int,
    run_id: int,
    user_id: str,
    ts: str,
    text: str,
    now: datetime,
) -> bool:
    """Store a reply once per message; False when it was stored already."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(AarReply)
        .values(
            workspace_id=workspace_id,
            run_id=run_id,
            user_id=user_id,
            ts=ts,
            text=text,
            created_at=now,
        )  # fmt: skip
        .on_conflict_do_nothing(index_elements=["run_id", "ts"])
    )
    return result.rowcount == 1


async def replies_of(session: AsyncSession, workspace_id: int, run_id: int) -> list[AarReply]:
    rows = await session.scalars(
        select(AarReply)
        .where(AarReply.workspace_id == workspace_id, AarReply.run_id == run_id)
        .order_by(AarReply.ts, AarReply.id)
    )
    return list(rows)


async def set_thread(session: AsyncSession, run_id: int, thread_ts: str) -> None:
    await session.execute(
        update(AarRun)
        .where(AarRun.id == run_id, AarRun.thread_ts.is_(None))
        .values(thread_ts=thread_ts)
        .execution_options(synchronize_session=False)
    )


async def member_timezone(session: AsyncSession, workspace_id: int, user_id: str) -> str | None:
    """A member's timezone from the member cache (never a Slack call before the ack)."""
    return await session.scalar(
        select(Member.timezone).where(
            Member.workspace_id == workspace_id, Member.user_id == user_id
        )
    )
