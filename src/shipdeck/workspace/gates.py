"""Promotion gates as written in the workspace file, parsed into GateSpecs.

metric:auc >= 0.80       the revision's metric compared with a number
pipeline:ci succeeded    the run that built the revision is a successful run of `ci`
soak:staging 10m         the revision has been current in staging for at least 10 minutes
"""

from __future__ import annotations

import math
import re

from shipdeck.model import GateKind, GateSpec
from shipdeck.workspace.durations import parse_duration

OPERATORS = (">=", "<=", "==", "!=", ">", "<")

_METRIC = re.compile(r"metric:\s*([A-Za-z0-9_.:/-]+)\s*(>=|<=|==|!=|>|<)\s*(\S+)")
_PIPELINE = re.compile(r"pipeline:\s*([A-Za-z0-9][A-Za-z0-9_-]*)\s+succeeded")
_SOAK = re.compile(r"soak:\s*([A-Za-z0-9][A-Za-z0-9_-]*)\s+(\S.*)")
_FORMS = "'metric:KEY OP NUMBER', 'pipeline:NAME succeeded' or 'soak:ENV DURATION'"


def parse_gate(text: str) -> GateSpec:
    """The gate `text` describes; raises ValueError with a one-line explanation otherwise."""
    stripped = text.strip()
    kind, _, _ = stripped.partition(":")
    if kind == GateKind.METRIC:
        return _metric(text, stripped)
    if kind == GateKind.PIPELINE:
        match = _PIPELINE.fullmatch(stripped)
        if match is None:
            raise ValueError(f"bad gate {text!r}: expected 'pipeline:NAME succeeded'")
        return GateSpec(text=stripped, kind=GateKind.PIPELINE, pipeline=match.group(1))
    if kind == GateKind.SOAK:
        match = _SOAK.fullmatch(stripped)
        if match is None:
            raise ValueError(
                f"bad gate {text!r}: expected 'soak:ENV DURATION' like 'soak:staging 10m'"
            )
        try:
            seconds = parse_duration(match.group(2).strip())
        except ValueError as error:
            raise ValueError(f"bad gate {text!r}: {error}") from None
        return GateSpec(
            text=stripped, kind=GateKind.SOAK, environment=match.group(1), seconds=seconds
        )
    raise ValueError(f"bad gate {text!r}: expected {_FORMS}")


def _metric(text: str, stripped: str) -> GateSpec:
    match = _METRIC.fullmatch(stripped)
    if match is None:
        raise ValueError(
            f"bad gate {text!r}: expected 'metric:KEY OP NUMBER' with OP one of"
            f" {' '.join(OPERATORS)}"
        )
    try:
        threshold = float(match.group(3))
    except ValueError:
        raise ValueError(f"bad gate {text!r}: {match.group(3)!r} is not a number") from None
    if not math.isfinite(threshold):
        raise ValueError(f"bad gate {text!r}: the threshold must be a finite number")
    return GateSpec(
        text=stripped,
        kind=GateKind.METRIC,
        metric=match.group(1),
        op=match.group(2),
        threshold=threshold,
    )
