"""Metric names in the workspace file: only names a task can report are worth a direction."""

from __future__ import annotations

import re

from shipdeck.workspace.problems import Problems

METRIC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/]*")
"""What a task may report (`::metric KEY=VALUE`, or a key in $SHIPDECK_METRICS): the engine
ignores other keys, so a direction for one (`"p95 ms" = "min"`) would never apply."""
_RULE = (
    "metric names start with a letter or '_' and use only letters, digits, '_', '.', '-'"
    " and '/' (as tasks report them)"
)


def known_metric_names(raw: object, problems: Problems) -> object:
    """`raw` ([metrics]) without the keys that cannot be metric names, each reported."""
    if not isinstance(raw, dict):
        return raw  # the section's own loader says what it should be
    kept: dict[str, object] = {}
    for name, value in raw.items():
        if METRIC_NAME.fullmatch(name):
            kept[name] = value
        else:
            problems.add(("metrics", name), _RULE)
    return kept
