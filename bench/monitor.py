"""Drift benchmark: `compare_tables` against the same scipy calls made directly on the same data.

Generates a reference and a current data set of ROWS rows x 20 columns (14 numeric, 6
categorical; the current one shifted on a third of the columns), then, interleaved and
repeated, times:

- scipy direct (reference): for each column exactly the scipy calls shipdeck's rule makes
  (above 1,000 rows: `wasserstein_distance` + `np.std` for numeric columns, category counts
  with `np.unique` + `jensenshannon` for categorical ones), on arrays prepared beforehand;
- shipdeck drift: `compare_tables` on the tables as `read_table` returns them (columns parsed
  into arrays), so its time includes the rule's choices, the PSI and the report;
- reading the files: `read_table` on both CSV files, parsing included (what `shipdeck drift`
  adds on top of the comparison; shown apart, as the reference starts from arrays too).

Target: shipdeck drift / scipy direct <= 1.5 (median of the repeats). Prints a table, or
JSON with --json; it measures, it does not judge.
    python bench/monitor.py [--rows 100000] [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats
from scipy.spatial import distance

from shipdeck.monitoring.drift import compare_tables
from shipdeck.monitoring.tables import Table, column, read_table

NUMERIC, CATEGORICAL = 14, 6


def generate(rows: int, shifted: bool, seed: int) -> dict[str, list[str]]:
    rng = np.random.default_rng(seed)
    columns: dict[str, list[str]] = {}
    for i in range(NUMERIC):
        shift = 0.3 if shifted and i % 3 == 0 else 0.0
        values = rng.normal(50 + shift * 10, 10, rows)
        columns[f"num_{i}"] = [f"{v:.4f}" for v in values]
    for i in range(CATEGORICAL):
        weights = np.array([5, 3, 2, 1, 1, 1, 1, 1], dtype=float)
        if shifted and i % 3 == 0:
            weights = weights[::-1].copy()
        labels = np.array([f"cat{k}" for k in range(len(weights))])
        columns[f"cat_{i}"] = list(rng.choice(labels, rows, p=weights / weights.sum()))
    return columns


def write(path: Path, columns: dict[str, list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(columns))
        writer.writerows(zip(*columns.values(), strict=True))


def scipy_direct(ref: dict[str, Any], cur: dict[str, Any]) -> list[float]:
    scores = []
    for name, values in ref.items():
        if name.startswith("num_"):
            norm = max(float(np.std(values)), 0.001)
            scores.append(float(stats.wasserstein_distance(values, cur[name])) / norm)
        else:
            keys, inverse = np.unique(np.concatenate([values, cur[name]]), return_inverse=True)
            p = np.bincount(inverse[: len(values)], minlength=len(keys)) / len(values)
            q = np.bincount(inverse[len(values) :], minlength=len(keys)) / len(cur[name])
            scores.append(float(distance.jensenshannon(p, q)))
    return scores


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    ref_cols, cur_cols = generate(args.rows, False, 1), generate(args.rows, True, 2)
    arrays = [
        {
            n: np.asarray(v, dtype=np.float64) if n.startswith("num_") else np.asarray(v)
            for n, v in c.items()
        }
        for c in (ref_cols, cur_cols)
    ]
    with tempfile.TemporaryDirectory() as scratch:
        ref_path, cur_path = Path(scratch) / "ref.csv", Path(scratch) / "cur.csv"
        write(ref_path, ref_cols)
        write(cur_path, cur_cols)
        ref_table = Table(ref_path, {n: column(v) for n, v in ref_cols.items()}, args.rows)
        cur_table = Table(cur_path, {n: column(v) for n, v in cur_cols.items()}, args.rows)
        times: dict[str, list[float]] = {"scipy": [], "shipdeck": [], "read": []}
        for _ in range(args.repeat):
            elapsed, expected = timed(lambda: scipy_direct(*arrays))
            times["scipy"].append(elapsed)
            elapsed, report = timed(lambda: compare_tables(ref_table, cur_table))
            times["shipdeck"].append(elapsed)
            elapsed, _ = timed(lambda: (read_table(ref_path), read_table(cur_path)))
            times["read"].append(elapsed)
        got = [column.score for column in report.columns]
        assert np.allclose(got, expected), "shipdeck and scipy disagree"
    medians = {name: statistics.median(values) for name, values in times.items()}
    ratio = medians["shipdeck"] / medians["scipy"]
    result = {
        "rows": args.rows,
        "columns": NUMERIC + CATEGORICAL,
        "repeat": args.repeat,
        "median_s": medians,
        "min_s": {name: min(values) for name, values in times.items()},
        "ratio_shipdeck_to_scipy": ratio,
        "drifted_columns": report.drifted_columns,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"drift of {args.rows:,} rows x {NUMERIC + CATEGORICAL} columns, {args.repeat} repeats")
    print(f"{'':28}{'median':>10}{'min':>10}")
    rows = [("scipy direct (reference)", "scipy"), ("shipdeck drift", "shipdeck")]
    rows.append(("reading both CSV files", "read"))
    for label, key in rows:
        print(f"{label:28}{medians[key]:>9.3f}s{min(times[key]):>9.3f}s")
    print(f"shipdeck / scipy: {ratio:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
