"""The outbox sender against the local Slack over real HTTP, on SQLite and PostgreSQL.

Uses the `db` fixture of tests/conftest.py (a migrated, empty database per test, parametrized
over both backends; PostgreSQL skipped when unreachable, or failing with
DOUGHNUT_REQUIRE_POSTGRES=1).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.emulator import SlackEmulator, Workspace
from bot.metrics import Metrics
from bot.outbox import DELIVERY_EVENT_TYPE, Failure, OutboxSender, classify, with_delivery_key
from storage import deliveries, outbox_queries
from storage.db import Database
from storage.models import DeliveryStatus, Priority
from tests.conftest import START, eventually, fetch, slack_client, when_parked, workspace_id

LEASE = 60.0


# helpers


async def enqueue(
    db: Database,
    clock: ManualClock,
    ws_id: int,
    method: str,
    payload: dict[str, Any],
    channel: str | None = None,
    *,
    coalesce_key: str | None = None,
    priority: Priority | None = None,
) -> int:
    """Enqueue one delivery in its own transaction, as a handler would; returns its id."""
    async with db.transaction() as session:
        delivery = await deliveries.enqueue(
            session,
            workspace_id=ws_id,
            method=method,
            payload=payload,
            channel=channel,
            coalesce_key=coalesce_key,
            priority=priority,
            now=clock.now(),
        )
        return delivery.id


class FakeTime:
    """The sender's real-time clock and sleep, moved by its own waits: no test waits for real.

    A sleep ends once the time has reached its end (never moving time back), so gaps between
    calls (as the emulator records them on this clock) are what the sender waited.
    """

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        end = self.now + seconds
        self.slept.append(seconds)
        await asyncio.sleep(0)
        self.now = max(self.now, end)

    def advance(self, seconds: float) -> None:
        self.now += seconds


def counter(metrics: Metrics, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "doughnut_outbox_deliveries_total", {"outcome": outcome}
    )
    return value or 0.0


def lookups(metrics: Metrics, result: str) -> float:
    value = metrics.registry.get_sample_value(
        "doughnut_outbox_history_lookups_total", {"result": result}
    )
    return value or 0.0


# fixtures


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def emu(fake_time: FakeTime) -> AsyncIterator[SlackEmulator]:
    state = Workspace.with_sample_members()
    bot = state.bot_user_id
    state.add_channel("alpha", members=[bot])
    state.add_channel("beta", members=[bot])
    # Calls are timed on the sender's clock.
    async with SlackEmulator(state, clock=fake_time.monotonic) as emulator:
        yield emulator


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
async def ws_id(db: Database, clock: ManualClock, emu: SlackEmulator) -> int:
    return await workspace_id(db, clock, emu.state.team_id)


@pytest.fixture
def make_sender(
    db: Database, emu: SlackEmulator, clock: ManualClock, metrics: Metrics, fake_time: FakeTime
) -> Callable[..., OutboxSender]:
    def make(**options: Any) -> OutboxSender:
        options.setdefault("channel_spacing", 0.0)
        options.setdefault("lease_seconds", LEASE)
        options.setdefault("monotonic", fake_time.monotonic)
        options.setdefault("sleep", fake_time.sleep)
        return OutboxSender(db, slack_client(emu), clock, metrics, **options)

    return make


def channel_id(emu: SlackEmulator, name: str) -> str:
    return emu.state.channel_by_name(name).id


def posted(emu: SlackEmulator, channel: str) -> list[Any]:
    """The bot's top-level messages in a channel, oldest first."""
    return [m for m in emu.state.history(channel) if m.bot_id == emu.state.bot_id]


# retries and failures


