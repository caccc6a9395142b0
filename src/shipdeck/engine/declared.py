"""Looking up what the workspace declares by name, with one wording when it is not there."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from shipdeck.errors import NotFound

T = TypeVar("T")


def declared(table: Mapping[str, T], name: str, what: str, where: str, none: str = "none") -> T:
    """`table[name]`, or NotFound naming the ones declared: `no pipeline 'x' in shipdeck.toml
    (pipelines: build, train)`; `none` says what to write when there are none."""
    found = table.get(name)
    if found is None:
        known = ", ".join(table) or none
        raise NotFound(f"no {what} {name!r} in {where} ({what}s: {known})")
    return found
