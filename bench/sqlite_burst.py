"""SQLite under a burst of events: errors and ack latency of signed `member_joined_channel`.

Run by hand: `python bench/sqlite_burst.py [--events 3000] [--rates 300,450,600,800]`.
For each rate it starts `doughnut run` (HTTP, its own SQLite file, leading: the outbox sends
the welcome DMs meanwhile) against the local Slack emulator, sends N signed events into a
community channel at that rate (each a new member, so each one writes and queues a DM), and
prints errors (any reply but 200), p50/p99/max ack, the server's CPU per event (including the
outbox's work, which is over when every welcome is posted), how busy the server was while the
events came in (its CPU seconds per second) and the highest rate with 0 errors.
Goal: 3,000 events at 300/s, 0 errors, p99 <= 1 s. `--root DIR` runs another checkout's bot
(e.g. /work/main, to compare).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ack import SECRET, free_port, percentile, server_env, wait_ready  # noqa: E402
from bot.core.communities import SetupForm, apply_setup  # noqa: E402
from bot.emulator import SlackDriver, SlackEmulator, Workspace  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.workspaces import get_or_create_workspace  # noqa: E402


async def prepare_database(url: str, ws: Workspace, channel: str) -> None:
    """Migrate, and make `channel` a community (so each join queues a welcome DM)."""
    db = Database(url)
    try:
        await upgrade(db)
        now = datetime.now(UTC)
        async with db.transaction() as session:
            workspace = await get_or_create_workspace(
                session,
                key=ws.team_id,
                team_id=ws.team_id,
                enterprise_id=None,
                is_enterprise_install=False,
                now=now,
            )
            coordinator = ws.user_by_name("alice").id
            form = SetupForm("Bench", "", "Europe/Paris", coordinators=[coordinator])
            apply_setup(
                session,
                None,
                workspace_id=workspace.id,
                channel_id=channel,
                is_private=False,
                form=form,
                by_user=coordinator,
                now=now,
            )
    finally:
        await db.dispose()


def signed_joins(emu: SlackEmulator, channel: str, count: int) -> list[tuple[bytes, dict]]:
    """`count` new members joining `channel`, each as the signed request Slack would send."""
    driver = SlackDriver(emu, None, SECRET)
    verifier = SignatureVerifier(SECRET)
    requests = []
    for n in range(count):
        user = emu.state.add_user(f"member{n}").id
        event = emu.join(user, channel)
        assert event is not None
        body = json.dumps(driver.event_envelope(event, f"Ev0BURST{n:06d}")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": verifier.generate_signature(timestamp=timestamp, body=body),
        }
        requests.append((body, headers))
    return requests


async def burst(url: str, requests: list[tuple[bytes, dict]], rate: float) -> dict[str, float]:
    """Send the requests at `rate` per second (open loop); latency of each ack."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def send(body: bytes, headers: dict) -> None:
            started = loop.time()
            try:
                async with session.post(url + "/slack/events", data=body, headers=headers) as r:
                    await r.read()
                    status = r.status
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            latencies.append(loop.time() - started)
            statuses[status] = statuses.get(status, 0) + 1

        start = loop.time()
        tasks = []
        for n, (body, headers) in enumerate(requests):
            delay = start + n / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(body, headers)))
        await asyncio.gather(*tasks)
        sent_for = loop.time() - start
    latencies.sort()
    return {
        "ok": statuses.get(200, 0),
        "errors": sum(c for s, c in statuses.items() if s != 200),
        "statuses": statuses,  # type: ignore[dict-item]
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": percentile(latencies, 99) * 1000,
        "max": latencies[-1] * 1000,
        "achieved": len(requests) / sent_for,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def one_rate(
    root: Path, events: int, rate: float, profile: Path | None = None
) -> dict[str, float]:
    emu = SlackEmulator(Workspace.with_sample_members())
    await emu.start()
    workdir = Path(tempfile.mkdtemp(prefix="doughnut-burst-"))
    db_url = f"sqlite+aiosqlite:///{workdir / 'burst.db'}"
    channel = emu.state.channel_by_name("general").id
    await prepare_database(db_url, emu.state, channel)
    requests = signed_joins(emu, channel, events)
    port = free_port()
    env = server_env(emu.api_url, emu.state.bot_token, db_url, port, "ERROR")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=root
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(url, proc)
        cpu_before = cpu_seconds(proc.pid)
        spy = None
        if profile is not None:  # py-spy (pip install py-spy) samples the server during the burst
            spy = await asyncio.create_subprocess_exec(
                "py-spy", "record", "-p", str(proc.pid), "-r", "250", "-f", "raw",
                "-o", str(profile), "-d", str(int(events / rate) + 2), "--nonblocking",
                stdout=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
        result = await burst(url, requests, rate)
        cpu_burst = cpu_seconds(proc.pid) - cpu_before
        if spy is not None:
            await spy.wait()
        # The welcome DMs the outbox sends meanwhile and after: wait until it has caught up.
        loop = asyncio.get_running_loop()
        burst_end = loop.time()
        deadline = burst_end + 120
        posted = emu.calls_to
        while len(posted("chat.postMessage")) < result["ok"] and loop.time() < deadline:  # noqa: ASYNC110 - the emulator's record has no event to wait on
            await asyncio.sleep(0.1)
        result["drained"] = loop.time() - burst_end
        result["cpu_ms"] = (cpu_seconds(proc.pid) - cpu_before) * 1000 / len(requests)
        # The server's share of a core while the events came in (1.0: saturated).
        result["busy"] = cpu_burst / (len(requests) / result["achieved"])
        return result
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), timeout=30)
        await emu.stop()


async def main(root: Path, events: int, rates: list[float], profile: Path | None) -> None:
    print(
        f"{events} signed member_joined_channel events per rate into a community channel, "
        f"doughnut run on SQLite ({root}), Python {sys.version.split()[0]}"
    )
    print(
        f"{'rate/s':>7}{'sent/s':>8}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'cpu ms/ev':>10}{'busy':>6}{'drain s':>8}  statuses"
    )
    best = None
    for rate in rates:
        r = await one_rate(root, events, rate, profile)
        print(
            f"{rate:>7.0f}{r['achieved']:>8.0f}{r['errors']:>8}{r['p50']:>9.1f}"
            f"{r['p99']:>9.1f}{r['max']:>9.1f}{r['cpu_ms']:>10.2f}{r['busy']:>6.2f}{r['drained']:>8.1f}"
            f"  {r['statuses']}"
        )
        if r["errors"] == 0:
            best = rate
    found = f"{best:.0f}/s" if best is not None else "none"
    print(f"highest rate with 0 errors: {found} (goal: 300/s with p99 <= 1000 ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=3000, help="events per rate")
    parser.add_argument("--rates", default="300,450,600,800,1000", help="events per second")
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose bot to run")
    parser.add_argument("--profile", type=Path, help="py-spy raw profile of the server to here")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    asyncio.run(main(args.root.resolve(), args.events, rates, args.profile))