async def test_429_with_retry_after_twice_then_success_is_delivered_once_after_the_waits(
    db: Database,
    emu: SlackEmulator,
    ws_id: int,
    clock: ManualClock,
    make_sender,
    metrics,
    fake_time: FakeTime,
) -> None:
    general = channel_id(emu, "general")
    emu.fail("chat.postMessage", retry_after=1, times=2)
    delivery_id = await enqueue(
        db, clock, ws_id, "chat.postMessage", {"channel": general, "text": "Hello"}, channel=general
    )
    sender = make_sender()

    settled = await sender.drain_once()

    calls = emu.calls_to("chat.postMessage")
    assert [c.error for c in calls] == ["ratelimited", "ratelimited", None]
    assert settled == 1
    assert fake_time.slept == [1.0, 1.0]  # two Retry-After: 1 waits, and nothing else
    assert calls[1].at - calls[0].at == 1.0
    assert calls[2].at - calls[1].at == 1.0
    messages = posted(emu, general)
    assert [m.text for m in messages] == ["Hello"]
    row = await fetch(db, delivery_id)
    assert row.status == DeliveryStatus.SENT
    assert row.attempts == 3
    assert row.failures == 0  # a 429 is Slack's pacing, not a failure
    assert row.result == {"channel": general, "ts": messages[0].ts}
    assert row.leased_until is None and row.lease_owner is None
    assert (counter(metrics, "retried"), counter(metrics, "sent")) == (2, 1)


async def test_channel_not_found_fails_at_once_with_the_reason(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender, metrics
) -> None:
    delivery_id = await enqueue(
        db, clock, ws_id, "chat.postMessage", {"channel": "C0GONE", "text": "Hi"}, channel="C0GONE"
    )

    assert await make_sender().drain_once() == 1

    assert len(emu.calls_to("chat.postMessage")) == 1
    row = await fetch(db, delivery_id)
    assert row.status == DeliveryStatus.FAILED
    assert row.last_error == "channel_not_found"
    assert row.attempts == 1
    assert counter(metrics, "failed") == 1
    # A failed delivery does not hold its channel back.
    later = await enqueue(
        db, clock, ws_id, "chat.postMessage", {"channel": "C0GONE", "text": "Again"}, "C0GONE"
    )
    await make_sender().drain_once()
    assert (await fetch(db, later)).status == DeliveryStatus.FAILED


async def test_a_server_error_is_retried_after_a_backoff_in_domain_time(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender
) -> None:
    general = channel_id(emu, "general")
    emu.fail("chat.postMessage", error="internal_error", status=500)
    first = await enqueue(
        db, clock, ws_id, "chat.postMessage", {"channel": general, "text": "1"}, channel=general
    )
    second = await enqueue(
        db, clock, ws_id, "chat.postMessage", {"channel": general, "text": "2"}, channel=general
    )
    sender = make_sender()

    assert await sender.drain_once() == 0
    row = await fetch(db, first)
    assert (row.status, row.last_error, row.attempts) == (
        DeliveryStatus.PENDING,
        "internal_error",
        1,
    )
    assert row.next_attempt_at > clock.now()
    # The channel's order holds: the second waits behind the first.
    assert (await fetch(db, second)).attempts == 0
    assert await sender.drain_once() == 0
    assert len(emu.calls_to("chat.postMessage")) == 1

    clock.advance(timedelta(minutes=10))
    assert await sender.drain_once() == 2

    assert [m.text for m in posted(emu, general)] == ["1", "2"]
    # A retry after an unclear failure first looks in the channel (it had not been posted).
    assert len(emu.calls_to("conversations.history")) == 1
    assert (await fetch(db, first)).status == DeliveryStatus.SENT


async def test_transient_errors_give_up_after_max_attempts(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender
) -> None:
    emu.fail("views.publish", error="service_unavailable", times=10)
    alice = emu.state.user_by_name("alice").id
    delivery_id = await enqueue(
        db, clock, ws_id, "views.publish", {"user_id": alice, "view": home_view("x")}
    )
    sender = make_sender(max_attempts=3)

    for _ in range(3):
        await sender.drain_once()
        clock.advance(timedelta(hours=1))

    assert len(emu.calls_to("views.publish")) == 3
    row = await fetch(db, delivery_id)
    assert row.status == DeliveryStatus.FAILED
    assert row.last_error == "service_unavailable (gave up after 3 attempts)"


