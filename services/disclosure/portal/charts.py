"""Inline SVG charts and maps for the portal: pure functions of the data, no JavaScript, no
external assets. Every label is escaped; sizes are in the SVG's own units (it scales)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

WIDTH, HEIGHT, PAD = 640, 240, 36


def bars(
    labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[int]]], title: str
) -> str:
    """Grouped bars: one group per label, one bar per series `(name, css class, values)`."""
    top = max([max(values, default=0) for _, _, values in series] + [1])
    groups = max(len(labels), 1)
    slot = (WIDTH - 2 * PAD) / groups
    bar = slot * 0.8 / max(len(series), 1)
    parts = [_open(title)]
    for i, label in enumerate(labels):
        x0 = PAD + i * slot + slot * 0.1
        for j, (name, css, values) in enumerate(series):
            height = (HEIGHT - 2 * PAD) * values[i] / top
            parts.append(
                f'<rect class="{css}" x="{x0 + j * bar:.1f}" y="{HEIGHT - PAD - height:.1f}"'
                f' width="{bar:.1f}" height="{height:.1f}"><title>{escape(label)} {escape(name)}:'
                f" {values[i]:,}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + slot * 0.4:.1f}" y="{HEIGHT - PAD / 3:.1f}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    parts.append(_axis(top))
    parts.append(_legend([(name, css) for name, css, _ in series]))
    return "".join(parts) + "</svg>"


PRICE_BOTTOM = HEIGHT * 0.6  # the price line above, the volume bars below


def price_volume(
    labels: Sequence[str], prices: Sequence[int], volumes: Sequence[int], title: str
) -> str:
    """Daily prices as a line over their volumes as bars, on one time axis labelled at both
    ends; each point and bar names its day and value."""
    if not prices:
        return _open(title) + "</svg>"
    low, high = min(prices), max(prices)
    span, top = max(high - low, 1), max(max(volumes, default=0), 1)
    slot = (WIDTH - 2 * PAD) / len(prices)
    xs = [PAD + slot * (i + 0.5) for i in range(len(prices))]
    ys = [PRICE_BOTTOM - (PRICE_BOTTOM - PAD) * (p - low) / span for p in prices]
    room = HEIGHT - PAD - (PRICE_BOTTOM + 12)
    parts = [_open(title)]
    for x, label, volume in zip(xs, labels, volumes, strict=True):
        height = room * volume / top
        parts.append(
            f'<rect class="volume" x="{x - slot * 0.35:.1f}" y="{HEIGHT - PAD - height:.1f}"'
            f' width="{slot * 0.7:.1f}" height="{height:.1f}"><title>{escape(label)}:'
            f" {volume:,}</title></rect>"
        )
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    parts.append(f'<polyline class="price" fill="none" points="{points}"/>')
    parts += [
        f'<circle class="price" cx="{x:.1f}" cy="{y:.1f}" r="2"><title>{escape(label)}:'
        f" {price:,}</title></circle>"
        for x, y, label, price in zip(xs, ys, labels, prices, strict=True)
    ]
    parts.append(
        f'<text x="{PAD}" y="{HEIGHT - PAD / 3:.1f}">{escape(labels[0])}</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - PAD / 3:.1f}" text-anchor="end">'
        f"{escape(labels[-1])}</text>"
        f'<text x="4" y="{PAD - 8}">{high:,}</text>'
        f'<text x="4" y="{PRICE_BOTTOM:.1f}">{low:,}</text>'
        f'<text x="4" y="{HEIGHT - PAD}">{top:,}</text>'
    )
    return "".join(parts) + "</svg>"


def parcels(shapes: Sequence[tuple[str, dict[str, Any]]], title: str) -> str:
    """GeoJSON polygons (WGS 84) drawn to scale: longitude shrunk by cos(latitude)."""
    rings = [(name, ring) for name, geometry in shapes for ring in _outer_rings(geometry)]
    if not rings:
        return _open(title) + "</svg>"
    xs = [p[0] for _, r in rings for p in r]
    ys = [p[1] for _, r in rings for p in r]
    shrink = math.cos(math.radians((min(ys) + max(ys)) / 2))
    span = max((max(xs) - min(xs)) * shrink, max(ys) - min(ys), 1e-9)
    scale = (min(WIDTH, HEIGHT) - 2 * PAD) / span
    parts = [_open(title)]
    for name, ring in rings:
        points = " ".join(
            f"{PAD + (x - min(xs)) * shrink * scale:.1f},{HEIGHT - PAD - (y - min(ys)) * scale:.1f}"
            for x, y, *_ in ring
        )
        parts.append(
            f'<polygon class="parcel" points="{points}"><title>{escape(name)}</title></polygon>'
        )
    return "".join(parts) + "</svg>"


def _outer_rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry.get("type") == "MultiPolygon":
        return [polygon[0] for polygon in geometry["coordinates"]]
    return []


def _open(title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        f' aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )


def _axis(top: int) -> str:
    return (
        f'<line class="axis" x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}"/>'
        f'<text x="4" y="{PAD}">{top:,}</text>'
    )


def _legend(entries: Sequence[tuple[str, str]]) -> str:
    return "".join(
        f'<rect class="{css}" x="{WIDTH - 150}" y="{8 + 16 * i}" width="10" height="10"/>'
        f'<text x="{WIDTH - 135}" y="{17 + 16 * i}">{escape(name)}</text>'
        for i, (name, css) in enumerate(entries)
    )
