"""Ack latency and throughput of signed `/doughnut help` and `/kudos`, against `doughnut run`
and bare Bolt.

Run by hand: `python bench/ack.py [--seconds 5]`. Both servers run as their own processes on
loopback, against the local Slack emulator (for auth.test), on this machine's SQLite. Prints
p50/p99 ack latency and requests/s at 1 and 8 concurrent connections, and the ratios to bare Bolt.
`/doughnut help` (no storage; goal: throughput >= 0.8x, p99 <= 1.5x), then `/kudos @someone for
…` (each one a durable write: the kudos, its tag and the recipient's DM in the outbox, committed
before the ack; goal: throughput >= 0.5x, p99 <= 2x at 8 connections). Every `/kudos` comes from
the next of many givers (the daily allowance is 5), all in the member cache that `doughnut run`'s
scheduler fills from users.list at start.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
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


# Givers of /kudos, each with an allowance of 5 a day: enough for every request of a run.
GIVERS = 4000


def signed_help(ws: Workspace) -> tuple[bytes, dict[str, str]]:
    return signed_command(ws, "alice", "/doughnut", "help")


def signed_command(ws: Workspace, user: str, command: str, text: str) -> tuple[bytes, dict]:
    person, general = ws.user_by_name(user), ws.channel_by_name("general")
    body = urlencode(
        {
            "token": "bench",
            "team_id": ws.team_id,
            "team_domain": ws.domain,
            "channel_id": general.id,
            "channel_name": general.name,
            "user_id": person.id,
            "user_name": person.name,
            "command": command,
            "text": text,
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


@dataclass
class Scenario:
    """One command benchmarked: the next signed request, and what its ack must say."""

    title: str
    next_request: Callable[[], tuple[bytes, dict[str, str]]]
    expect: str
    goal_rps: float
    goal_p99: float


def kudos_requests(ws: Workspace) -> Callable[[], tuple[bytes, dict[str, str]]]:
    """Each call: `/kudos` from the next giver to their neighbour, signed."""
    people = [ws.user_by_name(f"giver{n:04d}") for n in range(GIVERS)]
    turn = 0

    def next_request() -> tuple[bytes, dict[str, str]]:
        nonlocal turn
        giver, receiver = people[turn % GIVERS], people[(turn + 1) % GIVERS]
        turn += 1
        text = f"<@{receiver.id}|{receiver.name}> for reviewing the failover plan #reliability"
        return signed_command(ws, giver.name, "/kudos", text)

    return next_request


async def wait_for_members(db_path: Path, count: int, seconds: float = 60) -> None:
    """Until the leader's member-sync job has cached `count` members (users.list, all pages)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(db_path) as conn:
                if conn.execute("SELECT count(*) FROM members").fetchone()[0] >= count:
                    return
        except sqlite3.Error:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("the member cache was not filled in time")


async def load(url: str, scenario: Scenario, concurrency: int, seconds: float):  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                body, headers = scenario.next_request()
                started = time.perf_counter()
                async with session.post(url + "/slack/events", data=body, headers=headers) as resp:
                    text = await resp.text()
                    if resp.status != 200 or scenario.expect not in text:
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


def bench_workspace() -> Workspace:
    """The benchmark's Slack: the sample members and the givers (the same ids every time)."""
    ws = Workspace.with_sample_members()
    for n in range(GIVERS):
        ws.add_user(f"giver{n:04d}")
    return ws


async def serve_emulator() -> None:
    """`--emulator`: the local Slack in a process of its own, so the DMs the outbox sends to it
    do not take the load generator's CPU (its timings would count them)."""
    emu = SlackEmulator(bench_workspace())
    await emu.start()
    print(emu.api_url, flush=True)
    await asyncio.Event().wait()


async def start_emulator() -> tuple[str, asyncio.subprocess.Process]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--emulator", stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
    if not line:
        raise SystemExit("the emulator did not start")
    return line.decode().strip(), proc


async def main(seconds: float, rounds: int) -> None:
    ws = bench_workspace()  # the same as the emulator process's: for signing requests
    api_url, emulator = await start_emulator()
    workdir = Path(tempfile.mkdtemp(prefix="doughnut-bench-"))
    servers: dict[str, tuple[str, asyncio.subprocess.Process]] = {}
    for name, command in (
        ("bare Bolt", [sys.executable, str(ROOT / "bench" / "bare_bolt.py")]),
        ("doughnut run", [sys.executable, "-m", "bot", "run"]),
    ):
        port = free_port()
        db_url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        level = os.environ.get("BENCH_LOG", "WARNING")
        env = server_env(api_url, ws.bot_token, db_url, port, level)
        proc = await asyncio.create_subprocess_exec(*command, env=env, cwd=workdir)
        servers[name] = (f"http://127.0.0.1:{port}", proc)
    try:
        for url, proc in servers.values():
            await wait_ready(url, proc)
        body, headers = signed_help(ws)
        scenarios = [
            Scenario("signed /doughnut help", lambda: (body, headers), "Doughnut today", 0.8, 1.5),
            Scenario(
                "signed /kudos (a durable write each)",
                kudos_requests(ws),
                "Kudos to",
                0.5,
                2.0,
            ),
        ]
        # The first /kudos creates the workspace; the leader's scheduler then fills the cache.
        await load(servers["doughnut run"][0], scenarios[1], 1, 0.1)
        await wait_for_members(workdir / "bench.db", len(ws.users))
        for scenario in scenarios:
            await run_scenario(servers, scenario, seconds, rounds)
    finally:
        for _, proc in servers.values():
            proc.terminate()
            await asyncio.wait_for(proc.wait(), timeout=15)
        emulator.terminate()
        await emulator.wait()


async def run_scenario(
    servers: dict[str, tuple[str, asyncio.subprocess.Process]],
    scenario: Scenario,
    seconds: float,
    rounds: int,
) -> None:
    for url, _ in servers.values():  # warm up (auth.test, imports, first connections)
        await load(url, scenario, 8, 1.0)
    print(
        f"{scenario.title}, {rounds} alternating rounds of {seconds:.0f} s per server, "
        f"median round shown, Python {sys.version.split()[0]}"
    )
    print(f"{'server':<14}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for concurrency in (1, 8):
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
        for _ in range(rounds):  # alternate, so a busy moment hurts both alike
            for name, (url, _) in servers.items():
                runs[name].append(await load(url, scenario, concurrency, seconds))
        median = {name: sorted(r, key=lambda x: x["rps"])[rounds // 2] for name, r in runs.items()}
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
            f"{'ratio':<14}{concurrency:>6}{ratio:>10.2f}x  (goal >= {scenario.goal_rps:.2f}x); "
            f"p99 {p99['doughnut run']:.2f} / {p99['bare Bolt']:.2f} ms = {tail:.2f}x "
            f"(goal <= {scenario.goal_p99:.1f}x)"
        )
    print()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per server")
    parser.add_argument("--emulator", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    asyncio.run(serve_emulator() if args.emulator else main(args.seconds, args.rounds))
