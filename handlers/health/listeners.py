"""`/doughnut stats [all|community] [Nd]`: a community's health, or every community's.

The figures are read before the ack (a few indexed queries) and answered ephemerally. The
chart is drawn after the ack (matplotlib, in a worker thread) and sent to the person's DM
through the outbox (`files.upload_v2`): files cannot be ephemeral, and a chart in the channel
would reach everyone.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import Block, ephemeral
from bot.core import health
from bot.core.health import StatsVerdict
from bot.deps import Deps
from bot.registry import HomeViewer
from bot.unit_of_work import UnitOfWork
from handlers.health import chart, views

log = logging.getLogger(__name__)


async def stats_command(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    args: str = "",
    **_: Any,
) -> None:
    request = health.parse_stats(args)
    if request is None:
        await ack(**ephemeral(views.USAGE))
        return
    uow: UnitOfWork = context["uow"]
    user_id = body["user_id"]
    found = await health.stats(uow, user_id, body.get("channel_id", ""), request)
    single = found.verdict is StatsVerdict.SHOWN and not request.everything
    charts = single and chart.available()
    if charts and found.community is not None:
        deps: Deps = context["deps"]
        own = UnitOfWork(deps, uow.installation)  # its own transaction, after the ack
        own.acting_team_id = uow.acting_team_id
        work = send_chart(own, found.community.id, user_id)
        deps.after_ack.hand_off(work, what="health chart")
    await ack(**views.stats_answer(found, chart=charts))


async def send_chart(uow: UnitOfWork, community_id: int, user_id: str) -> None:
    """After the ack: draw the twelve months and queue the upload to the person's DM."""
    ok = False
    try:
        monthly = await health.chart_data(uow, community_id)
        if monthly is None:
            return
        png = await asyncio.to_thread(chart.render, monthly)
        payload = views.chart_upload(monthly, user_id, base64.b64encode(png).decode("ascii"))
        await uow.deliver("files.upload_v2", payload, channel=user_id)
        ok = True
    except Exception:
        log.exception("the health chart was not sent (community=%s)", community_id)
    finally:
        await uow.finish(ok=ok)


async def home_section(uow: UnitOfWork, viewer: HomeViewer, room: int) -> list[Block]:
    """Health's part of the Home tab: only for coordinators and sponsors."""
    return views.home_section(await health.home_health(uow, viewer.user_id), room)
