"""`/doughnut me`, `/doughnut profile @someone`, `/doughnut report [period]`, and the Home line.

The profile answers in the ack (indexed reads). The report is read before the ack too, and its
CSV is queued as a file upload to the requester's DM through the outbox, which opens the DM and
uploads after the ack (files upload v2 wants the DM's `D…` id, not the person's `U…` id).
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext

from bot.blocks import Block
from bot.core import contributions
from bot.core.contributions import ReportVerdict
from bot.registry import HomeViewer
from bot.unit_of_work import UnitOfWork
from handlers.profile import export, views

UPLOAD = "files.upload_v2"


async def me_command(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext,
                     args: str = "", **_: Any) -> None:  # fmt: skip
    """`/doughnut me`: your own profile."""
    if args:
        await ack(**views.usage(views.PROFILE_USAGE))
        return
    user_id = body["user_id"]
    found = await contributions.profile(context["uow"], user_id, user_id)
    await ack(**views.profile_message(found, user_id))


async def profile_command(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext,
                          args: str = "", **_: Any) -> None:  # fmt: skip
    """`/doughnut profile @someone`: one member's profile (a mention, nothing else)."""
    member = contributions.parse_member(args)
    if member is None:
        await ack(**views.usage(views.PROFILE_USAGE))
        return
    found = await contributions.profile(context["uow"], member, body["user_id"])
    await ack(**views.profile_message(found, body["user_id"]))


async def report_command(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext,
                         args: str = "", **_: Any) -> None:  # fmt: skip
    """`/doughnut report [period]`: the community's ledger as CSV, to the requester's DM."""
    uow: UnitOfWork = context["uow"]
    user_id, channel_id = body["user_id"], body.get("channel_id") or ""
    found = await contributions.report(uow, user_id, channel_id, args)
    if found.verdict is ReportVerdict.NOT_A_COMMUNITY:
        await ack(**views.usage(views.NOT_A_COMMUNITY))
        return
    assert found.community is not None
    if found.verdict is ReportVerdict.LEADS_ONLY:
        await ack(**views.leads_only(found.community.name))
        return
    if found.verdict is ReportVerdict.BAD_PERIOD or found.period is None:
        await ack(**views.usage(views.REPORT_USAGE))
        return
    name, period = found.community.name, found.period
    upload = {
        "channel": user_id,  # the outbox opens the DM and uploads to its D… id
        "filename": export.filename(name, period),
        "title": f"Contribution ledger, {period.label}",
        "content": export.csv_text(found.rows),
        "initial_comment": views.upload_comment(name, period, found.rows),
    }
    await uow.deliver(UPLOAD, upload, channel=user_id)
    await ack(**views.on_its_way(name, period, len(found.rows)))


async def home_section(uow: UnitOfWork, viewer: HomeViewer, room: int) -> list[Block]:
    """One line: your contributions over the last days."""
    figures = await contributions.recent(uow, viewer.user_id)
    return views.home_section(figures, contributions.PROFILE_DAYS)
