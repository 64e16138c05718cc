"""Aid's settings: the kernel's (the city's `time_zone`, the one "today"; the programme's
`plan_days`, `daily_minimum_rp`, `distribution_cost_rp` and `programme_start`), plus aid's own timing rules."""

from __future__ import annotations

import json
import tempfile
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

from pydantic import Field, SecretStr

from services.aid.domain import PlanRules
from services.aid.domain.catalogue import PEKALONGAN, FoodCatalogue
from services.aid.photo_store import DirectoryPhotoStore, PhotoStore, S3PhotoStore
from shared.settings import Settings


class AidSettings(Settings):
    service: str = "aid"
    database_url: str = "postgresql://postgres@127.0.0.1:15432/genting_aid"
    # Days after a plan's last day during which its records may still come in (a late record
    # can fill a gap) before it ends incomplete (README, "Plans in time"). 0 = the day after.
    recording_grace_days: int = Field(default=0, ge=0)
    # How far past the day it was handed over a delivery may cover (README).
    delivery_max_ahead_days: int = Field(default=14, ge=0)
    # The proof photos' object store (photo_store.py). With a bucket, an S3-compatible store
    # (MinIO in Compose, any S3 in Kubernetes); else files under GENTING_PHOTO_DIR, or under
    # GENTING_DATA_DIR/photos (what `genting up` sets), or a temporary directory (tests).
    photo_dir: Path | None = None
    data_dir: Path | None = None
    photo_s3_bucket: str | None = None
    photo_s3_endpoint: str | None = None  # e.g. http://minio:9000; unset = AWS
    photo_s3_region: str | None = None
    photo_s3_access_key: SecretStr | None = None
    photo_s3_secret_key: SecretStr | None = None
    # A grievance still open this many days after it was filed is escalated to the city.
    grievance_sla_days: int = Field(default=7, ge=1)
    # Filing without a token, per client address: this many at once, then this many an hour.
    grievance_burst: int = Field(default=5, ge=1)
    grievance_per_hour: float = Field(default=10.0, gt=0)
    # The proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the client
    # for that count: the gateway and the Ingress. From any other peer the header is ignored (a
    # caller could write anything in it). Default loopback only: `genting gateway` on the same host.
    trusted_proxies: str = "127.0.0.1/32,::1/128"

    def trusted_proxy_networks(self) -> list[IPv4Network | IPv6Network]:
        """GENTING_TRUSTED_PROXIES parsed; a malformed entry fails the startup with its name."""
        return [ip_network(entry.strip(), strict=False) for entry in self.trusted_proxies.split(",") if entry.strip()]

    # The city's food catalogue, a JSON file of [{code, name, unit, aliases}] (README, "Food
    # catalogue"); unset, Kota Pekalongan's shipped with the code.
    food_catalogue: Path | None = None

    def catalogue(self) -> FoodCatalogue:
        if self.food_catalogue is None:
            return PEKALONGAN
        return FoodCatalogue.from_json(json.loads(self.food_catalogue.read_text(encoding="utf-8")))

    def plan_rules(self) -> PlanRules:
        return PlanRules(
            catalogue=self.catalogue(),
            daily_minimum_rp=self.daily_minimum_rp,
            distribution_daily_rp=self.distribution_cost_rp,
            days=self.plan_days,
            programme_start=self.programme_start,
            max_ahead_days=self.delivery_max_ahead_days,
            grace_days=self.recording_grace_days,
            hold_days=self.sponsorship_hold_days,
        )

    def photo_store(self) -> PhotoStore:
        if self.photo_s3_bucket:
            return S3PhotoStore(
                self.photo_s3_bucket,
                endpoint_url=self.photo_s3_endpoint or None,  # empty = AWS S3
                access_key=self.photo_s3_access_key.get_secret_value() if self.photo_s3_access_key else None,
                secret_key=self.photo_s3_secret_key.get_secret_value() if self.photo_s3_secret_key else None,
                region=self.photo_s3_region or None,
            )
        if self.photo_dir is not None:
            return DirectoryPhotoStore(self.photo_dir)
        if self.data_dir is not None:
            return DirectoryPhotoStore(self.data_dir / "photos")
        return DirectoryPhotoStore(Path(tempfile.gettempdir()) / "genting-photos")


def load_settings() -> AidSettings:
    return AidSettings.from_env(service="aid")
