"""Prometheus metrics of one service process, in its own registry (several apps may share a process)."""

from __future__ import annotations

from functools import partial

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # Every metric of this process goes to its own registry.
        counter, gauge = partial(Counter, registry=self.registry), partial(Gauge, registry=self.registry)
        self.http_requests = counter(
            "genting_http_requests_total", "HTTP requests by route and status", ["method", "route", "status"]
        )
        self.http_seconds = Histogram(
            "genting_http_request_seconds",
            "HTTP request duration",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
        )
        self.outbox_pending = gauge("genting_outbox_pending", "Committed events not yet acknowledged by JetStream")
        self.relay_leader = gauge("genting_outbox_relay_leader", "1 when this process runs the service's active relay")
        self.relay_published = gauge("genting_outbox_published", "Events this process's relay has published")
        self.projection_events = gauge(
            "genting_projection_events", "Events handled by a projection, by outcome", ["projection", "outcome"]
        )
        self.projection_position = gauge(
            "genting_projection_stream_seq", "Last upstream stream sequence a projection handled", ["projection"]
        )

        # The operator's figures (deploy/ alerts and dashboards rely on these exact names).
        self.outbox_backlog = gauge(
            "genting_outbox_backlog", "Committed events waiting in the outbox (not yet acknowledged by JetStream)"
        )
        self.relay_leader_flag = gauge(
            "genting_relay_leader", "1 when this process holds the service's relay leader lock, else 0"
        )
        self.consumer_lag = gauge(
            "genting_consumer_lag",
            "Messages of the upstream stream the consumer has not been delivered yet (num_pending)",
            ["consumer"],
        )
        self.consumer_redeliveries = counter(
            "genting_consumer_redeliveries",
            "Messages this process received again (a nak, a crash, an ack_wait expiry)",
            ["consumer"],
        )
        self.dead_letters = counter(
            "genting_dead_letters",
            "Messages this process sent to the dead-letter stream, by reason (poison, failed, gap)",
            ["consumer", "reason"],
        )
        # Readiness follows the database only; NATS's state is here for the alerts and dashboards.
        self.nats_connected = gauge(
            "genting_nats_connected",
            "1 while this process is connected to NATS, else 0 (the outbox holds commits meanwhile)",
        )
        self.database_up = gauge(
            "genting_database_up", "1 when the service's database answered the last readiness or metrics probe, else 0"
        )
        self._reported: dict[tuple[object, ...], int] = {}

    def count_up_to(self, counter: Counter, labels: tuple[str, ...], total: int) -> None:
        """Bring a counter up to a running total kept elsewhere (the runner's stats)."""
        key = (id(counter), *labels)
        delta = total - self._reported.get(key, 0)
        child = counter.labels(*labels)  # present at 0 from the first scrape: alerts see a series
        if delta > 0:
            child.inc(delta)
            self._reported[key] = total

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_seconds.labels(method, route).observe(seconds)
