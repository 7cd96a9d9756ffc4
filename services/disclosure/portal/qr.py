"""A QR code of a page's URL as inline SVG (no script, no external image): printed on a
product's label, it leads a phone to the label's public verification page."""

from __future__ import annotations

import io

import segno


def qr_svg(url: str, title: str) -> str:
    code = segno.make(url, error="m")
    out = io.BytesIO()
    code.save(out, kind="svg", scale=4, border=2, xmldecl=False, svgns=True, title=title)
    return out.getvalue().decode()
