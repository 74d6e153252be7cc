"""Ack latency of `doughnut run` while Slack answers every Web API call after 5 seconds.

Run by hand: `python bench/slow_slack.py [--count 10] [--delay 5]`. The bot runs as its own
process (HTTP mode, SQLite) against the local Slack emulator, which is slowed down once the bot
has started (auth.test stays fast). Prints p50/p99/max ack latency for `/doughnut setup`, the
setup form's submission and `/doughnut help`; every one must stay under Slack's 3 s (goal 2.5 s).
The forms submitted are opened while Slack is still fast: a slowed `views.open` never opens one.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ack import SECRET, free_port, percentile, server_env, wait_ready  # noqa: E402
from bot.emulator import SlackDriver, SlackEmulator, Workspace  # noqa: E402
from bot.emulator.webapi import METHODS  # noqa: E402
from handlers.communities import ids  # noqa: E402

GOAL = 2.5


def form_values(user_id: str, n: int) -> dict[str, Any]:
    def users(selected: list[str]) -> dict[str, Any]:
        return {"type": "multi_users_select", "selected_users": selected}

    return {
        ids.SETUP_NAME_BLOCK: {ids.SETUP_NAME_ACTION: f"Bench community {n}"},
        ids.SETUP_DESCRIPTION_BLOCK: {ids.SETUP_DESCRIPTION_ACTION: "Measured under a slow Slack"},
        ids.SETUP_TIMEZONE_BLOCK: {ids.SETUP_TIMEZONE_ACTION: "Europe/Paris"},
        ids.SETUP_COORDINATORS_BLOCK: {ids.SETUP_COORDINATORS_ACTION: users([user_id])},
        ids.SETUP_REVIEWERS_BLOCK: {ids.SETUP_REVIEWERS_ACTION: users([])},
        ids.SETUP_SPONSORS_BLOCK: {ids.SETUP_SPONSORS_ACTION: users([])},
    }


async def timed(call: Awaitable[Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    reply = await call
    return reply, time.perf_counter() - started


def summary(name: str, latencies: list[float], failures: int) -> str:
    ordered = sorted(latencies)
    p99 = percentile(ordered, 99)
    verdict = "ok" if ordered[-1] <= GOAL and not failures else "OVER"
    return (
        f"{name:<22}{len(ordered):>4}{statistics.median(ordered) * 1000:>9.0f}"
        f"{p99 * 1000:>9.0f}{ordered[-1] * 1000:>9.0f}{failures:>9}  {verdict}"
    )


async def open_forms(emu: SlackEmulator, driver: SlackDriver, count: int) -> list[tuple[str, str]]:
    """Setup forms for `count` new channels (each by its own member: one modal a person),
    opened while Slack is fast."""
    forms = []
    for n in range(count):
        user = emu.state.add_user(f"bench{n}").id
        channel = emu.state.add_channel(f"bench-{n}", members=[user]).id
        await driver.command(user, channel, "/doughnut", "setup")
        for _ in range(100):  # the form is filled in after the ack
            view = emu.state.modal_stack(user)[-1]
            if view.get("callback_id") == ids.COMMUNITY_SETUP_VIEW:
                break
            await asyncio.sleep(0.02)
        else:
            raise SystemExit("the setup form did not load while Slack was fast")
        forms.append((user, view["id"]))
    return forms


async def main(count: int, delay: float) -> None:
    emu = SlackEmulator(Workspace.with_sample_members())
    await emu.start()
    workdir = Path(tempfile.mkdtemp(prefix="doughnut-slow-slack-"))
    port = free_port()
    env = server_env(
        emu.api_url,
        emu.state.bot_token,
        f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
        port,
        "ERROR",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=workdir
    )
    url = f"http://127.0.0.1:{port}"
    alice = emu.state.user_by_name("alice").id
    general = emu.state.channel_by_name("general").id
    try:
        await wait_ready(url, proc)
        async with SlackDriver(emu, url + "/slack/events", SECRET) as driver:
            forms = await open_forms(emu, driver, count)
            for method in METHODS:
                emu.slow_down(method, delay, times=100_000)
            results: dict[str, tuple[list[float], int]] = {}

            setup = [
                await timed(driver.command(alice, general, "/doughnut", "setup"))
                for _ in range(count)
            ]
            results["/doughnut setup"] = (
                [t for _, t in setup],
                sum(r.status != 200 for r, _ in setup),
            )
            submitted = [
                await timed(driver.view_submission(user, view_id, form_values(user, n)))
                for n, (user, view_id) in enumerate(forms)
            ]
            results["setup submission"] = (
                [t for _, t in submitted],
                sum(r.status != 200 or bool(r.text) for r, _ in submitted),
            )
            helped = [
                await timed(driver.command(alice, general, "/doughnut", "help"))
                for _ in range(count)
            ]
            results["/doughnut help"] = (
                [t for _, t in helped],
                sum("What works today" not in r.text for r, _ in helped),
            )
        print(
            f"ack latency with every Slack Web API call answering after {delay:.1f} s "
            f"(doughnut run, SQLite, Python {sys.version.split()[0]}); goal <= {GOAL} s"
        )
        print(f"{'request':<22}{'n':>4}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'failures':>9}")
        for name, (latencies, failures) in results.items():
            print(summary(name, latencies, failures))
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), timeout=30)
        await emu.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10, help="requests of each kind")
    parser.add_argument("--delay", type=float, default=5.0, help="seconds per Slack call")
    args = parser.parse_args()
    asyncio.run(main(args.count, args.delay))
