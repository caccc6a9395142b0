"""Plain-text rendering shared by the commands: tables, durations, status colours, JSON."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

from pydantic import BaseModel

_COLOURS = {
    "succeeded": "32",
    "failed": "31",
    "running": "36",
    "retrying": "33",
    "cancelling": "35",
    "cancelled": "35",
    "interrupted": "35",
    "skipped": "2",
    "pending": "2",
    "queued": "2",
}

_SYMBOLS = {
    "succeeded": "✓",
    "failed": "✗",
    "running": "▶",
    "retrying": "↻",
    "cancelling": "⊖",
    "cancelled": "⊘",
    "interrupted": "!",
    "skipped": "-",
    "pending": "·",
    "queued": "·",
}


def is_terminal(stream: TextIO) -> bool:
    return hasattr(stream, "isatty") and stream.isatty()


def colour_enabled(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    return is_terminal(stream)


def status_text(status: str, stream: TextIO = sys.stdout) -> str:
    text = f"{_SYMBOLS.get(status, '?')} {status}"
    code = _COLOURS.get(status)
    if code and colour_enabled(stream):
        return f"\x1b[{code}m{text}\x1b[0m"
    return text


def visible_len(text: str) -> int:
    """Length without ANSI colour codes."""
    length, inside = 0, False
    for char in text:
        if char == "\x1b":
            inside = True
        elif inside and char == "m":
            inside = False
        elif not inside:
            length += 1
    return length


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], visible_len(cell))
    lines = []
    for row in [list(headers), *rows]:
        cells = [cell + " " * (widths[i] - visible_len(cell)) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def timestamp(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def dump_json(value: BaseModel | Sequence[BaseModel] | dict[str, Any], out: TextIO) -> None:
    if isinstance(value, BaseModel):
        data: Any = value.model_dump(mode="json")
    elif isinstance(value, dict):
        data = value
    else:
        data = [item.model_dump(mode="json") for item in value]
    out.write(json.dumps(data, indent=2) + "\n")
    out.flush()


def listed_as_json_or_none(
    items: Sequence[BaseModel], out: TextIO, *, as_json: bool, none: str
) -> bool:
    """What a listing command prints before its table: the items as JSON (--json), or the line
    `none` when there are none. True when that is all there is to print."""
    if as_json:
        dump_json(items, out)
        return True
    if not items:
        print(none, file=out, flush=True)
        return True
    return False
