"""Many workspaces through OAuth: install over the wire, a token per workspace, uninstall, grace."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select

from bot.app import DoughnutApp, create_app, make_client, open_connection_pool
from bot.clock import ManualClock
from bot.emulator import SlackEmulator, Workspace
from bot.emulator.server import CLIENT_ID, CLIENT_SECRET
from bot.failures import NOT_INSTALLED
from bot.outbox import UNINSTALLED, OutboxSender
from bot.server import EVENTS_PATH, build_web_app
from bot.settings import SettingsError, load_settings
from scheduler import build_scheduler
from storage.db import Database
from storage.installations import BOTS
from storage.models import Delivery, DeliveryStatus
from storage.models import Workspace as WorkspaceRow
from tests.conftest import SIGNING_SECRET, START

FORM = "application/x-www-form-urlencoded"
TEAM = "T0LOCAL01"  # the emulator's own workspace
OTHER = "T0OTHER02"
ENTERPRISE = "E0GRID001"


@dataclass
class OAuthBot:
    emu: SlackEmulator
    app: DoughnutApp
    db: Database
    clock: ManualClock
    url: str
    http: aiohttp.ClientSession
    outbox: OutboxSender

    def user(self, name: str) -> str:
        return self.emu.state.user_by_name(name).id

    def channel(self, name: str) -> str:
        return self.emu.state.channel_by_name(name).id

    async def settle(self) -> None:
        for _ in range(50):
            if await self.outbox.drain_once() == 0:
                return
        raise AssertionError("the outbox did not settle")

    async def install(self, *args: Any, **kwargs: Any) -> aiohttp.ClientResponse:
        """A person installs the app: /slack/install, Slack approves, back to the redirect."""
        start = await self.http.get(self.url + "/slack/install", allow_redirects=False)
        assert start.status == 302, await start.text()
        state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
        code = self.emu.authorization_code(*args, **kwargs)
        query = urlencode({"code": code, "state": state})
        # The browser brings the state cookie back (a Secure one: over https in real life).
        cookie = start.cookies["slack-app-oauth-state"]
        headers = {"Cookie": f"{cookie.key}={cookie.value}"}
        return await self.http.get(f"{self.url}/slack/oauth_redirect?{query}", headers=headers)

    async def post(self, body: bytes, content_type: str) -> aiohttp.ClientResponse:
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(SIGNING_SECRET).generate_signature(
            timestamp=timestamp, body=body
        )
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
        }
        return await self.http.post(self.url + EVENTS_PATH, data=body, headers=headers)

    async def command(
        self, team_id: str, user: str, text: str, *, enterprise_id: str | None = None,
        org_wide: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        """`/doughnut <text>` from a member of `team_id` in #general, form-encoded like Slack."""
        user_id, channel_id = self.user(user), self.channel("general")
        fields = {
            "token": "local-verification-token",
            "team_id": team_id,
            "team_domain": team_id.lower(),
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": user,
            "command": "/doughnut",
            "text": text,
            "api_app_id": self.emu.state.app_id,
            "is_enterprise_install": "true" if org_wide else "false",
            "response_url": self.emu.issue_response_url(user_id, channel_id),
            "trigger_id": self.emu.issue_trigger_id(user_id),
        }
        if enterprise_id:
            fields.update(enterprise_id=enterprise_id, enterprise_name="Grid")
        reply = await self.post(urlencode(fields).encode(), FORM)
        assert reply.status == 200
        text_body = await reply.text()
        return json.loads(text_body) if text_body else {}

    async def event(
        self, team_id: str | None, inner: dict[str, Any], *, enterprise_id: str | None = None,
        org_wide: bool = False,
    ) -> int:  # fmt: skip
        """An Events API delivery for `team_id` (and its org), shaped as Slack sends it."""
        body = {
            "token": "local-verification-token",
            "team_id": team_id or "",
            "context_team_id": team_id,
            "context_enterprise_id": enterprise_id,
            "enterprise_id": enterprise_id,
            "api_app_id": self.emu.state.app_id,
            "event": inner,
            "type": "event_callback",
            "event_id": f"Ev{time.time_ns()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": enterprise_id,
                    "team_id": None if org_wide else team_id,
                    "user_id": self.emu.state.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": org_wide,
                }
            ],
            "is_ext_shared_channel": False,
        }
        reply = await self.post(json.dumps(body).encode(), "application/json")
        return reply.status

    async def open_home(self, team_id: str, user: str, **org: Any) -> int:
        inner = self.emu.open_home(self.user(user))
        inner["user"] = self.user(user)
        return await self.event(team_id, inner, **org)

    async def uninstall(self, team_id: str | None, **org: Any) -> int:
        return await self.event(
            team_id, {"type": "app_uninstalled", "event_ts": f"{time.time():.6f}"}, **org
        )

    def posts_of(self, method: str) -> list[Any]:
        return [call for call in self.emu.calls_to(method) if call.ok]


