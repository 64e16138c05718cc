"""The main README's walk of one delivery, from `POST /plans/{id}/deliveries` to the dashboard,
holds for the code: at most eight files outside shared/, each opened once, each named in a file
before it (so the reader never has to go back), starting at the delivery's route and ending at
the dashboard's template, with the dashboard's route on the way."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.routing import APIRoute

ROOT = Path(__file__).resolve().parents[2]
MOST_FILES = 8


def walk() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("#### One delivery, from the route to the dashboard", 1)[1].split("\n#", 1)[0]
    return re.findall(r"^\d+\. `([^`]+)`", section, flags=re.MULTILINE)


def route_file(service: str, method: str, path: str) -> str:
    """The file, under services/<service>/, whose route answers `method path`."""
    found = set()
    for module_file in sorted((ROOT / "services" / service).glob("*.py")):
        router = getattr(importlib.import_module(f"services.{service}.{module_file.stem}"), "router", None)
        if isinstance(router, APIRouter):
            found |= {
                r.endpoint.__module__
                for r in router.routes
                if isinstance(r, APIRoute) and r.path == path and method in (r.methods or set())
            }
    assert len(found) == 1, f"{method} {path}: {found}"
    return found.pop().replace(".", "/") + ".py"


def names_of(step: str) -> tuple[str, ...]:
    """How a file before it may name a step: its path, or, inside its own service, its path in the
    service (`views.py`, `domain/plan.py`, `templates/dashboard.html`), its module, or a template's name."""
    service_dir = "/".join(step.split("/")[:2])
    inside = step.removeprefix(service_dir + "/")
    names = [inside, step.removesuffix(".py").replace("/", ".")]
    if inside.startswith("templates/"):
        names.append(inside.removeprefix("templates/"))
    return tuple(names)


def test_the_walk_opens_at_most_eight_files_outside_shared_each_once() -> None:
    steps = walk()
    assert 0 < len(steps) <= MOST_FILES, steps
    assert len(set(steps)) == len(steps), "a file opened twice is going back"
    for step in steps:
        assert not step.startswith("shared/"), step
        assert (ROOT / step).is_file(), step


def test_the_walk_runs_from_the_delivery_route_through_the_dashboard_route_to_its_template() -> None:
    steps = walk()
    assert steps[0] == route_file("aid", "POST", "/plans/{plan_id}/deliveries")
    assert route_file("reporting", "GET", "/") in steps
    assert steps[-1] == "services/reporting/templates/dashboard.html"


def test_each_step_is_named_in_a_file_before_it() -> None:
    steps = walk()
    for i, step in enumerate(steps[1:], start=1):
        service_dir = "/".join(step.split("/")[:2])
        before = [(s, (ROOT / s).read_text()) for s in steps[:i]]
        named = any(
            step in text or (s.startswith(service_dir + "/") and any(n in text for n in names_of(step)))
            for s, text in before
        )
        assert named, f"{step} is named in none of {steps[:i]}"
