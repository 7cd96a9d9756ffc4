"""The portal's words and pictures: both languages complete, SVG text escaped, shapes to scale."""

from __future__ import annotations

import re
from pathlib import Path

from services.disclosure.portal import charts
from services.disclosure.portal.i18n import TEXTS

TEMPLATES = Path(__file__).resolve().parents[2] / "services/disclosure/portal/templates"


def test_every_word_the_templates_use_exists_in_both_languages() -> None:
    used = {
        key
        for template in TEMPLATES.glob("*.html")
        for key in re.findall(r"t\('([a-z_A-Z]+)'\)", template.read_text())
    }
    assert used, "no translated words found in the templates"
    assert used <= set(TEXTS), sorted(used - set(TEXTS))
    for key, (zh, en) in TEXTS.items():
        assert zh.strip() and en.strip(), key
        assert zh != en or key in {"QP", "WJ", "JS"}, key


def test_chart_labels_are_escaped() -> None:
    svg = charts.bars(["<script>"], [("a&b", "issued", [3])], "t<")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a&amp;b" in svg


def test_parcels_keep_their_proportions() -> None:
    square = {
        "type": "Polygon",
        "coordinates": [
            [[121.0, 31.0], [121.01, 31.0], [121.01, 31.01], [121.0, 31.01], [121.0, 31.0]]
        ],
    }
    svg = charts.parcels([("A1", square)], "map")
    points = [
        tuple(map(float, p.split(",")))
        for p in re.search(r'points="([^"]+)"', svg).group(1).split()
    ]  # type: ignore[union-attr]
    width = max(x for x, _ in points) - min(x for x, _ in points)
    height = max(y for _, y in points) - min(y for _, y in points)
    assert 0.8 < width / height < 0.9  # a degree of longitude is cos(31°) ≈ 0.857 of latitude


def test_the_price_volume_chart_draws_each_day_to_scale() -> None:
    svg = charts.price_volume(["d<1", "d2", "d3"], [100, 300, 200], [10, 0, 40], "p&v")
    assert "d&lt;1" in svg and "p&amp;v" in svg and "d<1" not in svg
    heights = [float(h) for h in re.findall(r'class="volume"[^>]*height="([0-9.]+)"', svg)]
    assert len(heights) == 3 and heights[1] == 0 and heights[2] == 4 * heights[0]
    ys = [float(y) for y in re.findall(r'<circle class="price"[^>]*cy="([0-9.]+)"', svg)]
    assert ys[1] < ys[2] < ys[0]  # higher prices are drawn higher (smaller y)
    assert charts.price_volume([], [], [], "empty").endswith("</svg>")