async def test_a_429_holds_back_its_method_on_every_channel(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender
) -> None:
    alpha, beta = channel_id(emu, "alpha"), channel_id(emu, "beta")
    emu.fail("chat.postMessage", retry_after=1)
    sender = make_sender(poll_interval=60.0)
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    try:
        await enqueue(db, clock, ws_id, "chat.postMessage", {"channel": alpha, "text": "a"}, alpha)
        sender.wake()

        async def limited() -> bool:
            return any(c.error == "ratelimited" for c in emu.calls_to("chat.postMessage"))

        await eventually(limited)
        # Another channel, same method, after the 429: it waits out the Retry-After too.
        await enqueue(db, clock, ws_id, "chat.postMessage", {"channel": beta, "text": "b"}, beta)
        sender.wake()

        async def both_sent() -> bool:
            return len([c for c in emu.calls_to("chat.postMessage") if c.ok]) == 2

        await eventually(both_sent)
    finally:
        stop.set()
        await asyncio.wait_for(running, 15)

    first, *later = emu.calls_to("chat.postMessage")
    assert first.error == "ratelimited"
    assert sorted(c.args["text"] for c in later) == ["a", "b"]
    assert all(c.at - first.at >= 0.9 for c in later)


# exactly once across a crash


async def test_a_sender_killed_after_slack_accepted_the_post_is_not_posted_twice(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender, metrics
) -> None:
    general = channel_id(emu, "general")
    emu.hang_after_accept("chat.postMessage")
    delivery_id = await enqueue(
        db, clock, ws_id, "chat.postMessage", {"channel": general, "text": "Kudos!"}, general
    )
    first = make_sender()
    draining = asyncio.create_task(first.drain_once())

    async def accepted() -> bool:
        return any(c.hung for c in emu.calls_to("chat.postMessage"))

    await eventually(accepted)
    draining.cancel()  # the sender dies before it could mark the delivery sent
    with pytest.raises(asyncio.CancelledError):
        await draining
    row = await fetch(db, delivery_id)
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1)
    assert row.leased_until is not None

    second = make_sender()
    assert await second.drain_once() == 0  # the lease still holds: nobody touches it
    assert len(emu.calls_to("chat.postMessage")) == 1

    clock.advance(timedelta(seconds=LEASE + 1))
    assert await second.drain_once() == 1

    assert len(emu.calls_to("chat.postMessage")) == 1
    assert len(emu.calls_to("conversations.history")) == 1
    messages = posted(emu, general)
    assert [m.text for m in messages] == ["Kudos!"]
    row = await fetch(db, delivery_id)
    assert row.status == DeliveryStatus.SENT
    assert row.result is not None and row.result["ts"] == messages[0].ts
    assert row.lease_owner is None


async def test_a_sender_killed_before_posting_posts_after_the_lease_expires(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender
) -> None:
    general = channel_id(emu, "general")
    delivery_id = await enqueue(
        db, clock, ws_id, "chat.postMessage", {"channel": general, "text": "Once"}, general
    )
    async with db.transaction() as session:  # a sender that leased it, then died
        now = clock.now()
        lease = await outbox_queries.lease(
            session, delivery_id, owner="dead", now=now, until=now + timedelta(seconds=LEASE)
        )
        assert isinstance(lease, outbox_queries.Lease)
    clock.advance(timedelta(seconds=LEASE + 1))

    assert await make_sender().drain_once() == 1

    assert [m.text for m in posted(emu, general)] == ["Once"]
    assert len(emu.calls_to("conversations.history")) == 1
    assert (await fetch(db, delivery_id)).attempts == 2


