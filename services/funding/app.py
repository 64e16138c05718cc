"""Composition root of funding: settings, the clock, the two repositories (configured with the
read model as their inline view, and with the ciphers of their private parts: a donor's name and
contact, pledge notes and bank references under a key per donor, a sponsorship's note under its
family's key), the handlers, the policies that react to registry and aid, the routes and the
ledger's metrics. All wiring is here; the modules it wires know nothing of each other's setup.
At start-up, private text older releases kept beside the streams is moved into the events."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import cast

from fastapi import FastAPI
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from services.funding import views
from services.funding.api import router
from services.funding.domain import Donor, Sponsorship, donor, sponsorship
from services.funding.domain.private import PRIVATE_PARTS, SPONSORSHIP_PRIVATE_PARTS
from services.funding.donor_data import DONOR_KEY_PURPOSE, RECEIPT_CODE_PURPOSE, DonorData, DonorKeyCipher
from services.funding.family_notes import FamilyNoteCipher, move_side_notes
from services.funding.handlers import Handlers, LedgerStats
from services.funding.policies import policies
from services.funding.schedule import clock_tasks
from services.funding.settings import FundingSettings
from shared import regions
from shared.contracts.funding import CATALOG, DonorStreamEvent, SponsorshipStreamEvent
from shared.crypto import WrappedKeyCipher, derive_key
from shared.projection import Projection
from shared.repository import Fact, Repository
from shared.service import ServiceSpec, build_app
from shared.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"

DESCRIPTION = (
    "Donors (orang tua asuh: individuals, communities, BUMD, BUMN, CSR, universities, media — never a "
    "government budget), their pledges and contributions, sponsorships of enrolled families, and the "
    "ledger: deliveries drawn from sponsorships oldest first, unspent money released to the donors."
)


def _evolve_donor(state: Donor, fact: Fact) -> Donor:
    return donor.evolve(state, cast(DonorStreamEvent, fact.event))  # the donor stream holds only these


def _evolve_sponsorship(state: Sponsorship, fact: Fact) -> Sponsorship:
    return sponsorship.evolve(state, cast(SponsorshipStreamEvent, fact.event))


def repositories(
    donor_keys: DonorKeyCipher | None = None, family_keys: FamilyNoteCipher | None = None
) -> tuple[Repository[Donor], Repository[Sponsorship]]:
    """Funding's two aggregates, their private parts sealed by the given ciphers (without them, as
    for a replay of the read model, nothing private is opened); the read model is updated inline."""
    donors = Repository(
        "donor",
        CATALOG,
        Donor,
        _evolve_donor,
        PRIVATE_PARTS,
        donor_keys or DonorKeyCipher(None),
        views=[views.inline_view],
    )
    sponsorships = Repository(
        "sponsorship",
        CATALOG,
        Sponsorship,
        _evolve_sponsorship,
        SPONSORSHIP_PRIVATE_PARTS,
        family_keys or FamilyNoteCipher(None),
        views=[views.inline_view],
    )
    return donors, sponsorships


FAMILY_KEY_PURPOSE = b"genting/funding/family-keys"


def handlers(settings: FundingSettings) -> Handlers:
    # Without a data key (a bare test or tool) funding runs, but keeps nothing personal: a donor's
    # registration, a contribution or a note is refused, naming the field.
    keyed = bool(settings.data_key.get_secret_value())
    donor_keys = DonorKeyCipher(
        WrappedKeyCipher(settings.data_keyring(), DONOR_KEY_PURPOSE, "donor_keys", "donor_id") if keyed else None
    )
    family_keys = FamilyNoteCipher(
        WrappedKeyCipher(settings.data_keyring(), FAMILY_KEY_PURPOSE, "family_keys", "family_id") if keyed else None
    )
    donors, sponsorships = repositories(donor_keys, family_keys)
    # Receipts' verification codes are keyed by a key derived from the root key.
    receipt_key = derive_key(settings.data_key_bytes(), RECEIPT_CODE_PURPOSE) if keyed else b""
    return Handlers(
        donors,
        sponsorships,
        settings.limits(),
        donor_data=DonorData(donors, donor_keys, receipt_key),
        family_keys=family_keys,
        stats=LedgerStats(),
    )


class LedgerCollector(Collector):
    """Exposes the ledger's counters on /metrics at scrape time (no race with the policies' start)."""

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
    settings = settings or FundingSettings.from_env()
    service = handlers(settings)

    def consumers(_: Settings) -> Sequence[Projection]:
        return policies(service)

    async def on_startup(app: FastAPI) -> None:
        app.state.metrics.registry.register(LedgerCollector(service.stats))
        # What older releases kept beside the streams (in plaintext, or sealed in side tables).
        await service.donor_data.move_to_events(app.state.pool)
        await move_side_notes(app.state.pool, service.family_keys)

    spec = ServiceSpec(
        name="funding",
        title="Genting funding",
        description=DESCRIPTION,
        migrations=MIGRATIONS,
        routers=[router],
        publishes=CATALOG,
        projections=consumers,
        on_startup=on_startup,
        extra_tasks=clock_tasks,
    )
    app = build_app(spec, settings)
    app.state.clock = settings.clock()  # the one "today" (tests swap it)
    app.state.handlers = service
    app.state.donor_data = service.donor_data
    app.state.city_name = regions.city_name(settings.city) or settings.city
    app.state.ledger = service.stats
    return app
