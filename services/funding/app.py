"""Composition root of funding: settings, routers, the events it owns and the feeds it consumes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from fastapi import FastAPI
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from services.funding.api import router
from services.funding.feeds import feeds
from services.funding.ledger import LedgerStats
from services.funding.replay import MIGRATIONS
from services.funding.settings import FundingSettings
from shared.contracts.funding import CATALOG
from shared.projection import Projection
from shared.service import ServiceSpec, build_app
from shared.settings import Settings

DESCRIPTION = (
    "Donors (orang tua asuh: individuals, communities, BUMD, BUMN, CSR, universities, media — never a "
    "government budget), their pledges and contributions, sponsorships of enrolled families, and the "
    "ledger: deliveries drawn from sponsorships oldest first, unspent money released to the donors."
)


class LedgerCollector(Collector):
    """Exposes the ledger's counters on /metrics at scrape time (no race with the feeds' start)."""

    def __init__(self, stats: LedgerStats) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        s = self.stats
        for name, doc, value in (
            ("genting_funding_deliveries", "Aid deliveries paid from sponsorships", s.deliveries),
            ("genting_funding_delivery_shortfalls", "Deliveries funding could not pay in full", s.shortfalls),
            ("genting_funding_delivery_shortfall_rp", "Rupiah of deliveries no sponsorship could pay", s.shortfall_rp),
            ("genting_funding_releases", "Families whose unspent sponsorships were released", s.releases),
        ):
            yield CounterMetricFamily(name, doc, value=value)


def create_app(settings: FundingSettings | None = None) -> FastAPI:
    settings = settings or FundingSettings.from_env(service="funding")  # type: ignore[assignment]
    assert isinstance(settings, FundingSettings)
    stats = LedgerStats()

    def projections(_: Settings) -> Sequence[Projection]:
        return feeds(stats)

    async def on_startup(app: FastAPI) -> None:
        app.state.ledger = stats
        app.state.metrics.registry.register(LedgerCollector(stats))

    spec = ServiceSpec(
        name="funding",
        title="Genting funding",
        description=DESCRIPTION,
        migrations=MIGRATIONS,
        routers=[router],
        publishes=CATALOG,
        projections=projections,
        on_startup=on_startup,
    )
    return build_app(spec, settings)
