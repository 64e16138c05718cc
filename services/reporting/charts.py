"""Charts as inline SVG, rendered on the server: no script, no CDN, readable offline and on a phone.

Each chart has a fixed viewBox a phone shows at about its natural size (360 units wide, so
12-unit text stays readable); CSS scales it to the column, up to a cap on a desk. Here is the
geometry (pure arithmetic); `templates/charts.svg` draws it, autoescaped. Numbers are formatted
by the caller (Indonesian style).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import ceil

from markupsafe import Markup

from services.reporting.rendering import macro

WIDTH = 360
ROW = 22
LABEL_W = 116
VALUE_W = 56
TICK_LABEL_W = 34  # an "MM-DD" tick label, with room around it
BAR_X = LABEL_W + 4
BAR_W = WIDTH - BAR_X - VALUE_W
CHARTS = "charts.svg"


@dataclass(frozen=True)
class Series:
    name: str
    css: str  # class of its rects: the stylesheet gives the colour


@dataclass(frozen=True)
class Row:
    label: str
    values: tuple[int, ...]  # one per series; layered, so the first is normally the largest


@dataclass(frozen=True)
class Bar:
    """One rect of a chart and its tooltip."""

    css: str
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class BarRow:
    """One row of horizontal bars: its label, its layered bars, the value printed at its end."""

    y: int
    label: str
    bars: list[Bar]
    value: str


@dataclass(frozen=True)
class Tick:
    x: float
    text: str


def scale(value: int, maximum: int, width: float) -> float:
    """Bar length: proportional, never negative, a sliver for any value above zero."""
    if value <= 0 or maximum <= 0:
        return 0.0
    return round(max(width * min(value, maximum) / maximum, 1.5), 1)


def progress_bar(label: str, target: int, layers: Sequence[tuple[Series, int]]) -> Markup:
    """One wide bar toward the target; later layers are drawn over earlier (larger) ones."""
    maximum = max([target, *(v for _, v in layers)])
    bars = [Bar(s.css, 0, 4, scale(value, maximum, WIDTH), 26, f"{s.name}: {value}") for s, value in layers]
    # Beyond the target: a line shows where it was.
    target_x = round(WIDTH * target / maximum, 1) if maximum > target else None
    return macro(CHARTS, "progress_bar", label=label, width=WIDTH, height=34, bars=bars, target_x=target_x)


def hbars(
    label: str,
    rows: Sequence[Row],
    series: Sequence[Series],
    fmt: Callable[[int], str] = str,
    maximum: int | None = None,
) -> Markup:
    """Horizontal layered bars, one row per item; the value printed is the first series'."""
    top = maximum if maximum is not None else max([1, *(v for r in rows for v in r.values)])
    drawn = [
        BarRow(
            y=i * ROW,
            label=row.label,
            bars=[
                Bar(s.css, BAR_X, i * ROW + 4, scale(value, top, BAR_W), 14, f"{row.label} — {s.name}: {fmt(value)}")
                for s, value in zip(series, row.values, strict=True)
            ],
            value=fmt(row.values[0] if row.values else 0),
        )
        for i, row in enumerate(rows)
    ]
    return macro(
        CHARTS,
        "hbars",
        label=label,
        width=WIDTH,
        height=max(len(rows), 1) * ROW,
        rows=drawn,
        label_w=LABEL_W,
        bar_x=BAR_X,
        bar_w=BAR_W,
    )


def _over_time(
    kind: str, label: str, frame: tuple[int, int, int], top: str, ticks: list[Tick], **marks: object
) -> Markup:
    """What every chart over time draws alike: its frame (height, the baseline's y, the y axis's x),
    the y maximum printed on top and the x axis's ticks; `marks` are the chart's own."""
    height, base, left = frame
    return macro(
        CHARTS, kind, label=label, width=WIDTH, height=height, base=base, left=left, top=top, ticks=ticks, **marks
    )


def _short_day(day: str) -> str:
    return day[5:]  # "2025-03-01" -> "03-01"


def columns(
    label: str,
    points: Sequence[tuple[str, int]],
    fmt: Callable[[int], str] = str,
    tick: Callable[[str], str] = _short_day,
) -> Markup:
    """Vertical bars over time (one per day, week or month); as many x labels as fit without
    touching, y max on top. `tick` shortens a point's label for the x axis."""
    height, base, left = 170, 148, 34
    plot_w = WIDTH - left - 4
    top = max([1, *(v for _, v in points)])
    step = plot_w / max(len(points), 1)
    tick_every = max(1, ceil(TICK_LABEL_W / step))
    bars, ticks = [], []
    last = len(points) - 1
    for i, (day, value) in enumerate(points):
        x = round(left + i * step + step * 0.15, 1)
        h = scale(value, top, base - 12)
        bars.append(Bar("col", x, base - h, round(max(step * 0.7, 1), 1), h, f"{day}: {fmt(value)}"))
        # Every `tick_every`-th day, and the last one unless it would touch the tick before it.
        if i % tick_every == 0 or (i == last and (last % tick_every) * step >= TICK_LABEL_W):
            ticks.append(Tick(round(x + step * 0.35, 1), tick(day)))
    return _over_time("columns", label, (height, base, left), fmt(top), ticks, bars=bars)


@dataclass(frozen=True)
class Line:
    """One series of a line chart: its polyline and its raw values (for a test to hold to the API)."""

    css: str
    name: str
    points: str  # "x,y x,y ..."
    values: str  # "3,5,8": one per x, as given
    last_x: float
    last_y: float
    last: str


def lines(
    label: str,
    xs: Sequence[str],
    series: Sequence[tuple[Series, Sequence[int]]],
    target: int | None = None,
    fmt: Callable[[int], str] = str,
    tick: Callable[[str], str] = _short_day,
) -> Markup:
    """A burn-up: cumulative series over time as lines, against a horizontal target line."""
    height, base, left, right = 190, 166, 40, 8
    plot_w = WIDTH - left - right
    top = max([1, target or 0, *(v for _, values in series for v in values)])
    step = plot_w / max(len(xs) - 1, 1)

    def y(value: int) -> float:
        return round(base - (base - 14) * max(value, 0) / top, 1)

    drawn = []
    for s, values in series:
        coords = [(round(left + i * step, 1), y(v)) for i, v in enumerate(values)]
        drawn.append(
            Line(
                css=s.css,
                name=s.name,
                points=" ".join(f"{cx:g},{cy:g}" for cx, cy in coords),
                values=",".join(str(v) for v in values),
                last_x=coords[-1][0] if coords else left,
                last_y=coords[-1][1] if coords else base,
                last=f"{s.name}: {fmt(values[-1])}" if values else s.name,
            )
        )
    tick_every = max(1, ceil(TICK_LABEL_W / step)) if xs else 1
    ticks = [Tick(round(left + i * step, 1), tick(x)) for i, x in enumerate(xs) if i % tick_every == 0]
    return _over_time(
        "lines",
        label,
        (height, base, left),
        fmt(top),
        ticks,
        lines=drawn,
        target_y=y(target) if target else None,
        target=fmt(target) if target else "",
    )
