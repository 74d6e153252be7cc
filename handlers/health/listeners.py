"""`/doughnut stats [all|community] [Nd]`: a community's health, or every community's.

One community's figures are read before the ack (one indexed query per figure set) and
answered ephemerally, when they come within STATS_BUDGET; past it (a very busy community),
and for every community's (`all`, the support team) always, they are answered after the ack,
through the outbox to the command's response_url. The
chart is drawn after the ack (matplotlib, in a worker thread) and sent to the person's DM
through the outbox (`files.upload_v2`): files cannot be ephemeral, and a chart in the channel
would reach everyone.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable
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
# How long one community's figures may take before the ack; past it they follow the ack.
STATS_BUDGET = 1.5


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
    # Read in a unit of work of its own, so a slow read can go on after the ack.
    reading = _own(uow)
    figures = asyncio.ensure_future(health.stats(reading, user_id, channel_id, request))
    done, _ = await asyncio.wait({figures}, timeout=STATS_BUDGET)
    if not done:
        later = answer_later(reading, figures, user_id, channel_id, body.get("response_url"))
        deps.after_ack.hand_off(later, what="community health")
        await ack(**ephemeral(views.STATS_COMING))
        return
    try:
        found = figures.result()
    finally:
        await reading.finish(ok=not figures.exception())
    charts = found.verdict is StatsVerdict.SHOWN and chart.available()
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
    figures = health.stats(uow, user_id, channel_id, request)
    await answer_later(uow, figures, user_id, channel_id, response_url)


async def answer_later(
    uow: UnitOfWork,
    figures: Awaitable[health.Stats],
    user_id: str,
    channel_id: str,
    response_url: str | None,
) -> None:
    """After the ack: the figures, once read, to the person only (through the outbox)."""
    ok = False
    try:
        found = await figures
        answer = {**views.stats_answer(found, chart=False), "replace_original": False}
        if response_url:
            await uow.deliver(RESPONSE_URL, {"url": response_url, "body": answer})
        else:
            payload = {"channel": channel_id, "user": user_id, "text": answer["text"],
                       "blocks": answer.get("blocks", [])}  # fmt: skip
            await uow.deliver("chat.postEphemeral", payload, channel=channel_id)
        ok = True
    except Exception:
        log.exception("community health was not sent (user=%s)", user_id)
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
