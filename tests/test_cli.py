"""The command line: `doughnut run` (HTTP and Socket Mode), `db upgrade`, `manifest`, `--version`.

Start-up failures are run as the real command in a subprocess: a person reads its stderr, so each
must be one line and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
import yaml
from alembic.script import ScriptDirectory

import bot
import bot.runner
from bot.emulator import SlackDriver, SlackEmulator, Workspace
from bot.runner import run_bot
from bot.settings import load_settings
from storage.migrate import alembic_config
from tests.conftest import SIGNING_SECRET, clean_env, doughnut

ROOT = Path(__file__).resolve().parent.parent


async def test_run_without_tokens_exits_2_and_points_to_the_shell(tmp_path: Path) -> None:
    code, _, err = await doughnut("run", env=clean_env(tmp_path), cwd=tmp_path)

    assert code == 2
    assert "doughnut shell" in err
    assert "Traceback" not in err


TOKENS = {"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_SIGNING_SECRET": "s"}


@pytest.mark.parametrize(
    ("args", "env", "code", "named"),
    [
        pytest.param(["run"], {**TOKENS, "DOUGHNUT_PORT": "eighty"}, 2, "DOUGHNUT_PORT", id="port"),
        pytest.param(
            ["run"], {**TOKENS, "DOUGHNUT_TIMEZONE": "Europe"}, 2, "DOUGHNUT_TIMEZONE", id="tz"
        ),
        pytest.param(
            ["run"],
            {"SLACK_BOT_TOKEN": "xoxb-1-2-abc"},
            2,
            "SLACK_SIGNING_SECRET is not set",
            id="bot-token-only",
        ),
        pytest.param(
            ["run"],
            {"SLACK_BOT_TOKEN": "abc-secret", "SLACK_SIGNING_SECRET": "s"},
            2,
            "SLACK_BOT_TOKEN: not a bot token",
            id="not-xoxb",
        ),
        pytest.param(
            ["run"],
            {**TOKENS, "SLACK_APP_TOKEN": "xoxb-wrong-kind"},
            2,
            "SLACK_APP_TOKEN: not an app-level token",
            id="not-xapp",
        ),
        pytest.param(
            ["run"],
            {**TOKENS, "DOUGHNUT_PORT": "3000", "DOUGHNUT_METRICS_PORT": "3000"},
            2,
            "DOUGHNUT_METRICS_PORT: must differ from DOUGHNUT_PORT",
            id="same-ports",
        ),
        pytest.param(
            ["run"],
            {**TOKENS, "DATABASE_URL": "postgresql://nobody:pw@127.0.0.1:1/x"},
            1,
            "Cannot open the database postgresql+asyncpg://nobody:***@127.0.0.1:1/x",
            id="pg-unreachable",
        ),
        pytest.param(
            ["run"],
            {**TOKENS, "DATABASE_URL": "sqlite:////nonexistent/dir/x.db"},
            1,
            "Cannot open the database sqlite+aiosqlite:////nonexistent/dir/x.db",
            id="sqlite-no-dir",
        ),
        pytest.param(
            ["db", "upgrade"],
            {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"},
            1,
            "Cannot open the database",
            id="upgrade-unreachable",
        ),
        pytest.param(
            ["demo-data", "--db", "notaurl"],
            {},
            2,
            "Configuration error: --db: must be a postgresql:// or sqlite:// URL",
            id="demo-data-db",
        ),
    ],
)
async def test_a_bad_setting_stops_with_one_line_naming_it(
    tmp_path: Path, args: list[str], env: dict[str, str], code: int, named: str
) -> None:
    returned, out, err = await doughnut(*args, env=clean_env(tmp_path, **env), cwd=tmp_path)

    assert (returned, out) == (code, "")
    assert err.strip().splitlines() == [err.strip()], err
    assert named in err
    if "--db" in args:
        assert "DATABASE_URL" not in err
    assert "secret" not in err and ":pw@" not in err


async def test_version(tmp_path: Path) -> None:
    code, out, _ = await doughnut("--version", env=clean_env(tmp_path), cwd=tmp_path)

    assert (code, out) == (0, f"doughnut {bot.__version__}\n")


async def test_manifest_prints_both_modes(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    code, out, _ = await doughnut("manifest", env=env, cwd=tmp_path)
    assert code == 0
    assert yaml.safe_load(out)["settings"]["socket_mode_enabled"] is True

    code, out, _ = await doughnut(
        "manifest", "--http-base-url", "https://doughnut.example.com", env=env, cwd=tmp_path
    )
    http = yaml.safe_load(out)
    assert code == 0
    assert http["settings"]["socket_mode_enabled"] is False
    assert http["settings"]["event_subscriptions"]["request_url"] == (
        "https://doughnut.example.com/slack/events"
    )

    code, _, err = await doughnut("manifest", "--http-base-url", "ftp://x", env=env, cwd=tmp_path)
    assert code == 2 and "Invalid base URL" in err


async def test_db_upgrade_says_what_it_applied_and_nothing_else(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    code, out, err = await doughnut("db", "upgrade", env=env, cwd=tmp_path)

    scripts = ScriptDirectory.from_config(alembic_config())
    oldest_first = list(reversed(list(scripts.walk_revisions())))
    head = f"Database is up to date (revision {scripts.get_current_head()})."
    assert code == 0
    assert oldest_first[0].revision == "0001"
    assert out.splitlines() == [f"Applied {r.revision} ({r.doc})." for r in oldest_first] + [head]
    assert err == ""  # alembic's INFO chatter stays below the default level
    assert (tmp_path / "cli.db").exists()

    code, out, _ = await doughnut("db", "upgrade", env=env, cwd=tmp_path)
    assert (code, out.splitlines()) == (0, [head])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_sigterm_finishes_the_request_in_flight_then_exits_0(tmp_path: Path) -> None:
    async with SlackEmulator(Workspace.with_sample_members()) as emu:
        port = free_port()
        env = clean_env(
            tmp_path,
            SLACK_BOT_TOKEN=emu.state.bot_token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=emu.api_url,
            DOUGHNUT_PORT=str(port),
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            await wait_ready(url)
            alice, general = (
                emu.state.user_by_name("alice").id,
                emu.state.channel_by_name("general").id,
            )
            emu.slow_down("users.info", 1.0)  # the setup command is mid-way when SIGTERM comes
            async with SlackDriver(emu, url + "/slack/events", SIGNING_SECRET) as driver:
                in_flight = asyncio.create_task(
                    driver.command(alice, general, "/doughnut", "setup")
                )
                # The modal is open and users.info is on its way: the request is mid-way.
                await until(lambda: emu.calls_to("views.open"))
                proc.send_signal(signal.SIGTERM)
                reply = await in_flight
            code = await asyncio.wait_for(proc.wait(), timeout=30)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        assert reply.status == 200
        assert emu.state.modal_stack(alice)[-1]["callback_id"] == "community_setup"
        assert code == 0
        with pytest.raises(aiohttp.ClientError):
            async with aiohttp.ClientSession() as session:
                await session.get(url + "/livez")


async def until(condition: Callable[[], object], what: str = "the condition") -> None:
    """Poll until `condition()` holds (a wait for a state, not a timing)."""
    for _ in range(600):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} never happened")


async def probe(url: str) -> tuple[int, dict] | None:
    """GET a health endpoint: its status and JSON body, or None while nothing listens."""
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            return resp.status, await resp.json()
    except aiohttp.ClientError:
        return None


async def wait_answering(url: str) -> tuple[int, dict]:
    for _ in range(600):
        answer = await probe(url)
        if answer is not None:
            return answer
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing answered at {url}")


async def wait_ready(url: str) -> None:
    for _ in range(600):
        answer = await probe(url + "/readyz")
        if answer is not None and answer[0] == 200:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("doughnut run did not become ready")


async def test_socket_mode_serves_the_same_listeners(tmp_path: Path) -> None:
    async with SlackEmulator(Workspace.with_sample_members()) as emu:
        settings = load_settings(
            slack_bot_token=emu.state.bot_token,
            slack_app_token=emu.state.app_token,
            slack_api_url=emu.api_url,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'socket.db'}",
            doughnut_port=free_port(),
            doughnut_metrics_port=0,
        )
        stop = asyncio.Event()
        running = asyncio.create_task(run_bot(settings, stop=stop))
        try:
            await emu.wait_for_socket()
            await wait_ready(f"http://127.0.0.1:{settings.doughnut_port}")  # socket connected
            async with SlackDriver(emu, None, SIGNING_SECRET) as driver:
                alice = emu.state.user_by_name("alice").id
                reply = await driver.command(alice, emu.state.channel_by_name("general").id,
                                             "/doughnut", "help")  # fmt: skip
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=30)
        assert reply.json["response_type"] == "ephemeral"
        assert "What works today" in str(reply.json["blocks"])


@contextlib.asynccontextmanager
async def blackhole() -> AsyncIterator[str]:
    """A Web API base URL whose port accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/api/"
    finally:
        for writer in held:
            writer.close()
        server.close()


