"""What the terminal shows, as text lines, read from the app's own SVG export (public API):
a check that a label, an outcome or a key is on screen, not just mounted somewhere."""

from __future__ import annotations

import html
import re
from typing import Any

CELL_WIDTH = 12.2
"""Pixels per cell in Rich's SVG export."""
_TEXT = re.compile(
    r'<text class="[^"]*" x="([0-9.]+)" y="[0-9.]+" textLength="[0-9.]+" '
    r'clip-path="url\(#[^)]*-line-(\d+)\)">([^<]*)</text>'
)


def screen_lines(app: Any) -> list[str]:
    width, height = app.size
    rows = [[" "] * width for _ in range(height)]
    for x, line, content in _TEXT.findall(app.export_screenshot()):
        column = round(float(x) / CELL_WIDTH)
        row = int(line)
        for offset, char in enumerate(html.unescape(content).replace("\xa0", " ")):
            if row < height and 0 <= column + offset < width:
                rows[row][column + offset] = char
    return ["".join(row).rstrip() for row in rows]


def screen_text(app: Any) -> str:
    return "\n".join(screen_lines(app))
