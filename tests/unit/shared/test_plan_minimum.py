"""The minimum that opens a plan (DOMAIN.md: "Other regions pay more (Maluku: Rp20,000 +
Rp5,000 distribution) ... both are configuration"): one function, read by every service."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.programme import Programme, family_minimum_rp
from shared.settings import Settings


@pytest.fixture(autouse=True)
def no_programme_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PLAN_DAYS", "DAILY_MINIMUM_RP", "DISTRIBUTION_COST_RP"):
        monkeypatch.delenv(f"GENTING_{name}", raising=False)


def test_the_minimum_is_food_and_distribution_for_every_day() -> None:
    assert family_minimum_rp(20_000, 180, distribution_daily_rp=5_000) == 4_500_000
    assert family_minimum_rp(15_000, 180, distribution_daily_rp=0) == 2_700_000


def test_without_a_distribution_cost_the_minimum_is_the_food_alone_as_before() -> None:
    settings = Settings()
    assert settings.distribution_cost_rp == 0
    assert settings.plan_minimum_rp() == 2_700_000
    assert Programme.from_settings(settings).family_minimum_rp == 2_700_000


def test_maluku_configures_food_and_distribution() -> None:
    settings = Settings(daily_minimum_rp=20_000, distribution_cost_rp=5_000)
    programme = Programme.from_settings(settings)
    assert (programme.daily_minimum_rp, programme.distribution_daily_rp) == (20_000, 5_000)
    assert settings.plan_minimum_rp() == programme.family_minimum_rp == 4_500_000


def test_the_setting_comes_from_the_environment_and_is_never_negative(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENTING_DISTRIBUTION_COST_RP", "5000")
    assert Settings().distribution_cost_rp == 5_000
    with pytest.raises(ValidationError, match="distribution_cost_rp"):
        Settings(distribution_cost_rp=-1)
