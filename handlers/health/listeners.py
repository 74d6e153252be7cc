"""`/doughnut stats [all|community] [Nd]`: a community's health, or every community's.

One community's figures are read before the ack (one indexed query per figure set) and
answered ephemerally; every community's (`all`, the support team) after it, through the
outbox to the command's response_url, since they may take longer than an ack may wait. The
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
from storage.deliveries import RESPONSE_URL

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
    deps: Deps = context["deps"]
    user_id, channel_id = body["user_id"], body.get("channel_id", "")
    if request.everything:
        # Every community's figures take longer than an ack may wait: answered after it.
        if not await health.sees_everything(uow, user_id):
            await ack(**ephemeral(views.SUPPORT_ONLY))
            return
        work = send_everything(_own(uow), user_id, channel_id, request, body.get("response_url"))
        deps.after_ack.hand_off(work, what="every community's health")
        await ack(**ephemeral(views.ALL_COMING))
        return
    found = await health.stats(uow, user_id, channel_id, request)
    single = found.verdict is StatsVerdict.SHOWN and not request.everything
    charts = single and chart.available()
    if charts and found.community is not None:
        work = send_chart(_own(uow), found.community.id, user_id)
        deps.after_ack.hand_off(work, what="health chart")
    await ack(**views.stats_answer(found, chart=charts))


def _own(uow: UnitOfWork) -> UnitOfWork:
    """A unit of work of the same workspace for work after the ack (its own transaction)."""
    own = UnitOfWork(uow.deps, uow.installation)
    own.acting_team_id = uow.acting_team_id
    return own


async def send_everything(
    uow: UnitOfWork,
    user_id: str,
    channel_id: str,
    request: health.StatsRequest,
    response_url: str | None,
) -> None:
    """After the ack: every community's health, to the person only (through the outbox)."""
    ok = False
    try:
        found = await health.stats(uow, user_id, channel_id, request)
        answer = {**views.stats_answer(found, chart=False), "replace_original": False}
        if response_url:
            await uow.deliver(RESPONSE_URL, {"url": response_url, "body": answer})
        else:
            payload = {"channel": channel_id, "user": user_id, "text": answer["text"],
                       "blocks": answer.get("blocks", [])}  # fmt: skip
            await uow.deliver("chat.postEphemeral", payload, channel=channel_id)
        ok = True
    except Exception:
        log.exception("every community's health was not sent (user=%s)", user_id)
    finally:
        await uow.finish(ok=ok)


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
