"""The Pekalongan demo (`genting up --demo`): its dataset (`dataset.py`: pure, seeded, no I/O, a
programme seven months in, made of the records in `records.py`), late entry of a dataset in
effective-date order (`entry.py`, shared with `genting simulate`) and the loader (`loader.py`:
which demo a data dir holds, and loading it). The names below are what `genting up`, `genting
simulate` and the tests use."""

from genting.demo.dataset import build, family
from genting.demo.entry import Entered, Entry, Outcome, each
from genting.demo.loader import (
    DatasetChanged,
    LoadReport,
    ProgressLine,
    load,
    programme_start,
    remembered,
    summary,
    today,
)
from genting.demo.names import FOODS, INTERVENTIONS, TOPICS
from genting.demo.records import (
    DAILY_MINIMUM_RP,
    DEFAULT_FAMILIES,
    PLAN_DAYS,
    PLAN_MINIMUM_RP,
    PROGRAMME_DAYS,
    SEED,
    Dataset,
    Family,
    Step,
)

__all__ = [
    "DAILY_MINIMUM_RP",
    "DEFAULT_FAMILIES",
    "FOODS",
    "INTERVENTIONS",
    "PLAN_DAYS",
    "PLAN_MINIMUM_RP",
    "PROGRAMME_DAYS",
    "SEED",
    "TOPICS",
    "Dataset",
    "DatasetChanged",
    "Entered",
    "Entry",
    "Family",
    "LoadReport",
    "Outcome",
    "ProgressLine",
    "Step",
    "build",
    "each",
    "family",
    "load",
    "programme_start",
    "remembered",
    "summary",
    "today",
]
