"""The Pekalongan demo (`genting up --demo`): its dataset (`dataset.py`: pure, seeded, no I/O) and
its loader (`loader.py`: the dataset through the services' HTTP APIs, and which demo a data dir
holds). The names below are what `genting up`, `genting simulate` and the tests use."""

from genting.demo.dataset import (
    DAILY_MINIMUM_RP,
    DEFAULT_FAMILIES,
    FOODS,
    INTERVENTIONS,
    PLAN_MINIMUM_RP,
    SEED,
    TOPICS,
    Dataset,
    Family,
    build,
    family,
)
from genting.demo.loader import DatasetChanged, LoadReport, ProgressLine, each, load, remembered, summary, today

__all__ = [
    "DAILY_MINIMUM_RP",
    "DEFAULT_FAMILIES",
    "FOODS",
    "INTERVENTIONS",
    "PLAN_MINIMUM_RP",
    "SEED",
    "TOPICS",
    "Dataset",
    "DatasetChanged",
    "Family",
    "LoadReport",
    "ProgressLine",
    "build",
    "each",
    "family",
    "load",
    "remembered",
    "summary",
    "today",
]