@pytest.fixture
async def oauth_bot(db: Database) -> AsyncIterator[OAuthBot]:
    emu = SlackEmulator(Workspace.with_sample_members())
    await emu.start()
    settings = load_settings(
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=emu.api_url,
        database_url=str(db.url.render_as_string(hide_password=False)),
    )
    clock = ManualClock(START)
    client = make_client(settings)
    close_pool = await open_connection_pool(client)
    app = create_app(settings, client=client, db=db, clock=clock)
    assert app.deps.installations is not None
    runner = web.AppRunner(build_web_app(app))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    outbox = OutboxSender(
        db,
        client,
        clock,
        app.deps.metrics,
        channel_spacing=0,
        tokens=app.deps.installations.token_for_workspace,
    )
    http = aiohttp.ClientSession()
    try:
        yield OAuthBot(emu, app, db, clock, f"http://{host}:{port}", http, outbox)
    finally:
        await http.close()
        await runner.cleanup()
        await close_pool()
        await emu.stop()


async def test_install_then_serve_that_team_with_its_own_token(oauth_bot: OAuthBot) -> None:
    bot = oauth_bot
    start = await bot.http.get(bot.url + "/slack/install", allow_redirects=False)
    assert start.status == 302
    where = urlsplit(start.headers["Location"])
    assert f"{where.scheme}://{where.netloc}/" == bot.emu.base_url  # Slack's, beside its API
    assert where.path == "/oauth/v2/authorize"
    query = parse_qs(where.query)
    assert query["client_id"] == [CLIENT_ID] and query["state"][0]
    assert "chat:write" in query["scope"][0].split(",")

    # Not installed yet: refused, and nothing is asked of Slack.
    assert (await bot.command(TEAM, "alice", "setup"))["text"] == NOT_INSTALLED
    assert bot.emu.calls_to("views.open") == []

    done = await bot.install(TEAM)
    assert done.status == 200, await done.text()
    assert [c.ok for c in bot.emu.calls_to("oauth.v2.access")] == [True]

    await bot.command(TEAM, "alice", "setup")
    [opened] = bot.posts_of("views.open")
    assert opened.token_owner == TEAM
    await bot.app.deps.after_ack.drain(5)  # the form is filled after the ack, same token
    [filled] = bot.posts_of("views.update")
    assert filled.token_owner == TEAM
    # Another team, never installed, is still refused.
    assert (await bot.command(OTHER, "alice", "setup"))["text"] == NOT_INSTALLED
    assert len(bot.emu.calls_to("views.open")) == 1


async def test_a_redirect_without_its_state_cookie_installs_nothing(oauth_bot: OAuthBot) -> None:
    bot = oauth_bot
    start = await bot.http.get(bot.url + "/slack/install", allow_redirects=False)
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    # Another browser: without the state cookie set by /slack/install.
    query = urlencode({"code": bot.emu.authorization_code(TEAM), "state": state})
    reply = await bot.http.get(f"{bot.url}/slack/oauth_redirect?{query}")
    assert reply.status == 400
    assert bot.emu.calls_to("oauth.v2.access") == []
    async with bot.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(BOTS)) == 0


async def test_each_workspace_is_sent_to_with_its_own_token(oauth_bot: OAuthBot) -> None:
    bot = oauth_bot
    assert (await bot.install(TEAM)).status == 200
    assert (await bot.install(OTHER)).status == 200
    assert await bot.open_home(TEAM, "alice") == 200
    assert await bot.open_home(OTHER, "bob") == 200
    await bot.settle()
    owners = {call.args["user_id"]: call.token_owner for call in bot.posts_of("views.publish")}
    assert owners == {bot.user("alice"): TEAM, bot.user("bob"): OTHER}


