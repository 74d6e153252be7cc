"""The outbox's SQL: find lanes, lease one delivery, mark it sent, retried, failed, unknown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, bindparam, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery, DeliveryStatus

NOTIFY_CHANNEL = "doughnut_outbox"
PENDING = DeliveryStatus.PENDING
# Methods whose retry could post twice: a leased one is in doubt until its outcome is known.
POSTS = frozenset({"chat.postMessage"})
# File uploads (files upload v2: get an upload URL, send the bytes, complete and share): a
# retry could share the file twice. Their progress (the file id, the conversation) is kept on
# the row's `result` while pending, so a re-leased one can be checked, never re-sent blind.
UPLOADS = frozenset({"files.upload", "files.upload_v2", "files.uploadV2"})
IN_DOUBT_METHODS = POSTS | UPLOADS


@dataclass(frozen=True)
class Lane:
    """Deliveries that must go out one at a time, in id order (`Delivery.lane`, per workspace).

    A channel's posts form one lane (Slack's order and pacing are per channel); an ephemeral's
    lane is its person in that channel; channel-less state-setting calls (`views.publish`) share
    a lane with those of the same coalesce key, so the latest state is the last one sent.
    """

    workspace_id: int
    name: str

    @property
    def channel(self) -> str | None:
        """The channel whose pacing this lane keeps, if it is a channel's lane."""
        prefix, _, channel = self.name.partition(":")
        return channel if prefix == "channel" else None

    def condition(self) -> ColumnElement[bool]:
        return (Delivery.workspace_id == self.workspace_id) & (Delivery.lane == self.name)

    def __str__(self) -> str:
        return f"{self.workspace_id}/{self.name}"


@dataclass(frozen=True)
class Head:
    """A pending delivery of a lane, in the lane's order; the oldest is the only one that may go."""

    lane: Lane
    id: int
    method: str
    priority: int
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
    attempts: int  # tries, including this one
    failures: int  # tries that count towards giving up (see Delivery.failures)
    created_at: datetime
    lease_expired: bool  # an earlier sender held it and never came back
    previous_error: str | None
    # Set when an earlier try may have posted unseen: look in the channel back to then first.
    in_doubt_since: datetime | None
    # An upload's progress kept by an earlier try (`keep_progress`): file id, conversation, step.
    progress: dict[str, Any] | None = None


_HEAD_COLUMNS = (
    Delivery.id,
    Delivery.workspace_id,
    Delivery.lane,
    Delivery.method,
    Delivery.priority,
    Delivery.next_attempt_at,
    Delivery.leased_until,
)


def _head(row: Any) -> Head:
    id_, workspace_id, lane, method, priority, next_attempt_at, leased_until = row
    return Head(Lane(workspace_id, lane), id_, method, priority, next_attempt_at, leased_until)


async def lane_heads(session: AsyncSession, now: datetime, limit: int) -> list[Head]:
    """The oldest pending delivery of every lane, when due: a person's first, then oldest first."""
    oldest = (
        select(func.min(Delivery.id).label("id"))
        .where(Delivery.status == PENDING)
        .group_by(Delivery.workspace_id, Delivery.lane)
        .subquery()
    )
    rows = await session.execute(
        select(*_HEAD_COLUMNS)
        .join(oldest, Delivery.id == oldest.c.id)
        .where(
            Delivery.next_attempt_at <= now,
            or_(Delivery.leased_until.is_(None), Delivery.leased_until <= now),
        )
        .order_by(Delivery.priority.desc(), Delivery.id)
        .limit(limit)
    )
    return [_head(row) for row in rows]


# The statements run once or twice per delivery are built once: building one costs more than
# SQLite's work for it (bench/sqlite_burst.py).
_LANE_PENDING = (
    select(*_HEAD_COLUMNS)
    .where(
        Delivery.status == PENDING,
        Delivery.workspace_id == bindparam("b_workspace"),
        Delivery.lane == bindparam("b_lane"),
    )
    .order_by(Delivery.id)
    .limit(bindparam("b_limit"))
)


async def lane_pending(session: AsyncSession, lane: Lane, limit: int) -> list[Head]:
    """The oldest pending deliveries of one lane, in the order they must go."""
    rows = await session.execute(
        _LANE_PENDING, {"b_workspace": lane.workspace_id, "b_lane": lane.name, "b_limit": limit}
    )
    return [_head(row) for row in rows]


_LEASE_ROW = (
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
        Delivery.failures,
        Delivery.next_attempt_at,
        Delivery.leased_until,
        Delivery.last_error,
        Delivery.created_at,
        Delivery.in_doubt_since,
        Delivery.result,
    )
    .where(Delivery.id == bindparam("b_id"))
    # PostgreSQL: a row another sender is leasing is skipped; SQLite: BEGIN IMMEDIATE already
    # makes this the only writer.
    .with_for_update(skip_locked=True)
)
_TAKE = (
    update(Delivery)
    .where(Delivery.id == bindparam("b_id"))
    .values(
        attempts=bindparam("b_attempts"),
        leased_until=bindparam("b_until"),
        lease_owner=bindparam("b_owner"),
    )
    .execution_options(synchronize_session=False)
)
_TAKE_IN_DOUBT = _TAKE.values(in_doubt_since=bindparam("b_now"))

