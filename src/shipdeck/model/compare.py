"""Side-by-side comparison of runs and model versions: deltas against the first, best marked.

Pure: the caller gathers the subjects (params and final metrics) and the metric directions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from shipdeck.model import (
    CompareCell,
    CompareRow,
    CompareSubject,
    Comparison,
    MetricDirection,
    ParamValue,
)


def compare(
    subjects: Sequence[CompareSubject],
    direction: Callable[[str], MetricDirection | None],
) -> Comparison:
    """Params then metrics, each key once (first-seen order), one cell per subject.

    `direction` says which way a metric name is better (None: no way, so no best is marked);
    see `metric_direction` for the keys several tasks report.
    """
    rows: list[CompareRow] = []
    for key in _keys(subject.params for subject in subjects):
        values = [subject.params.get(key) for subject in subjects]
        rows.append(_row("param", key, values, None))
    for key in _keys(subject.metrics for subject in subjects):
        metric_values: list[ParamValue | None] = [subject.metrics.get(key) for subject in subjects]
        rows.append(_row("metric", key, metric_values, metric_direction(key, direction)))
    return Comparison(subjects=list(subjects), rows=rows)


def metric_direction(
    key: str, direction: Callable[[str], MetricDirection | None]
) -> MetricDirection | None:
    """The direction of a compared metric key. A key that several tasks of a run report is
    compared per task as `TASK.KEY` (RunDetail.final_metrics): `train_a.loss` is a loss. The
    whole key is asked first, so a direction configured for `train_a.loss` itself wins."""
    found = direction(key)
    if found is None and "." in key:
        # Task names hold no '.', so the first one ends the prefix.
        found = direction(key.partition(".")[2])
    return found


def _keys(tables: Iterable[Mapping[str, object]]) -> list[str]:
    seen: dict[str, None] = {}
    for table in tables:
        for key in table:
            seen.setdefault(key, None)
    return list(seen)


def _row(
    kind: str,
    key: str,
    values: list[ParamValue | None],
    direction: MetricDirection | None,
) -> CompareRow:
    base = _number(values[0])
    best = _best(values, direction) if direction is not None else None
    cells: list[CompareCell] = []
    for index, value in enumerate(values):
        number = _number(value)
        delta = pct = None
        if index > 0 and base is not None and number is not None:
            delta = number - base
            pct = delta / abs(base) * 100 if base != 0 else None
        marked = best is not None and number is not None and number == best
        cells.append(CompareCell(value=value, delta=delta, delta_pct=pct, best=marked))
    differs = len({_identity(value) for value in values}) > 1
    return CompareRow(kind=kind, key=key, direction=direction, cells=cells, differs=differs)


def _number(value: ParamValue | None) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _best(values: list[ParamValue | None], direction: MetricDirection) -> float | None:
    """The best value of the row; None when fewer than two subjects have one (nothing to rank)."""
    numbers = [n for n in (_number(v) for v in values) if n is not None]
    if len(numbers) < 2 or len(set(numbers)) == 1:
        return None
    return max(numbers) if direction == MetricDirection.MAX else min(numbers)


def _identity(value: ParamValue | None) -> tuple[str, object]:
    """Values as compared for --only-diff: 1 and 1.0 are equal, True and 1 are not."""
    number = _number(value)
    if number is not None:
        return ("number", number)
    return (type(value).__name__, value)
