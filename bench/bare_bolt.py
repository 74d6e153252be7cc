"""The baseline for bench/ack.py: a bare Bolt AsyncApp acking /doughnut and /kudos on the same
stack.

Same aiohttp server, same Bolt request adapter, process_before_response=True, same auth
(a bot token checked once with auth.test) and the same ack body (Doughnut's help reply, a
pure function): only Doughnut's own machinery — routing, unit of work, events-once,
metrics, error handling — is missing.
"""

from __future__ import annotations

import asyncio
import os

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import create_app
from bot.settings import load_settings
from handlers.help.views import HelpContent, help_reply


async def main() -> None:
    client = AsyncWebClient(
        token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
    )
    app = AsyncApp(
        client=client,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=True,
    )

    # Doughnut's help reads what the capabilities registered: build its app only for that.
    registry = create_app(load_settings(), client=client).registry
    reply = help_reply(HelpContent.of(registry))

    @app.command("/doughnut")
    async def help_command(ack):  # type: ignore[no-untyped-def]
        await ack(**reply)

    # `/kudos` acked with a reply of the same shape as Doughnut's, stored nowhere.
    @app.command("/kudos")
    async def kudos_command(ack, command):  # type: ignore[no-untyped-def]
        text = f"Kudos to {command['text'].split(' ', 1)[0]}. You have 4 of your 5 kudos left."
        await ack(response_type="ephemeral", text=text)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def livez(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    web_app.router.add_get("/readyz", livez)
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(os.environ["DOUGHNUT_PORT"])).start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
