"""The command line: `doughnut run` (HTTP and Socket Mode), `db upgrade`, `manifest`."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest
import yaml

from bot.emulator import SlackDriver, SlackEmulator, Workspace
from bot.runner import run_bot
from bot.settings import load_settings
from tests.conftest import SIGNING_SECRET

ROOT = Path(__file__).resolve().parent.parent


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DOUGHNUT_"))}
    env.pop("DATABASE_URL", None)
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    env.update(extra)
    return env


async def doughnut(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_run_without_tokens_exits_2_and_points_to_the_shell(tmp_path: Path) -> None:
    code, _, err = await doughnut("run", env=clean_env(tmp_path), cwd=tmp_path)

    assert code == 2
    assert "doughnut shell" in err
    assert "Traceback" not in err


async def test_a_malformed_setting_is_one_clear_line(tmp_path: Path) -> None:
    env = clean_env(tmp_path, DOUGHNUT_PORT="eighty")
    code, _, err = await doughnut("run", env=env, cwd=tmp_path)

    assert code == 2
    assert err.strip().startswith("Configuration error: DOUGHNUT_PORT")
    assert len(err.strip().splitlines()) == 1


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


async def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    code, out, _ = await doughnut("db", "upgrade", env=clean_env(tmp_path), cwd=tmp_path)

    assert code == 0 and "up to date" in out
    assert (tmp_path / "cli.db").exists()


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
                await asyncio.sleep(0.5)
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


async def wait_ready(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(url + "/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
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
        )
        stop = asyncio.Event()
        running = asyncio.create_task(run_bot(settings, stop=stop))
        try:
            await emu.wait_for_socket()
            async with SlackDriver(emu, None, SIGNING_SECRET) as driver:
                alice = emu.state.user_by_name("alice").id
                reply = await driver.command(alice, emu.state.channel_by_name("general").id,
                                             "/doughnut", "help")  # fmt: skip
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=30)
        assert reply.json["response_type"] == "ephemeral"
        assert "What works today" in str(reply.json["blocks"])
