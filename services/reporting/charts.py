"""Charts as inline SVG, rendered on the server: no script, no CDN, readable offline and on a phone.

Each chart has a fixed viewBox a phone shows at about its natural size (360 units wide, so
12-unit text stays readable); CSS scales it to the column, up to a cap on a desk. Numbers are
formatted by the caller (Indonesian style).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from math import ceil

WIDTH = 360
ROW = 22
LABEL_W = 116
VALUE_W = 56
TICK_LABEL_W = 34  # an "MM-DD" tick label, with room around it
BAR_X = LABEL_W + 4
BAR_W = WIDTH - BAR_X - VALUE_W


@dataclass(frozen=True)
class Series:
    name: str
    css: str  # class of its rects: the stylesheet gives the colour


@dataclass(frozen=True)
class Row:
    label: str
    values: tuple[int, ...]  # one per series; layered, so the first is normally the largest


def _svg(height: float, label: str, body: str, css: str) -> str:
    return (
        f'<svg class="chart {css}" viewBox="0 0 {WIDTH} {height:g}" role="img" aria-label="{escape(label)}"'
        f' xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>{body}</svg>'
    )


def scale(value: int, maximum: int, width: float) -> float:
    """Bar length: proportional, never negative, a sliver for any value above zero."""
    if value <= 0 or maximum <= 0:
        return 0.0
    return round(max(width * min(value, maximum) / maximum, 1.5), 1)


def progress_bar(label: str, target: int, layers: Sequence[tuple[Series, int]]) -> str:
    """One wide bar toward the target; later layers are drawn over earlier (larger) ones."""
    maximum = max([target, *(v for _, v in layers)])
    width, height = WIDTH, 34
    body = f'<rect class="track" x="0" y="4" width="{width}" height="26" rx="6"/>'
    for series, value in layers:
        w = scale(value, maximum, width)
        body += (
            f'<rect class="{series.css}" x="0" y="4" width="{w:g}" height="26" rx="6">'
            f"<title>{escape(series.name)}: {value}</title></rect>"
        )
    if maximum > target:  # beyond the target: show where it was
        x = round(width * target / maximum, 1)
        body += f'<line class="target" x1="{x:g}" x2="{x:g}" y1="0" y2="{height}"/>'
    return _svg(height, label, body, "progress")


def hbars(
    label: str,
    rows: Sequence[Row],
    series: Sequence[Series],
    fmt: Callable[[int], str] = str,
    maximum: int | None = None,
) -> str:
    """Horizontal layered bars, one row per item; the value printed is the first series'."""
    top = maximum if maximum is not None else max([1, *(v for r in rows for v in r.values)])
    body = ""
    for i, row in enumerate(rows):
        y = i * ROW
        body += f'<g class="row"><text class="label" x="{LABEL_W}" y="{y + 15}" text-anchor="end">'
        body += f"{escape(row.label)}</text>"
        body += f'<rect class="track" x="{BAR_X}" y="{y + 4}" width="{BAR_W}" height="14" rx="3"/>'
        for s, value in zip(series, row.values, strict=True):
            body += (
                f'<rect class="{s.css}" x="{BAR_X}" y="{y + 4}" width="{scale(value, top, BAR_W):g}"'
                f' height="14" rx="3"><title>{escape(row.label)} — {escape(s.name)}: {escape(fmt(value))}'
                f"</title></rect>"
            )
        first = row.values[0] if row.values else 0
        body += f'<text class="value" x="{WIDTH - 2}" y="{y + 15}" text-anchor="end">{escape(fmt(first))}</text></g>'
    return _svg(max(len(rows), 1) * ROW, label, body, "hbars")


def columns(label: str, points: Sequence[tuple[str, int]], fmt: Callable[[int], str] = str) -> str:
    """Vertical bars over time (one per day); as many x labels as fit without touching, y max on top."""
    height, base, left = 170, 148, 34
    plot_w = WIDTH - left - 4
    top = max([1, *(v for _, v in points)])
    step = plot_w / max(len(points), 1)
    tick_every = max(1, ceil(TICK_LABEL_W / step))
    body = (
        f'<line class="axis" x1="{left}" x2="{WIDTH - 4}" y1="{base}" y2="{base}"/>'
        f'<text class="tick" x="{left - 4}" y="16" text-anchor="end">{escape(fmt(top))}</text>'
        f'<text class="tick" x="{left - 4}" y="{base}" text-anchor="end">0</text>'
    )
    if not points:
        body += f'<text class="empty" x="{WIDTH / 2:g}" y="{base / 2:g}" text-anchor="middle">belum ada data</text>'
    for i, (day, value) in enumerate(points):
        x = round(left + i * step + step * 0.15, 1)
        h = scale(value, top, base - 12)
        body += (
            f'<rect class="col" x="{x:g}" y="{base - h:g}" width="{max(step * 0.7, 1):.1f}" height="{h:g}">'
            f"<title>{escape(day)}: {escape(fmt(value))}</title></rect>"
        )
        last = len(points) - 1
        # Every `tick_every`-th day, and the last one unless it would touch the tick before it.
        if i % tick_every == 0 or (i == last and (last % tick_every) * step >= TICK_LABEL_W):
            body += (
                f'<text class="tick" x="{x + step * 0.35:.1f}" y="{base + 16}" text-anchor="middle">'
                f"{escape(day[5:])}</text>"
            )
    return _svg(height, label, body, "columns")
