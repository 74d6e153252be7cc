"""Prometheus metrics, one registry per process (not the global default, so tests stay apart)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._request_children: dict[tuple[str, int], tuple[Any, Any]] = {}
        self.requests = Counter(
            "doughnut_slack_requests",
            "Slack requests handled, by listener kind and HTTP status.",
            ["kind", "status"],
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "doughnut_ack_seconds",
            "Time from receiving a Slack request to its ack, by listener kind.",
            ["kind"],
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )
        self.deliveries = Counter(
            "doughnut_outbox_deliveries",
            "Outbox deliveries by outcome (sent, retried, failed, superseded, unknown).",
            ["outcome"],
            registry=self.registry,
        )
        self.history_lookups = Counter(
            "doughnut_outbox_history_lookups",
            "Looks in a channel's history for a post in doubt, by result (found, absent, "
            "unavailable: the outcome stays unknown).",
            ["result"],
            registry=self.registry,
        )
        self.lease_lapses = Counter(
            "doughnut_outbox_lease_lapses",
            "Sends skipped because this sender's lease ran out first (it was frozen or slow).",
            registry=self.registry,
        )

    def observe_request(self, kind: str, status: int, seconds: float) -> None:
        # The labelled children, looked up once per (kind, status): labels() per request cost
        # more than the counting.
        children = self._request_children.get((kind, status))
        if children is None:
            children = (
                self.requests.labels(kind=kind, status=str(status)),
                self.ack_seconds.labels(kind=kind),
            )
            self._request_children[(kind, status)] = children
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
