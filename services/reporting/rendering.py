"""The Jinja2 environment of the dashboard and its charts: templates under `templates/` (shipped as
package data), autoescaped, so a name or label from an event can never become markup."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from services.reporting.formatting import number, percent, rupiah, rupiah_short


def _g(x: float) -> str:
    """A coordinate as SVG wants it: 120, 60.5 (no trailing .0)."""
    return f"{x:g}"


TEMPLATES = Environment(
    loader=PackageLoader("services.reporting", "templates"),
    # .html and .svg are escaped; the stylesheet (included as-is) is not an expression, so it is never touched.
    autoescape=select_autoescape(["html", "svg"], default_for_string=True, default=True),
    undefined=StrictUndefined,  # a misspelt name fails the render (and the tests), never shows as blank
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
TEMPLATES.filters.update(number=number, percent=percent, rupiah=rupiah, rupiah_short=rupiah_short, g=_g)


def render(template: str, **context: Any) -> str:
    return TEMPLATES.get_template(template).render(**context)


def macro(template: str, name: str, **arguments: Any) -> Markup:
    """One macro of a template, called from Python (the charts): its output is already safe markup."""
    result: Markup = getattr(TEMPLATES.get_template(template).module, name)(**arguments)
    return result
