"""Ack latency and throughput of signed `/doughnut help`, against `doughnut run` and bare Bolt.

Run by hand: `python bench/ack.py [--seconds 5]`. Both servers run as their own processes on
loopback, against the local Slack emulator (for auth.test), on this machine's SQLite. Prints
p50/p99 ack latency and requests/s at 1 and 8 concurrent connections, and the ratios to bare Bolt
(goal: throughput >= 0.8x, p99 <= 1.5x).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.emulator import SlackEmulator, Workspace  # noqa: E402

SECRET = "bench-signing-secret"
ROOT = Path(__file__).resolve().parent.parent


def server_env(
    api_url: str, bot_token: str, db_url: str, port: int, log_level: str
) -> dict[str, str]:
    """The environment of a benchmarked `doughnut run`: HTTP mode, against the local Slack."""
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url,
        "DATABASE_URL": db_url,
        "DOUGHNUT_PORT": str(port),
        "DOUGHNUT_METRICS_PORT": "0",  # off: runs beside each other and the tests
        "LOG_LEVEL": log_level,
    }
    env.pop("SLACK_APP_TOKEN", None)
    return env


def percentile(values: list[float], p: float) -> float:
    """The value below which `p` percent of `values` fall (nearest rank on the sorted list)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def signed_help(ws: Workspace) -> tuple[bytes, dict[str, str]]:
    alice, general = ws.user_by_name("alice"), ws.channel_by_name("general")
    body = urlencode(
        {
            "token": "bench",
            "team_id": ws.team_id,
            "team_domain": ws.domain,
            "channel_id": general.id,
            "channel_name": general.name,
            "user_id": alice.id,
            "user_name": alice.name,
            "command": "/doughnut",
            "text": "help",
            "api_app_id": ws.app_id,
            "is_enterprise_install": "false",
            "response_url": "http://127.0.0.1:9/response",
            "trigger_id": "1.2.3",
        }
    ).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(
            timestamp=timestamp, body=body
        ),
    }
    return body, headers


async def wait_ready(url: str, proc: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(400):
            if proc.returncode is not None:
                raise SystemExit(f"server exited with {proc.returncode}")
            try:
                async with session.get(url + "/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise SystemExit("server did not become ready")


async def load(url: str, body: bytes, headers: dict[str, str], concurrency: int, seconds: float):  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.post(url + "/slack/events", data=body, headers=headers) as resp:
                    text = await resp.text()
                    if resp.status != 200 or "Doughnut today" not in text:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": percentile(latencies, 99) * 1000,
        "n": len(latencies),
        "errors": errors,
    }


async def main(seconds: float, rounds: int) -> None:
    emu = SlackEmulator(Workspace.with_sample_members())
    await emu.start()
    workdir = Path(tempfile.mkdtemp(prefix="doughnut-bench-"))
    servers: dict[str, tuple[str, asyncio.subprocess.Process]] = {}
    for name, command in (
        ("bare Bolt", [sys.executable, str(ROOT / "bench" / "bare_bolt.py")]),
        ("doughnut run", [sys.executable, "-m", "bot", "run"]),
    ):
        port = free_port()
        db_url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        env = server_env(emu.api_url, emu.state.bot_token, db_url, port, "WARNING")
        proc = await asyncio.create_subprocess_exec(*command, env=env, cwd=workdir)
        servers[name] = (f"http://127.0.0.1:{port}", proc)
    try:
        for url, proc in servers.values():
            await wait_ready(url, proc)
        body, headers = signed_help(emu.state)
        for url, _ in servers.values():  # warm up (auth.test, imports, first connections)
            await load(url, body, headers, 8, 1.0)
        print(
            f"signed /doughnut help, {rounds} alternating rounds of {seconds:.0f} s per server, "
            f"median round shown, Python {sys.version.split()[0]}"
        )
        print(f"{'server':<14}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
        for concurrency in (1, 8):
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
            for _ in range(rounds):  # alternate, so a busy moment hurts both alike
                for name, (url, _) in servers.items():
                    runs[name].append(await load(url, body, headers, concurrency, seconds))
            median = {
                name: sorted(r, key=lambda x: x["rps"])[rounds // 2] for name, r in runs.items()
            }
            for name, r in median.items():
                print(
                    f"{name:<14}{concurrency:>6}{r['rps']:>10.0f}{r['p50']:>9.2f}"
                    f"{r['p99']:>9.2f}{r['errors']:>8}"
                )
            ratio = median["doughnut run"]["rps"] / median["bare Bolt"]["rps"]
            # p99 of each server: the median over its rounds (one round's tail is noisy).
            p99 = {name: statistics.median(x["p99"] for x in r) for name, r in runs.items()}
            tail = p99["doughnut run"] / p99["bare Bolt"]
            print(
                f"{'ratio':<14}{concurrency:>6}{ratio:>10.2f}x  (goal >= 0.80x); "
                f"p99 {p99['doughnut run']:.2f} / {p99['bare Bolt']:.2f} ms = {tail:.2f}x "
                "(goal <= 1.5x)"
            )
    finally:
        for _, proc in servers.values():
            proc.terminate()
            await asyncio.wait_for(proc.wait(), timeout=15)
        await emu.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per server")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.rounds))
