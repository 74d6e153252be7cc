"""Outbox rows: what must be said to Slack after the ack, written in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery, DeliveryStatus, Priority
from storage.outbox_queries import notify_outbox

# Calls whose answer a person is looking at right now (their modal, their Home, their ephemeral).
# Not a Web API method: a POST to an interaction's `response_url` (it reaches the person even
# where the bot is not a member, unlike chat.postEphemeral).
RESPONSE_URL = "response_url"
PERSONAL_METHODS = frozenset({"chat.postEphemeral", "views.publish", "views.update", RESPONSE_URL})


def lane_name(
    method: str, payload: dict[str, Any], channel: str | None, coalesce_key: str | None, key: str
) -> str:
    """Which lane a delivery waits in: one at a time per lane, in id order.

    Posts to a channel share its lane (Slack's order and pacing are per channel). Ephemerals are
    not channel messages: they keep their own order per person and channel, not paced behind the
    channel's posts. State-setting calls share their coalesce key's lane; the rest go alone.
    """
    if method == "chat.postEphemeral" and channel is not None:
        return f"ephemeral:{channel}:{payload.get('user') or ''}"[:160]
    if channel is not None:
        return f"channel:{channel}"
    if coalesce_key is not None:
        return f"key:{coalesce_key}"
    return f"delivery:{key}"


def default_priority(method: str, channel: str | None) -> Priority:
    """A person is waiting for ephemerals, views and DMs (a channel given as a user id)."""
    if method in PERSONAL_METHODS or (channel or "")[:1] in ("U", "W"):
        return Priority.PERSON
    return Priority.BULK


async def enqueue(
    session: AsyncSession,
    *,
    workspace_id: int,
    method: str,
    payload: dict[str, Any],
    now: datetime,
    channel: str | None = None,
    coalesce_key: str | None = None,
    priority: Priority | None = None,
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
    key = uuid.uuid4().hex
    delivery = Delivery(
        workspace_id=workspace_id,
        key=key,
        method=method,
        channel=channel,
        coalesce_key=coalesce_key,
        lane=lane_name(method, payload, channel, coalesce_key, key),
        priority=int(priority if priority is not None else default_priority(method, channel)),
        payload=payload,
        status=DeliveryStatus.PENDING,
        attempts=0,
        failures=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    await session.flush()
    await notify_outbox(session)  # wakes the leader, on whichever replica, once this commits
    return delivery


async def cancel_pending(session: AsyncSession, workspace_id: int, reason: str) -> int:
    """Fail every delivery of a workspace not sent yet, with the reason; how many."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.workspace_id == workspace_id, Delivery.status == DeliveryStatus.PENDING)
        .values(
            status=DeliveryStatus.FAILED, last_error=reason, leased_until=None, lease_owner=None
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