@pytest.mark.parametrize("mode", ["socket", "http"])
async def test_slack_unreachable_serves_health_not_slack_and_sigterm_exits_0(
    tmp_path: Path, mode: str
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with blackhole() as api_url:
        # Socket Mode also logs as JSON lines, as a log shipper reads them.
        socket = {"SLACK_APP_TOKEN": "xapp-1-A1-1-x", "LOG_FORMAT": "json"}
        extra = socket if mode == "socket" else {}
        env = clean_env(tmp_path, **TOKENS, **extra, SLACK_API_URL=api_url, DOUGHNUT_PORT=str(port))
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        seen: list[str] = []
        try:
            assert await wait_answering(url + "/livez") == (200, {"status": "ok"})
            # The first auth.test has timed out and the leader's work runs, Slack or not.
            await asyncio.wait_for(read_until(proc, "this process is now the leader", seen), 30)
            assert await probe(url + "/readyz") == (
                503,
                {"status": "unavailable", "database": True, "slack": "unavailable"},
            )
            if mode == "http":
                # Which workspace the token serves is unknown: no request is served yet.
                async with (
                    SlackEmulator(Workspace.with_sample_members()) as elsewhere,
                    SlackDriver(
                        elsewhere, url + "/slack/events", TOKENS["SLACK_SIGNING_SECRET"]
                    ) as driver,
                ):
                    alice = elsewhere.state.user_by_name("alice").id
                    general = elsewhere.state.channel_by_name("general").id
                    reply = await driver.command(alice, general, "/doughnut", "help")
                assert reply.status == 503
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), timeout=10)
            seen += (await proc.stderr.read()).decode().splitlines()  # type: ignore[union-attr]
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert code == 0
    if mode == "socket":
        records = [json.loads(line) for line in seen]
        assert {"time", "level", "logger", "message"} <= set(records[0])
        seen = [record["message"] for record in records]
    err = "\n".join(seen)
    assert "cannot reach Slack (auth.test: TimeoutError)" in err
    assert "Traceback" not in err
    assert seen[-1].endswith("stopped")