async def test_a_timed_out_post_is_found_in_the_channel_rather_than_posted_again(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender
) -> None:
    alice = emu.state.user_by_name("alice").id
    emu.hang_after_accept("chat.postMessage")
    delivery_id = await enqueue(
        db, clock, ws_id, "chat.postMessage", {"channel": alice, "text": "DM"}, channel=alice
    )
    sender = make_sender(send_timeout=0.5)

    assert await sender.drain_once() == 0  # timed out: retried later
    assert (await fetch(db, delivery_id)).last_error == "timeout"
    clock.advance(timedelta(minutes=10))
    assert await sender.drain_once() == 1

    dm = emu.state.dm_channel(alice).id
    assert [m.text for m in posted(emu, dm)] == ["DM"]
    assert len(emu.calls_to("chat.postMessage")) == 1
    row = await fetch(db, delivery_id)
    assert row.status == DeliveryStatus.SENT
    assert row.result is not None and row.result["channel"] == dm


async def test_posts_carry_their_key_in_metadata_next_to_the_payloads_own(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender
) -> None:
    general = channel_id(emu, "general")
    metadata = {"event_type": "lesson_posted", "event_payload": {"lesson_id": 7}}
    delivery_id = await enqueue(
        db,
        clock,
        ws_id,
        "chat.postMessage",
        {"channel": general, "text": "A lesson", "metadata": metadata},
        channel=general,
    )
    await enqueue(
        db, clock, ws_id, "chat.postMessage", {"channel": general, "text": "Plain"}, general
    )

    await make_sender().drain_once()

    key = (await fetch(db, delivery_id)).key
    first, second = posted(emu, general)
    assert first.metadata == {
        "event_type": "lesson_posted",
        "event_payload": {"lesson_id": 7, "key": key},
    }
    assert second.metadata is not None
    assert second.metadata["event_type"] == DELIVERY_EVENT_TYPE
    assert set(second.metadata["event_payload"]) == {"key"}


# coalescing


def home_view(label: str) -> dict[str, Any]:
    return {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": label}}],
    }


async def test_views_publish_coalesces_to_the_latest_view(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender, metrics
) -> None:
    alice = emu.state.user_by_name("alice").id
    key = f"home:{alice}"
    publish = {"user_id": alice}
    v1 = await enqueue(
        db, clock, ws_id, "views.publish", {**publish, "view": home_view("v1")}, coalesce_key=key
    )
    async with db.transaction() as session:  # v1 was leased by a sender that then died
        now = clock.now()
        await outbox_queries.lease(
            session, v1, owner="dead", now=now, until=now + timedelta(seconds=LEASE)
        )
    # A leased delivery is not superseded by enqueue; v2 is, by v3.
    v2 = await enqueue(
        db, clock, ws_id, "views.publish", {**publish, "view": home_view("v2")}, coalesce_key=key
    )
    v3 = await enqueue(
        db, clock, ws_id, "views.publish", {**publish, "view": home_view("v3")}, coalesce_key=key
    )
    clock.advance(timedelta(seconds=LEASE + 1))

    assert await make_sender().drain_once() == 2  # v1 superseded, v3 sent

    calls = emu.calls_to("views.publish")
    assert len(calls) == 1
    assert calls[0].args["view"]["blocks"][0]["text"]["text"] == "v3"
    assert emu.state.home_views[alice]["blocks"][0]["text"]["text"] == "v3"
    statuses = [(await fetch(db, i)).status for i in (v1, v2, v3)]
    assert statuses == [DeliveryStatus.SUPERSEDED, DeliveryStatus.SUPERSEDED, DeliveryStatus.SENT]
    assert (await fetch(db, v3)).result == {"view_id": emu.state.home_views[alice]["id"]}
    assert counter(metrics, "superseded") == 1


# order and pacing


