"""The outbox's SQL: find lanes, lease one delivery, mark it sent, retried, failed or superseded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery, DeliveryStatus

NOTIFY_CHANNEL = "doughnut_outbox"
PENDING = DeliveryStatus.PENDING


@dataclass(frozen=True)
class Lane:
    """Deliveries that must go out one at a time, in id order.

    A channel's deliveries form one lane (Slack's order and pacing are per channel). Channel-less
    deliveries (`views.publish`) share a lane with those of the same coalesce key, so the latest
    state is the last one sent; the others each have their own.
    """

    channel: str | None = None
    workspace_id: int | None = None
    coalesce_key: str | None = None
    delivery_id: int | None = None

    def condition(self) -> ColumnElement[bool]:
        if self.channel is not None:
            return (Delivery.channel == self.channel) & (Delivery.workspace_id == self.workspace_id)
        if self.coalesce_key is not None:
            return (
                Delivery.channel.is_(None)
                & (Delivery.workspace_id == self.workspace_id)
                & (Delivery.coalesce_key == self.coalesce_key)
            )
        return Delivery.id == self.delivery_id

    def __str__(self) -> str:
        if self.channel is not None:
            return self.channel
        if self.coalesce_key is not None:
            return f"{self.workspace_id}:{self.coalesce_key}"
        return f"#{self.delivery_id}"


@dataclass(frozen=True)
class Head:
    """The oldest pending delivery of a lane: the only one of the lane that may go next."""

    lane: Lane
    id: int
    method: str
    next_attempt_at: datetime
    leased_until: datetime | None

    def is_due(self, now: datetime) -> bool:
        return self.next_attempt_at <= now and (
            self.leased_until is None or self.leased_until <= now
        )


@dataclass(frozen=True)
class Lease:
    """A delivery this sender holds until `leased_until`: what to send, and its history."""

    id: int
    key: str
    method: str
    channel: str | None
    payload: dict[str, Any]
    attempts: int  # including this one
    created_at: datetime
    lease_expired: bool  # an earlier sender held it and never came back
    previous_error: str | None


def lane_of(channel: str | None, workspace_id: int, coalesce_key: str | None, id: int) -> Lane:
    if channel is not None:
        return Lane(channel=channel, workspace_id=workspace_id)
    if coalesce_key is not None:
        return Lane(workspace_id=workspace_id, coalesce_key=coalesce_key)
    return Lane(delivery_id=id)


async def lane_heads(session: AsyncSession, limit: int) -> list[Head]:
    """The head of every lane among the oldest `limit` pending deliveries."""
    rows = await session.execute(
        select(
            Delivery.id,
            Delivery.workspace_id,
            Delivery.channel,
            Delivery.coalesce_key,
            Delivery.method,
            Delivery.next_attempt_at,
            Delivery.leased_until,
        )
        .where(Delivery.status == PENDING)
        .order_by(Delivery.id)
        .limit(limit)
    )
    heads: dict[Lane, Head] = {}
    for id_, workspace_id, channel, coalesce_key, method, next_attempt_at, leased_until in rows:
        lane = lane_of(channel, workspace_id, coalesce_key, id_)
        if lane not in heads:
            heads[lane] = Head(lane, id_, method, next_attempt_at, leased_until)
    return list(heads.values())


async def lane_pending(session: AsyncSession, lane: Lane, limit: int) -> list[Head]:
    """The oldest pending deliveries of one lane, in the order they must go."""
    rows = await session.execute(
        select(Delivery.id, Delivery.method, Delivery.next_attempt_at, Delivery.leased_until)
        .where(Delivery.status == PENDING, lane.condition())
        .order_by(Delivery.id)
        .limit(limit)
    )
    return [Head(lane, *row) for row in rows]


# Why a delivery could not be leased: a newer one of its coalesce key replaces it; it is no longer
# pending (sent, failed, superseded by enqueue); or it is not due or another sender holds it.
Refusal = Literal["superseded", "gone", "busy"]


async def lease(
    session: AsyncSession, delivery_id: int, *, owner: str, now: datetime, until: datetime
) -> Lease | Refusal:
    """Take a due delivery until `until`, counting the attempt.

    A coalesced delivery with a newer one of the same key is superseded instead (the newer state
    wins), and leasing one supersedes the older pending ones of its key.
    """
    row = (
        await session.execute(
            select(
                Delivery.id,
                Delivery.workspace_id,
                Delivery.key,
                Delivery.method,
                Delivery.channel,
                Delivery.coalesce_key,
                Delivery.payload,
                Delivery.status,
                Delivery.attempts,
                Delivery.next_attempt_at,
                Delivery.leased_until,
                Delivery.last_error,
                Delivery.created_at,
            )
            .where(Delivery.id == delivery_id)
            # PostgreSQL: a row another sender is leasing is skipped; SQLite: BEGIN IMMEDIATE
            # already makes this the only writer.
            .with_for_update(skip_locked=True)
        )
    ).first()
    if row is None:
        return "busy"
    if row.status != PENDING:
        return "gone"
    if row.next_attempt_at > now or (row.leased_until is not None and row.leased_until > now):
        return "busy"
    this = Delivery.id == row.id
    if row.coalesce_key is not None:
        same_key = (Delivery.workspace_id == row.workspace_id) & (
            Delivery.coalesce_key == row.coalesce_key
        )
        newer = await session.scalar(
            select(Delivery.id).where(same_key, Delivery.id > row.id).limit(1)
        )
        if newer is not None:
            await session.execute(
                update(Delivery)
                .where(this)
                .values(status=DeliveryStatus.SUPERSEDED, leased_until=None, lease_owner=None)
            )
            return "superseded"
        await session.execute(
            update(Delivery)
            .where(
                same_key,
                Delivery.id < row.id,
                Delivery.status == PENDING,
                or_(Delivery.leased_until.is_(None), Delivery.leased_until <= now),
            )
            .values(status=DeliveryStatus.SUPERSEDED, leased_until=None, lease_owner=None)
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        update(Delivery)
        .where(this)
        .values(attempts=row.attempts + 1, leased_until=until, lease_owner=owner)
        .execution_options(synchronize_session=False)
    )
    return Lease(
        id=row.id,
        key=row.key,
        method=row.method,
        channel=row.channel,
        payload=dict(row.payload),
        attempts=row.attempts + 1,
        created_at=row.created_at,
        lease_expired=row.leased_until is not None,
        previous_error=row.last_error,
    )


def _held(delivery_id: int, owner: str) -> tuple[ColumnElement[bool], ...]:
    # Only the lease holder may settle a delivery (a sender whose lease was taken over may not).
    return (
        Delivery.id == delivery_id,
        Delivery.status == PENDING,
        Delivery.lease_owner == owner,
    )


async def mark_sent(
    session: AsyncSession, delivery_id: int, *, owner: str, now: datetime, result: dict[str, Any]
) -> bool:
    """Settle a delivery Slack accepted; False if this sender no longer held it."""
    done = await session.execute(
        update(Delivery)
        .where(*_held(delivery_id, owner))
        .values(
            status=DeliveryStatus.SENT,
            sent_at=now,
            result=result,
            last_error=None,
            leased_until=None,
            lease_owner=None,
        )
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


async def mark_retry(
    session: AsyncSession, delivery_id: int, *, owner: str, at: datetime, error: str
) -> bool:
    """Give a delivery back, due again at `at`."""
    done = await session.execute(
        update(Delivery)
        .where(*_held(delivery_id, owner))
        .values(next_attempt_at=at, last_error=error, leased_until=None, lease_owner=None)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


async def mark_failed(session: AsyncSession, delivery_id: int, *, owner: str, error: str) -> bool:
    """Settle a delivery that will never go out, with the reason."""
    done = await session.execute(
        update(Delivery)
        .where(*_held(delivery_id, owner))
        .values(status=DeliveryStatus.FAILED, last_error=error, leased_until=None, lease_owner=None)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


async def pending_count(session: AsyncSession) -> int:
    """How many deliveries are still owed (the outbox depth)."""
    return int(
        await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status == PENDING)
        )
        or 0
    )


async def notify_outbox(session: AsyncSession) -> None:
    """On PostgreSQL, tell the leader (on any replica) about new deliveries when this commits."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # Delivered at commit, dropped on rollback; repeats within a transaction are folded.
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
