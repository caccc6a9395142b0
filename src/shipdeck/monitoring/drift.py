"""Data drift between a reference data set and a current one, column by column.

The rules are the defaults of the common drift tools (Evidently's data drift preset):

- reference of at most 1,000 rows: the two-sample Kolmogorov-Smirnov test for numeric columns,
  Pearson's chi-square test for categorical ones (and numeric ones with at most 5 distinct
  values); the column drifts when p < 0.05. `score` is the p-value.
- more than 1,000 rows: the Wasserstein distance divided by the reference's standard deviation
  for numeric columns, the Jensen-Shannon distance of the category frequencies for categorical
  ones (and numeric ones with at most 5 distinct values); the column drifts when the distance
  is >= 0.1. `score` is the distance.
- the population stability index (PSI) alongside, over ten bins at the reference's deciles
  (categories for categorical columns): >= 0.1 is a moderate shift, >= 0.25 a significant one.
- the data set drifts when at least half of its columns do (`share`).

The statistics are scipy's (`scipy.stats`, `scipy.spatial.distance`); this module only
prepares the arrays and applies the thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats
from scipy.spatial import distance

from shipdeck.errors import InvalidInput
from shipdeck.monitoring.tables import Table

SMALL_SAMPLE = 1000
"""Up to this many reference rows, statistical tests; above it, distances."""
P_VALUE = 0.05
DISTANCE = 0.1
SHARE = 0.5
FEW_VALUES = 5
"""A numeric column with at most this many distinct values is compared as categories."""
PSI_BINS = 10
PSI_MODERATE = 0.1
PSI_SIGNIFICANT = 0.25
_PSI_FLOOR = 1e-4
"""Empty bins count as this share, so the logarithm stays finite (the usual convention)."""

Method = Literal["ks", "chi-square", "wasserstein", "jensen-shannon"]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    kind: Literal["numeric", "categorical"]
    method: Method
    score: float
    """The p-value of a test, or the distance."""
    threshold: float
    drifted: bool
    psi: float
    reference_rows: int
    current_rows: int

    @property
    def psi_level(self) -> str:
        if self.psi >= PSI_SIGNIFICANT:
            return "significant"
        return "moderate" if self.psi >= PSI_MODERATE else "none"

    def as_json(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "method": self.method,
            "score": self.score,
            "threshold": self.threshold,
            "drift_when": "score < threshold" if _is_test(self.method) else "score >= threshold",
            "drifted": self.drifted,
            "psi": self.psi,
            "psi_level": self.psi_level,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
        }


@dataclass(frozen=True)
class DriftReport:
    reference: str
    current: str
    columns: list[ColumnDrift] = field(default_factory=list)

    @property
    def drifted_columns(self) -> int:
        return sum(column.drifted for column in self.columns)

    @property
    def share(self) -> float:
        return self.drifted_columns / len(self.columns) if self.columns else 0.0

    @property
    def drifted(self) -> bool:
        return bool(self.columns) and self.share >= SHARE

    def as_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "current": self.current,
            "drifted": self.drifted,
            "drift_share": self.share,
            "drifted_columns": self.drifted_columns,
            "share_threshold": SHARE,
            "columns": [column.as_json() for column in self.columns],
        }


def _is_test(method: Method) -> bool:
    return method in ("ks", "chi-square")


def compare_tables(
    reference: Table, current: Table, columns: list[str] | None = None
) -> DriftReport:
    """The drift of every column of `reference` (or of `columns`) in `current`."""
    names = columns if columns else list(reference.columns)
    for name in names:
        if name not in reference.columns:
            raise InvalidInput(
                f"{reference.path}: no column {name!r} (it has: {_names(reference)})"
            )
        if name not in current.columns:
            raise InvalidInput(
                f"{current.path}: no column {name!r}, which {reference.path.name} has"
                f" (it has: {_names(current)})"
            )
    report = DriftReport(str(reference.path), str(current.path))
    for name in names:
        report.columns.append(column_drift(name, reference, current))
    return report


def _names(table: Table) -> str:
    shown = list(table.columns)[:10]
    more = len(table.columns) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def column_drift(name: str, reference: Table, current: Table) -> ColumnDrift:
    ref, cur = reference.columns[name], current.columns[name]
    ref_present, cur_present = ref.present(), cur.present()
    if not len(ref_present):
        raise InvalidInput(f"{reference.path}: column {name!r} has no values")
    if not len(cur_present):
        raise InvalidInput(f"{current.path}: column {name!r} has no values")
    small = len(ref.values) <= SMALL_SAMPLE
    if not ref.numeric:
        return _categorical(name, ref_present, cur.present_text(), small)
    if not cur.numeric:
        bad = cur.first_text()
        raise InvalidInput(
            f"{current.path}: row {cur.row_of(bad)}: column {name!r}: {bad[:40]!r} is not a"
            f" number ({reference.path.name} holds numbers there)"
        )
    if _few_values(ref_present, cur_present):
        return replace(_categorical(name, ref_present, cur_present, small), kind="numeric")
    return _numeric(name, ref_present, cur_present, small)


def _few_values(ref: Floats, cur: Floats) -> bool:
    """At most FEW_VALUES distinct values in both; a look at a slice first spares a full sort
    of every column that obviously has more."""
    head = np.concatenate([ref[:1000], cur[:1000]])
    if len(np.unique(head)) > FEW_VALUES:
        return False
    return len(np.unique(np.concatenate([ref, cur]))) <= FEW_VALUES


def _numeric(name: str, ref: Floats, cur: Floats, small: bool) -> ColumnDrift:
    if small:
        method: Method = "ks"
        score = float(stats.ks_2samp(ref, cur).pvalue)
        threshold, drifted = P_VALUE, score < P_VALUE
    else:
        method = "wasserstein"
        norm = max(float(np.std(ref)), 0.001)
        score = float(stats.wasserstein_distance(ref, cur)) / norm
        threshold, drifted = DISTANCE, score >= DISTANCE
    psi = _psi_numeric(ref, cur)
    return ColumnDrift(name, "numeric", method, score, threshold, drifted, psi, len(ref), len(cur))


def _categorical(
    name: str, ref: npt.NDArray[Any], cur: npt.NDArray[Any], small: bool
) -> ColumnDrift:
    ref_counts, cur_counts = _frequencies(ref, cur)
    if small:
        method: Method = "chi-square"
        # Expected counts: the reference's proportions at the current sample's size.
        expected = ref_counts * (len(cur) / len(ref))
        with np.errstate(divide="ignore", invalid="ignore"):
            score = float(stats.chisquare(cur_counts, expected).pvalue)
        if np.isnan(score):
            score = 0.0  # a category absent from the reference: the distributions differ
        threshold, drifted = P_VALUE, score < P_VALUE
    else:
        method = "jensen-shannon"
        score = float(distance.jensenshannon(ref_counts / len(ref), cur_counts / len(cur)))
        threshold, drifted = DISTANCE, score >= DISTANCE
    psi = _psi(ref_counts / len(ref), cur_counts / len(cur))
    return ColumnDrift(
        name, "categorical", method, score, threshold, drifted, psi, len(ref), len(cur)
    )


def _frequencies(ref: npt.NDArray[Any], cur: npt.NDArray[Any]) -> tuple[Floats, Floats]:
    """Each sample's count of each category of both samples (in one order)."""
    keys, inverse = np.unique(np.concatenate([ref, cur]), return_inverse=True)
    inverse = inverse.reshape(-1)
    ref_counts = np.bincount(inverse[: len(ref)], minlength=len(keys)).astype(np.float64)
    cur_counts = np.bincount(inverse[len(ref) :], minlength=len(keys)).astype(np.float64)
    return ref_counts, cur_counts


def _psi_numeric(ref: Floats, cur: Floats) -> float:
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, PSI_BINS + 1))[1:-1])
    ref_share = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1)
    cur_share = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1)
    return _psi(ref_share / len(ref), cur_share / len(cur))


def _psi(ref_share: Floats, cur_share: Floats) -> float:
    ref_share = np.where(ref_share == 0, _PSI_FLOOR, ref_share)
    cur_share = np.where(cur_share == 0, _PSI_FLOOR, cur_share)
    return float(np.sum((cur_share - ref_share) * np.log(cur_share / ref_share)))