# Why a delivery could not be leased: a newer one of its coalesce key replaces it; it is no longer
# pending (sent, failed, superseded by enqueue); or it is not due or another sender holds it.
Refusal = Literal["superseded", "gone", "busy"]


async def lease(
    session: AsyncSession,
    delivery_id: int,
    *,
    owner: str,
    now: datetime,
    until: datetime,
) -> Lease | Refusal:
    """Take a due delivery until `until`, counting the try.

    A coalesced delivery with a newer one of the same key is superseded instead (the newer state
    wins), and leasing one supersedes the older pending ones of its key. A post is in doubt from
    now until its outcome is known, so a sender that dies mid-send leaves a mark.
    """
    row = (await session.execute(_LEASE_ROW, {"b_id": delivery_id})).first()
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
    in_doubt_from = now if row.method in IN_DOUBT_METHODS and row.in_doubt_since is None else None
    await session.execute(
        _TAKE if in_doubt_from is None else _TAKE_IN_DOUBT,
        {
            "b_id": row.id,
            "b_attempts": row.attempts + 1,
            "b_until": until,
            "b_owner": owner,
            **({} if in_doubt_from is None else {"b_now": in_doubt_from}),
        },
    )
    return Lease(
        id=row.id,
        key=row.key,
        method=row.method,
        channel=row.channel,
        payload=dict(row.payload),
        attempts=row.attempts + 1,
        failures=row.failures,
        created_at=row.created_at,
        lease_expired=row.leased_until is not None,
        previous_error=row.last_error,
        in_doubt_since=row.in_doubt_since,
        progress=dict(row.result) if row.method in UPLOADS and row.result else None,
    )


def _held(delivery_id: int, owner: str) -> tuple[ColumnElement[bool], ...]:
    # Only the lease holder may settle a delivery (a sender whose lease was taken over may not).
    return (
        Delivery.id == delivery_id,
        Delivery.status == PENDING,
        Delivery.lease_owner == owner,
    )


async def _settle(session: AsyncSession, delivery_id: int, owner: str, **values: Any) -> bool:
    done = await session.execute(
        update(Delivery)
        .where(*_held(delivery_id, owner))
        .values(leased_until=None, lease_owner=None, **values)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


_MARK_SENT = (
    update(Delivery)
    .where(
        Delivery.id == bindparam("b_id"),
        Delivery.status == PENDING,
        Delivery.lease_owner == bindparam("b_owner"),
    )
    .values(
        status=DeliveryStatus.SENT,
        sent_at=bindparam("b_now"),
        result=bindparam("b_result"),
        last_error=None,
        in_doubt_since=None,
        leased_until=None,
        lease_owner=None,
    )
    .execution_options(synchronize_session=False)
)


async def mark_sent(
    session: AsyncSession, delivery_id: int, *, owner: str, now: datetime, result: dict[str, Any]
) -> bool:
    """Settle a delivery Slack accepted; False if this sender no longer held it."""
    done = await session.execute(
        _MARK_SENT, {"b_id": delivery_id, "b_owner": owner, "b_now": now, "b_result": result}
    )
    return done.rowcount == 1


async def keep_progress(
    session: AsyncSession, delivery_id: int, *, owner: str, progress: dict[str, Any]
) -> bool:
    """Note how far an upload got (on `result`, while pending); False if no longer held."""
    done = await session.execute(
        update(Delivery)
        .where(*_held(delivery_id, owner))
        .values(result=progress)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


async def mark_retry(
    session: AsyncSession,
    delivery_id: int,
    *,
    owner: str,
    at: datetime,
    error: str,
    counts: bool,
    in_doubt: bool,
) -> bool:
    """Give a delivery back, due again at `at`; `counts` adds a failure, `in_doubt` keeps doubt."""
    values: dict[str, Any] = {"next_attempt_at": at, "last_error": error}
    if counts:
        values["failures"] = Delivery.failures + 1
    if not in_doubt:
        values["in_doubt_since"] = None
    return await _settle(session, delivery_id, owner, **values)


async def release(session: AsyncSession, delivery_id: int, *, owner: str) -> bool:
    """Give back a lease that was not used (nothing sent); the row keeps whatever doubt it had."""
    return await _settle(session, delivery_id, owner)


async def mark_failed(session: AsyncSession, delivery_id: int, *, owner: str, error: str) -> bool:
    """Settle a delivery that will never go out, with the reason."""
    return await _settle(
        session, delivery_id, owner, status=DeliveryStatus.FAILED, last_error=error
    )


async def mark_unknown(session: AsyncSession, delivery_id: int, *, owner: str, error: str) -> bool:
    """Settle a post that may have gone out but cannot be checked: never re-sent blind."""
    return await _settle(
        session, delivery_id, owner, status=DeliveryStatus.UNKNOWN, last_error=error
    )


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