async def test_an_org_wide_install_serves_every_team_of_its_enterprise(
    oauth_bot: OAuthBot,
) -> None:
    bot = oauth_bot
    done = await bot.install(enterprise_id=ENTERPRISE, is_enterprise_install=True)
    assert done.status == 200, await done.text()
    org = {"enterprise_id": ENTERPRISE, "org_wide": True}
    await bot.command("T0TEAM0A1", "alice", "setup", **org)
    await bot.command("T0TEAM0B2", "bob", "setup", **org)
    assert [c.token_owner for c in bot.posts_of("views.open")] == [ENTERPRISE, ENTERPRISE]
    # A team of another enterprise is not served by it.
    reply = await bot.command("T0ELSE003", "carol", "setup", enterprise_id="E0OTHER02")
    assert reply["text"] == NOT_INSTALLED
    assert len(bot.emu.calls_to("views.open")) == 2

    # A delivery carries the acting team: an org-wide token needs it.
    assert await bot.open_home("T0TEAM0A1", "alice", **org) == 200
    await bot.settle()
    [published] = bot.posts_of("views.publish")
    assert published.token_owner == ENTERPRISE
    assert published.args["team_id"] == "T0TEAM0A1"


async def test_uninstall_stops_deliveries_and_the_data_goes_after_30_days(
    oauth_bot: OAuthBot,
) -> None:
    bot = oauth_bot
    assert (await bot.install(TEAM)).status == 200
    assert (await bot.install(OTHER)).status == 200
    # Both owe a Home tab; neither is sent yet.
    assert await bot.open_home(TEAM, "alice") == 200
    assert await bot.open_home(OTHER, "bob") == 200

    assert await bot.uninstall(TEAM) == 200
    async with bot.db.reading() as session:
        assert set((await session.execute(select(BOTS.c.team_id))).scalars()) == {OTHER}
    # Slack retries an event it thinks failed: the second one changes nothing, and is fine.
    assert await bot.uninstall(TEAM) == 200
    await bot.settle()
    [published] = bot.posts_of("views.publish")
    assert published.token_owner == OTHER
    async with bot.db.reading() as session:
        rows = (await session.execute(select(Delivery.status, Delivery.last_error))).all()
    assert sorted(rows) == sorted(
        [(DeliveryStatus.FAILED, UNINSTALLED), (DeliveryStatus.SENT, None)]
    )
    # The uninstalled team is refused from now on; the other is still served.
    assert (await bot.command(TEAM, "alice", "setup"))["text"] == NOT_INSTALLED
    await bot.command(OTHER, "bob", "setup")
    assert [c.token_owner for c in bot.posts_of("views.open")] == [OTHER]

    scheduler = build_scheduler(bot.db)
    bot.clock.advance(timedelta(days=29))
    await scheduler.tick(bot.clock.now())
    assert await _workspaces(bot.db) == {TEAM, OTHER}  # within the grace period
    bot.clock.advance(timedelta(days=2))
    await scheduler.tick(bot.clock.now())
    assert await _workspaces(bot.db) == {OTHER}
    async with bot.db.reading() as session:
        left = (await session.execute(select(Delivery.status))).scalars().all()
    assert left == [DeliveryStatus.SENT]


async def test_an_install_within_the_grace_period_keeps_the_data(oauth_bot: OAuthBot) -> None:
    bot = oauth_bot
    assert (await bot.install(TEAM)).status == 200
    assert await bot.open_home(TEAM, "alice") == 200
    assert await bot.uninstall(TEAM) == 200
    bot.clock.advance(timedelta(days=10))
    assert (await bot.install(TEAM)).status == 200
    bot.clock.advance(timedelta(days=30))
    await build_scheduler(bot.db).tick(bot.clock.now())
    assert await _workspaces(bot.db) == {TEAM}
    await bot.command(TEAM, "alice", "setup")
    assert [c.token_owner for c in bot.posts_of("views.open")] == [TEAM]


async def _workspaces(db: Database) -> set[str]:
    async with db.reading() as session:
        return set((await session.execute(select(WorkspaceRow.install_key))).scalars())


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1"},
         "SLACK_BOT_TOKEN"),
        ({"SLACK_CLIENT_SECRET": "s"}, "SLACK_CLIENT_SECRET"),
    ],
)  # fmt: skip
def test_oauth_settings_that_cannot_work_stop_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, env: dict[str, str], named: str
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert str(raised.value).startswith(named)
    assert "\n" not in str(raised.value)


def test_oauth_alone_is_enough_to_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_CLIENT_ID", "1.2")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "s")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "x")
    settings = load_settings()
    assert settings.oauth and settings.missing_slack_credentials() is None
    assert settings.authorize_url == "https://slack.com/oauth/v2/authorize"
