"""`/doughnut digest` (the preview) and the coordinator's community settings modal."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext

from bot.blocks import FormValues, ephemeral, field_errors
from bot.core import digests
from bot.core.digests import SettingsField, SettingsForm
from bot.unit_of_work import UnitOfWork
from handlers.digests import ids, views

log = logging.getLogger(__name__)

FIELD_BLOCKS = {
    SettingsField.TIMEZONE: ids.TIMEZONE_BLOCK,
    SettingsField.DAY: ids.DAY_BLOCK,
    SettingsField.TIME: ids.TIME_BLOCK,
    SettingsField.ANCHOR: ids.ANCHOR_BLOCK,
}
NO_WORDS = "`/doughnut digest` takes no words: it previews this channel's weekly digest."


async def digest_command(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, args: str = "", **_: Any
) -> None:
    """This week's digest so far, only to the one who asked; nothing is claimed or posted."""
    if args:
        await ack(**ephemeral(NO_WORDS))
        return
    uow: UnitOfWork = context["uow"]
    found = await digests.preview(uow, body.get("channel_id") or "")
    await ack(**views.preview(found.digest))


def _checked(values: dict[str, Any], block_id: str) -> set[str]:
    """The values of the boxes ticked in a checkboxes input."""
    element = (values.get(block_id) or {}).get(ids.FIELD_ACTION) or {}
    chosen = element.get("selected_options") if isinstance(element, dict) else None
    if not isinstance(chosen, list):
        return set()
    return {
        o.get("value") for o in chosen if isinstance(o, dict) and isinstance(o.get("value"), str)
    }


def _channels(values: dict[str, Any]) -> tuple[str, ...]:
    element = (values.get(ids.SNAPSHOT_CHANNELS_BLOCK) or {}).get(ids.FIELD_ACTION) or {}
    chosen = element.get("selected_conversations") if isinstance(element, dict) else None
    if not isinstance(chosen, list):
        return ()
    return tuple(dict.fromkeys(c for c in chosen if isinstance(c, str)))


def read_form(values: dict[str, Any] | None) -> SettingsForm:
    values = values if isinstance(values, dict) else {}
    form = FormValues(values)
    return SettingsForm(
        timezone=form.text(ids.TIMEZONE_BLOCK, ids.FIELD_ACTION),
        digest_day=form.option(ids.DAY_BLOCK, ids.FIELD_ACTION) or "",
        digest_time=form.text(ids.TIME_BLOCK, ids.FIELD_ACTION),
        jobs_on=frozenset(_checked(values, ids.JOBS_BLOCK) & set(digests.JOB_TITLES)),
        snapshot_channels=_channels(values),
        snapshot_anchor=form.date(ids.ANCHOR_BLOCK, ids.FIELD_ACTION),
        kudos_to_channel="on" in _checked(values, ids.KUDOS_BLOCK),
    )


def _community_id(view: dict[str, Any]) -> int | None:
    try:
        found = json.loads(view.get("private_metadata") or "{}").get("community")
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, int) else None


async def submit_settings(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    user_id = body["user"]["id"]
    form = read_form((view.get("state") or {}).get("values"))
    community_id = _community_id(view)
    if community_id is None:
        await ack(response_action="update", view=views.refused())
        return
    uow: UnitOfWork = context["uow"]
    try:
        saved = await digests.save_settings(uow, user_id, community_id, form)
    except PermissionError:
        # Checked again here: the modal's metadata names a community, not a right.
        await ack(response_action="update", view=views.refused())
        return
    if isinstance(saved, dict):
        await ack(**field_errors({FIELD_BLOCKS[f]: text for f, text in saved.items()}))
        return
    await ack(response_action="update", view=views.saved())
