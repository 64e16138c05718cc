"""Fixtures for the pure rendering tests: the hand-made reports of reporting_samples."""

from __future__ import annotations

import pytest
from reporting_samples import city_progress, sample_aid, sample_funding

from services.reporting.reports import AidReport, FundingReport
from shared.contracts.reporting import CityProgress


@pytest.fixture
def progress() -> CityProgress:
    return city_progress()


@pytest.fixture
def funding() -> FundingReport:
    return sample_funding()


@pytest.fixture
def aid() -> AidReport:
    return sample_aid()