async def test_one_channel_is_sent_in_order_and_paced(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender
) -> None:
    # Slack wants about 1 s between posts in a channel; the sender's clock is the fake one, so
    # 50 posts take no real minute. What is checked: order, and the gap kept.
    spacing = 1.0
    alpha = channel_id(emu, "alpha")
    for n in range(50):
        await enqueue(
            db, clock, ws_id, "chat.postMessage", {"channel": alpha, "text": str(n)}, alpha
        )

    assert await make_sender(channel_spacing=spacing).drain_once() == 50

    calls = emu.calls_to("chat.postMessage")
    assert [c.args["text"] for c in calls] == [str(n) for n in range(50)]
    assert [m.text for m in posted(emu, alpha)] == [str(n) for n in range(50)]
    gaps = [b.at - a.at for a, b in zip(calls, calls[1:], strict=False)]
    assert min(gaps) >= spacing - 1e-9  # never closer than the spacing


async def test_two_channels_interleave_rather_than_wait_for_each_other(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender
) -> None:
    alpha, beta = channel_id(emu, "alpha"), channel_id(emu, "beta")
    for channel, text in ((alpha, "a1"), (alpha, "a2"), (beta, "b1"), (beta, "b2")):
        await enqueue(
            db, clock, ws_id, "chat.postMessage", {"channel": channel, "text": text}, channel
        )

    # Lanes waiting side by side needs real time (a fake sleep ends at once).
    sender = make_sender(channel_spacing=0.5, monotonic=time.monotonic, sleep=asyncio.sleep)
    assert await sender.drain_once() == 4

    order = [c.args["text"] for c in emu.calls_to("chat.postMessage")]
    # b1 goes while alpha waits out its pacing, not after a2.
    assert order.index("b1") < order.index("a2")
    assert order.index("a1") < order.index("a2") and order.index("b1") < order.index("b2")


# the running loop