async def read_until(proc: asyncio.subprocess.Process, text: str, seen: list[str]) -> None:
    """Read the process's stderr line by line (into `seen`) until a line contains `text`."""
    assert proc.stderr is not None
    while line := (await proc.stderr.readline()).decode():
        seen.append(line.rstrip("\n"))
        if text in line:
            return
    raise AssertionError(f"the process ended without saying {text!r}: {seen}")


async def test_a_token_slack_refuses_stops_with_one_line(tmp_path: Path) -> None:
    async with SlackEmulator(Workspace.with_sample_members()) as emu:
        env = clean_env(
            tmp_path,
            SLACK_BOT_TOKEN="xoxb-revoked-long-ago",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=emu.api_url,
            DOUGHNUT_PORT=str(free_port()),
        )
        code, out, err = await doughnut("run", env=env, cwd=tmp_path)

    assert code == 2
    assert err.splitlines() == ["Configuration error: Slack refused SLACK_BOT_TOKEN: invalid_auth"]
    assert "revoked-long-ago" not in err


async def test_slack_failing_at_start_is_retried_then_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Retries sooner, still long after the first /readyz answer (503) is seen.
    monkeypatch.setattr(bot.runner, "IDENTIFY_BACKOFF", (0.5,))
    async with SlackEmulator(Workspace.with_sample_members()) as emu:
        emu.fail("auth.test", error="internal_error", status=500, times=2)
        port = free_port()
        settings = load_settings(
            slack_bot_token=emu.state.bot_token,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=emu.api_url,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'retry.db'}",
            doughnut_port=port,
            doughnut_metrics_port=0,
        )
        stop = asyncio.Event()
        running = asyncio.create_task(run_bot(settings, stop=stop))
        url = f"http://127.0.0.1:{port}"
        try:
            not_yet = await wait_answering(url + "/readyz")
            await wait_ready(url)
            async with SlackDriver(emu, url + "/slack/events", SIGNING_SECRET) as driver:
                alice = emu.state.user_by_name("alice").id
                reply = await driver.command(alice, emu.state.channel_by_name("general").id,
                                             "/doughnut", "help")  # fmt: skip
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=10)
    assert not_yet == (503, {"status": "unavailable", "database": True, "slack": "unavailable"})
    # Two refusals, then the answer that let it serve (Bolt asks once more on its first request).
    assert [call.ok for call in emu.calls_to("auth.test")][:3] == [False, False, True]
    assert reply.status == 200 and "What works today" in str(reply.json["blocks"])
