"""Prometheus metrics of one service process, in its own registry (several apps may share a process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "genting_http_requests_total",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "genting_http_request_seconds",
            "HTTP request duration",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
        )
        self.outbox_pending = Gauge(
            "genting_outbox_pending",
            "Committed events not yet acknowledged by JetStream",
            registry=self.registry,
        )
        self.relay_leader = Gauge(
            "genting_outbox_relay_leader",
            "1 when this process runs the service's active relay",
            registry=self.registry,
        )
        self.relay_published = Gauge(
            "genting_outbox_published",
            "Events this process's relay has published",
            registry=self.registry,
        )
        self.projection_events = Gauge(
            "genting_projection_events",
            "Events handled by a projection, by outcome",
            ["projection", "outcome"],
            registry=self.registry,
        )
        self.projection_position = Gauge(
            "genting_projection_stream_seq",
            "Last upstream stream sequence a projection handled",
            ["projection"],
            registry=self.registry,
        )

        # The operator's figures (deploy/ alerts and dashboards rely on these exact names).
        self.outbox_backlog = Gauge(
            "genting_outbox_backlog",
            "Committed events waiting in the outbox (not yet acknowledged by JetStream)",
            registry=self.registry,
        )
        self.relay_leader_flag = Gauge(
            "genting_relay_leader",
            "1 when this process holds the service's relay leader lock, else 0",
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "genting_consumer_lag",
            "Messages of the upstream stream the consumer has not been delivered yet (num_pending)",
            ["consumer"],
            registry=self.registry,
        )
        self.consumer_redeliveries = Counter(
            "genting_consumer_redeliveries",
            "Messages this process received again (a nak, a crash, an ack_wait expiry)",
            ["consumer"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "genting_dead_letters",
            "Messages this process sent to the dead-letter stream, by reason (poison, failed, gap)",
            ["consumer", "reason"],
            registry=self.registry,
        )
        # Readiness follows the database only; NATS's state is here for the alerts and dashboards.
        self.nats_connected = Gauge(
            "genting_nats_connected",
            "1 while this process is connected to NATS, else 0 (the outbox holds commits meanwhile)",
            registry=self.registry,
        )
        self.database_up = Gauge(
            "genting_database_up",
            "1 when the service's database answered the last readiness or metrics probe, else 0",
            registry=self.registry,
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
