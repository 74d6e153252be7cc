"""Outbox rows: what must be said to Slack after the ack, written in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery, DeliveryStatus
from storage.outbox_queries import notify_outbox


async def enqueue(
    session: AsyncSession,
    *,
    workspace_id: int,
    method: str,
    payload: dict[str, Any],
    now: datetime,
    channel: str | None = None,
    coalesce_key: str | None = None,
) -> Delivery:
    """Add a delivery; one with a coalesce key supersedes the pending ones with the same key."""
    if coalesce_key is not None:
        await session.execute(
            update(Delivery)
            .where(
                Delivery.workspace_id == workspace_id,
                Delivery.coalesce_key == coalesce_key,
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.leased_until.is_(None),
            )
            .values(status=DeliveryStatus.SUPERSEDED)
        )
    delivery = Delivery(
        workspace_id=workspace_id,
        key=uuid.uuid4().hex,
        method=method,
        channel=channel,
        coalesce_key=coalesce_key,
        payload=payload,
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    await session.flush()
    await notify_outbox(session)  # wakes the leader, on whichever replica, once this commits
    return delivery
