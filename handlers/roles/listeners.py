"""`/doughnut roles [all]`, and `/doughnut roles grant-support|revoke-support @person`."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import ephemeral
from bot.core import roles
from bot.core.roles import GrantVerdict
from bot.text import parse
from bot.unit_of_work import UnitOfWork
from handlers.roles import ids, views


async def roles_command(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    args: str = "",
    **_: Any,
) -> None:
    uow: UnitOfWork = context["uow"]
    user_id = body["user_id"]
    word, _, rest = args.partition(" ")
    word = word.lower()
    if word in (ids.GRANT_SUPPORT, ids.REVOKE_SUPPORT):
        await change_support(ack, uow, user_id, rest, grant=word == ids.GRANT_SUPPORT)
        return
    if args.lower() not in ("", "all"):
        await ack(**ephemeral(views.USAGE))
        return
    listed = await roles.roles(
        uow, user_id, body.get("channel_id", ""), everything=args.lower() == "all"
    )
    await ack(**views.roles_answer(listed))


async def change_support(
    ack: AsyncAck, uow: UnitOfWork, user_id: str, rest: str, *, grant: bool
) -> None:
    parsed = parse(rest)
    if len(parsed.users) != 1 or parsed.plain.strip():
        verb = ids.GRANT_SUPPORT if grant else ids.REVOKE_SUPPORT
        await ack(**ephemeral(views.GRANT_USAGE.format(verb=verb)))
        return
    [target] = parsed.users
    result = await roles.change_support(uow, user_id, target, grant=grant)
    if result.verdict is GrantVerdict.GRANTED and target != user_id:
        told = {"channel": target, **views.told_of_support(user_id)}
        await uow.deliver("chat.postMessage", told, channel=target)
    await ack(**views.grant_answer(result))