async def test_run_sends_when_woken_and_keeps_the_depth_gauge(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender, metrics,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    general = channel_id(emu, "general")
    sender = make_sender(poll_interval=60.0)  # only a wake can make it look before a minute
    parked = when_parked(monkeypatch)
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    try:
        await asyncio.wait_for(parked.wait(), 5)  # its first (empty) pass is over
        delivery_id = await enqueue(
            db, clock, ws_id, "chat.postMessage", {"channel": general, "text": "Woken"}, general
        )
        sender.wake()

        async def sent() -> bool:
            return (await fetch(db, delivery_id)).status == DeliveryStatus.SENT

        await eventually(sent)
        await enqueue(
            db, clock, ws_id, "chat.postMessage", {"channel": "C0GONE", "text": "x"}, "C0GONE"
        )
        sender.wake()

        async def drained() -> bool:
            depth = metrics.registry.get_sample_value("doughnut_outbox_depth")
            return depth == 0 and counter(metrics, "failed") == 1

        await eventually(drained)
    finally:
        stop.set()
        await asyncio.wait_for(running, 15)
    assert [m.text for m in posted(emu, general)] == ["Woken"]


async def test_depth_gauge_counts_what_is_still_owed(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender, metrics
) -> None:
    general = channel_id(emu, "general")
    emu.fail("chat.postMessage", error="internal_error", status=503)
    for text in ("1", "2"):
        await enqueue(
            db, clock, ws_id, "chat.postMessage", {"channel": general, "text": text}, general
        )

    await make_sender().drain_once()

    assert metrics.registry.get_sample_value("doughnut_outbox_depth") == 2
    # A second sender on the same registry shares the gauge rather than clashing: its drain
    # moves the one gauge the registry exposes.
    clock.advance(timedelta(hours=1))
    assert await make_sender().drain_once() == 2
    assert [m.text for m in posted(emu, general)] == ["1", "2"]
    assert metrics.registry.get_sample_value("doughnut_outbox_depth") == 0
    exposed = metrics.render().decode()
    assert exposed.count("# TYPE doughnut_outbox_depth gauge") == 1


# posts in doubt: looked up, never re-sent blind


async def kill_after_accept(emu: SlackEmulator, sender: OutboxSender) -> None:
    """Run `sender` until Slack accepted its post, then kill it before it could mark it sent."""
    emu.hang_after_accept("chat.postMessage")
    draining = asyncio.create_task(sender.drain_once())

    async def accepted() -> bool:
        return any(c.hung for c in emu.calls_to("chat.postMessage"))

    await eventually(accepted)
    draining.cancel()
    with pytest.raises(asyncio.CancelledError):
        await draining


async def test_a_crash_mid_send_where_history_is_unreadable_is_unknown_not_posted_twice(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender, metrics
) -> None:
    # #random is public and the bot is not in it: it posts there (chat:write.public) but its
    # history answers not_in_channel.
    random = channel_id(emu, "random")
    delivery_id = await enqueue(
        db, clock, ws_id, "chat.postMessage", {"channel": random, "text": "Digest"}, random
    )
    await kill_after_accept(emu, make_sender())
    clock.advance(timedelta(seconds=LEASE + 1))

    assert await make_sender().drain_once() == 1

    assert len(emu.calls_to("chat.postMessage")) == 1
    assert [m.text for m in posted(emu, random)] == ["Digest"]
    assert [c.error for c in emu.calls_to("conversations.history")] == ["not_in_channel"]
    row = await fetch(db, delivery_id)
    assert row.status == DeliveryStatus.UNKNOWN
    assert row.last_error == f"history of {random}: not_in_channel"
    assert (counter(metrics, "unknown"), lookups(metrics, "unavailable")) == (1, 1)
    # Settled for good: later passes leave it alone.
    clock.advance(timedelta(hours=1))
    assert await make_sender().drain_once() == 0
    assert len(emu.calls_to("chat.postMessage")) == 1


async def test_a_rate_limited_history_lookup_leaves_the_post_unknown_not_posted_blind(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender, metrics
) -> None:
    general = channel_id(emu, "general")
    delivery_id = await enqueue(
        db, clock, ws_id, "chat.postMessage", {"channel": general, "text": "Once"}, general
    )
    await kill_after_accept(emu, make_sender())
    clock.advance(timedelta(seconds=LEASE + 1))
    # conversations.history allows some apps 1 request a minute.
    emu.fail("conversations.history", retry_after=60)

    await make_sender().drain_once()
    clock.advance(timedelta(hours=1))
    await make_sender().drain_once()

    assert [m.text for m in posted(emu, general)] == ["Once"]
    assert len(emu.calls_to("chat.postMessage")) == 1
    row = await fetch(db, delivery_id)
    assert (row.status, row.last_error) == (
        DeliveryStatus.UNKNOWN,
        f"history of {general}: ratelimited",
    )
    assert counter(metrics, "unknown") == 1


async def test_history_is_paged_back_to_the_lease_to_find_an_earlier_post(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender, metrics
) -> None:
    general = channel_id(emu, "general")
    alice = emu.state.user_by_name("alice").id
    delivery_id = await enqueue(
        db, clock, ws_id, "chat.postMessage", {"channel": general, "text": "Kudos!"}, general
    )
    await kill_after_accept(emu, make_sender())
    for n in range(40):  # a busy channel: the post is beyond the first pages of 15
        emu.user_message(alice, general, f"chatter {n}")
    clock.advance(timedelta(seconds=LEASE + 1))

    assert await make_sender(history_limit=15).drain_once() == 1

    assert len(emu.calls_to("chat.postMessage")) == 1
    messages = posted(emu, general)
    assert [m.text for m in messages] == ["Kudos!"]
    pages = emu.calls_to("conversations.history")
    assert len(pages) == 3
    assert "cursor" not in pages[0].args and all(p.args["cursor"] for p in pages[1:])
    row = await fetch(db, delivery_id)
    assert row.status == DeliveryStatus.SENT
    assert row.result == {"channel": general, "ts": messages[0].ts, "recovered": True}
    assert lookups(metrics, "found") == 1


async def test_posts_that_timed_out_unseen_are_looked_up_and_give_up_by_failures(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender, metrics
) -> None:
    general = channel_id(emu, "general")
    # Slack stalls and the sender gives up each time; the stalled call never posts.
    emu.slow_down("chat.postMessage", 30.0, times=3)
    delivery_id = await enqueue(
        db, clock, ws_id, "chat.postMessage", {"channel": general, "text": "Slow"}, general
    )
    sender = make_sender(send_timeout=0.3, max_attempts=3)

    for _ in range(4):
        await sender.drain_once()
        clock.advance(timedelta(hours=1))

    assert posted(emu, general) == []
    row = await fetch(db, delivery_id)
    assert (row.status, row.last_error) == (
        DeliveryStatus.FAILED,
        "timeout (gave up after 3 attempts)",
    )
    # Each timeout was looked up before the next try, the last one before giving up.
    assert lookups(metrics, "absent") == 3


async def test_a_sender_frozen_past_its_lease_sends_nothing(
    db: Database,
    emu: SlackEmulator,
    ws_id: int,
    clock: ManualClock,
    make_sender,
    metrics,
    fake_time: FakeTime,
) -> None:
    general = channel_id(emu, "general")
    delivery_id = await enqueue(
        db, clock, ws_id, "chat.postMessage", {"channel": general, "text": "On time"}, general
    )
    async with db.transaction() as session:  # a sender leased it and died: the next one looks
        now = clock.now()
        await outbox_queries.lease(
            session, delivery_id, owner="dead", now=now, until=now + timedelta(seconds=LEASE)
        )
    clock.advance(timedelta(seconds=LEASE + 1))

    async def freeze() -> None:  # the sender stops for a lease's length while it looks
        fake_time.advance(LEASE)

    emu.before("conversations.history", freeze)

    assert await make_sender().drain_once() == 0

    assert emu.calls_to("chat.postMessage") == []
    assert metrics.registry.get_sample_value("doughnut_outbox_lease_lapses_total") == 1
    row = await fetch(db, delivery_id)
    assert (row.status, row.lease_owner) == (DeliveryStatus.PENDING, None)
    # A sender on time sends it, once.
    assert await make_sender().drain_once() == 1
    assert [m.text for m in posted(emu, general)] == ["On time"]


async def test_an_unexpected_error_while_sending_fails_with_its_reason(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender, metrics
) -> None:
    general = channel_id(emu, "general")
    emu.garble("chat.postMessage", '"not an object"')  # slack_sdk trips over it
    garbled = await enqueue(
        db, clock, ws_id, "chat.postMessage", {"channel": general, "text": "1"}, general
    )
    emu.garble("chat.postMessage", "<html>Bad gateway</html>", status=200)
    unreadable = await enqueue(
        db, clock, ws_id, "chat.postMessage", {"channel": general, "text": "2"}, general
    )

    assert await make_sender().drain_once() == 2
    clock.advance(timedelta(hours=1))
    assert await make_sender().drain_once() == 0

    assert len(emu.calls_to("chat.postMessage")) == 2
    first, second = await fetch(db, garbled), await fetch(db, unreadable)
    assert first.status == DeliveryStatus.FAILED
    assert first.last_error == "unexpected: AttributeError: 'str' object has no attribute 'get'"
    assert (second.status, second.last_error) == (DeliveryStatus.FAILED, "http_200")
    assert counter(metrics, "failed") == 2


# lanes and priority


async def test_a_long_backlog_in_one_channel_does_not_hold_back_a_dm_or_an_ephemeral(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender
) -> None:
    alpha, general = channel_id(emu, "alpha"), channel_id(emu, "general")
    alice = emu.state.user_by_name("alice").id
    async with db.transaction() as session:
        for n in range(600):  # a digest run: 600 posts to one channel
            await deliveries.enqueue(
                session,
                workspace_id=ws_id,
                method="chat.postMessage",
                payload={"channel": alpha, "text": f"digest {n}"},
                channel=alpha,
                now=clock.now(),
            )
    await enqueue(db, clock, ws_id, "chat.postMessage", {"channel": alice, "text": "DM"}, alice)
    ephemeral = {"channel": general, "user": alice, "text": "Saved"}
    await enqueue(db, clock, ws_id, "chat.postEphemeral", ephemeral, general)

    # Real time here: Slack's pacing of one post a second in the backlog's channel is what
    # must not hold the others back.
    sender = make_sender(
        channel_spacing=1.0, monotonic=time.monotonic, sleep=asyncio.sleep, poll_interval=60.0
    )
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    try:

        async def answered() -> bool:
            texts = {c.args.get("text") for c in emu.calls if c.ok}
            return {"DM", "Saved"} <= texts

        await eventually(answered)
    finally:
        stop.set()
        await asyncio.wait_for(running, 15)

    calls = [c for c in emu.calls if c.method in ("chat.postMessage", "chat.postEphemeral")]
    texts = [c.args["text"] for c in calls]
    # Not after 600 paced posts: before the backlog's second post (its first may race them).
    assert texts.index("DM") <= 2 and texts.index("Saved") <= 2
    assert "digest 1" not in texts[:3]


async def test_what_a_person_waits_for_starts_before_bulk_posts(
    db: Database, emu: SlackEmulator, ws_id: int, clock: ManualClock, make_sender
) -> None:
    alpha, beta, general = (channel_id(emu, n) for n in ("alpha", "beta", "general"))
    alice, bob = emu.state.user_by_name("alice").id, emu.state.user_by_name("bob").id
    for channel, text in ((alpha, "a1"), (alpha, "a2"), (beta, "b1")):
        await enqueue(
            db, clock, ws_id, "chat.postMessage", {"channel": channel, "text": text}, channel
        )
    digest = {"channel": bob, "text": "weekly digest"}
    await enqueue(db, clock, ws_id, "chat.postMessage", digest, bob, priority=Priority.BULK)
    home = {"user_id": alice, "view": home_view("home")}
    await enqueue(db, clock, ws_id, "views.publish", home, coalesce_key=f"home:{alice}")
    ephemeral = {"channel": general, "user": alice, "text": "Saved"}
    await enqueue(db, clock, ws_id, "chat.postEphemeral", ephemeral, general)
    sender = make_sender(max_lanes=1)  # one lane at a time: the order of lanes shows

    while await sender.drain_once():
        pass

    sent = [
        c.args.get("text") or c.method
        for c in emu.calls
        if c.method in ("chat.postMessage", "chat.postEphemeral", "views.publish")
    ]
    assert sent == ["views.publish", "Saved", "a1", "a2", "b1", "weekly digest"]


# pure pieces


def test_metadata_merge_keeps_theirs_and_adds_the_key() -> None:
    assert with_delivery_key(None, "k") == {
        "event_type": DELIVERY_EVENT_TYPE,
        "event_payload": {"key": "k"},
    }
    merged = with_delivery_key('{"event_type": "t", "event_payload": {"a": 1}}', "k")
    assert merged == {"event_type": "t", "event_payload": {"a": 1, "key": "k"}}


def test_errors_are_sorted_into_transient_and_permanent() -> None:
    assert classify(TimeoutError()) == Failure("timeout", True, unclear=True)
    assert classify(ConnectionResetError()) == Failure(
        "connection_error: ConnectionResetError", True, unclear=True
    )
    # Not a Slack or network error: a bug, not a passing condition. It is not retried.
    assert classify(ValueError("bad view")) == Failure("unexpected: ValueError: bad view", False)
