"""SVG charts: well-formed, proportional, escaped, and honest about zero and empty data."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import pairwise

from services.reporting.charts import BAR_W, TICK_LABEL_W, WIDTH, Row, Series, columns, hbars, progress_bar, scale

NS = "{http://www.w3.org/2000/svg}"
A, B = Series("Masuk program", "l1"), Series("Tuntas", "l3")


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on anything that is not well-formed XML


def rects(svg: ET.Element, css: str) -> list[ET.Element]:
    return [r for r in svg.iter(f"{NS}rect") if r.get("class") == css]


def test_bar_lengths_are_proportional_with_a_sliver_for_small_values_and_none_for_zero() -> None:
    assert scale(50, 100, 200) == 100
    assert scale(1, 100_000, 200) == 1.5
    assert scale(0, 100, 200) == 0 and scale(5, 0, 200) == 0
    assert scale(300, 100, 200) == 200  # clamped


def test_hbars_draw_one_row_per_item_layered_and_scaled_to_the_largest() -> None:
    svg = parse(hbars("per kelurahan", [Row("Medono", (10, 5)), Row("Kauman", (5, 0))], [A, B]))
    assert svg.get("role") == "img" and svg.find(f"{NS}title").text == "per kelurahan"  # type: ignore[union-attr]
    widths = [float(r.get("width", "0")) for r in rects(svg, "l1")]
    assert widths == [BAR_W, BAR_W / 2]
    assert [float(r.get("width", "0")) for r in rects(svg, "l3")] == [BAR_W / 2, 0]
    assert [t.text for t in svg.iter(f"{NS}text") if t.get("class") == "value"] == ["10", "5"]


def test_labels_are_escaped() -> None:
    svg = hbars("<b>", [Row("A & B <script>", (1,))], [A])
    assert "<script>" not in svg
    assert next(t.text for t in parse(svg).iter(f"{NS}text")) == "A & B <script>"


def test_the_progress_bar_marks_the_target_once_it_is_exceeded() -> None:
    within = parse(progress_bar("x", 1330, [(A, 665)]))
    assert float(rects(within, "l1")[0].get("width", "0")) == WIDTH / 2
    assert not list(within.iter(f"{NS}line"))
    beyond = parse(progress_bar("x", 100, [(A, 200)]))
    [target] = list(beyond.iter(f"{NS}line"))
    assert float(target.get("x1", "0")) == WIDTH / 2


def test_columns_show_one_bar_per_day_and_say_so_when_there_is_no_data() -> None:
    svg = parse(columns("per hari", [("2025-01-01", 2), ("2025-01-02", 0), ("2025-01-03", 4)]))
    heights = [float(r.get("height", "0")) for r in rects(svg, "col")]
    assert len(heights) == 3 and heights[1] == 0 and heights[2] == 2 * heights[0]
    empty = columns("per hari", [])
    assert "belum ada data" in empty and parse(empty) is not None


def test_day_labels_never_touch_however_many_days_are_shown() -> None:
    for days in (1, 7, 31, 60, 120):
        points = [(f"2025-{1 + i // 28:02d}-{1 + i % 28:02d}", i % 5) for i in range(days)]
        ticks = [
            float(t.get("x", "0"))
            for t in parse(columns("x", points)).iter(f"{NS}text")
            if t.get("class") == "tick" and t.get("text-anchor") == "middle"
        ]
        assert ticks and all(b - a >= TICK_LABEL_W for a, b in pairwise(ticks)), (days, ticks)
