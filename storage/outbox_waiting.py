"""Deliveries waiting to be tried again after a passing failure (shown by `doughnut shell`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery, DeliveryStatus


@dataclass(frozen=True)
class WaitingRetry:
    id: int
    method: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime


async def waiting_retries(
    session: AsyncSession, now: datetime, limit: int = 20
) -> list[WaitingRetry]:
    """Pending deliveries that failed before and are not due until later."""
    rows = await session.execute(
        select(
            Delivery.id,
            Delivery.method,
            Delivery.attempts,
            Delivery.last_error,
            Delivery.next_attempt_at,
        )
        .where(
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.attempts > 0,
            Delivery.next_attempt_at > now,
        )
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
    )
    return [WaitingRetry(*row) for row in rows]
