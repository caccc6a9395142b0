"""Data drift: every value is checked against scipy called directly on the same arrays, and the
default rules (test vs distance by reference size, thresholds, share) are applied as documented."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from shipdeck.engine.runs.metrics import parse_metric_line
from shipdeck.errors import InvalidInput
from shipdeck.monitoring.drift import compare_tables
from shipdeck.monitoring.tables import read_table


def write_csv(path: Path, columns: dict[str, list[object]]) -> Path:
    names = list(columns)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        writer.writerows(zip(*(columns[name] for name in names), strict=True))
    return path


def sample(rng: np.random.Generator, n: int, shift: float) -> dict[str, list[object]]:
    plans = ["basic", "pro", "team"]
    weights = [0.5, 0.3, 0.2] if shift == 0 else [0.2, 0.3, 0.5]
    return {
        "age": [round(float(v), 3) for v in rng.normal(40 + shift, 10, n)],
        "plan": list(rng.choice(plans, n, p=weights)),
        "income": [round(float(v), 2) for v in rng.lognormal(10, 1, n)],
        "seats": list(rng.integers(1, 4, n)),  # three values: compared as categories
    }


def floats(path: Path, column: str) -> np.ndarray:
    return np.asarray(read_table(path).columns[column].text, dtype=np.float64)


def psi(ref_share: np.ndarray, cur_share: np.ndarray) -> float:
    ref_share = np.where(ref_share == 0, 1e-4, ref_share)
    cur_share = np.where(cur_share == 0, 1e-4, cur_share)
    return float(np.sum((cur_share - ref_share) * np.log(cur_share / ref_share)))


def test_small_samples_use_ks_and_chi_square(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    ref = write_csv(tmp_path / "ref.csv", sample(rng, 400, 0))
    cur = write_csv(tmp_path / "cur.csv", sample(rng, 300, 6))
    report = compare_tables(read_table(ref), read_table(cur))
    by = {column.column: column for column in report.columns}

    age = by["age"]
    assert (age.method, age.kind) == ("ks", "numeric")
    assert age.score == pytest.approx(stats.ks_2samp(floats(ref, "age"), floats(cur, "age")).pvalue)
    assert age.drifted is (age.score < 0.05) and age.drifted

    plan = by["plan"]
    ref_plan, cur_plan = read_table(ref).columns["plan"].text, read_table(cur).columns["plan"].text
    keys = sorted(set(ref_plan) | set(cur_plan))
    observed = [cur_plan.count(k) for k in keys]
    expected = [ref_plan.count(k) * len(cur_plan) / len(ref_plan) for k in keys]
    assert plan.method == "chi-square"
    assert plan.score == pytest.approx(stats.chisquare(observed, expected).pvalue)
    assert plan.drifted

    income = by["income"]  # same distribution in both
    assert income.score == pytest.approx(
        stats.ks_2samp(floats(ref, "income"), floats(cur, "income")).pvalue
    )
    assert not income.drifted
    assert by["seats"].method == "chi-square" and by["seats"].kind == "numeric"

    assert report.drifted_columns == 2 and report.share == 0.5 and report.drifted


def test_large_samples_use_normed_wasserstein_and_jensen_shannon(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    ref = write_csv(tmp_path / "ref.csv", sample(rng, 3000, 0))
    cur = write_csv(tmp_path / "cur.csv", sample(rng, 2000, 0.5))
    report = compare_tables(read_table(ref), read_table(cur), ["age", "plan"])
    age, plan = report.columns

    ref_age, cur_age = floats(ref, "age"), floats(cur, "age")
    expected = stats.wasserstein_distance(ref_age, cur_age) / np.std(ref_age)
    assert age.method == "wasserstein" and age.score == pytest.approx(expected)
    assert age.drifted == bool(expected >= 0.1) and not age.drifted  # 0.05 sd: within 0.1

    ref_plan, cur_plan = read_table(ref).columns["plan"].text, read_table(cur).columns["plan"].text
    keys = sorted(set(ref_plan) | set(cur_plan))
    p = np.array([ref_plan.count(k) / len(ref_plan) for k in keys])
    q = np.array([cur_plan.count(k) / len(cur_plan) for k in keys])
    assert plan.method == "jensen-shannon"
    assert plan.score == pytest.approx(distance.jensenshannon(p, q))
    assert plan.drifted and plan.psi == pytest.approx(psi(p, q))
    assert plan.psi_level == "significant"

    edges = np.quantile(ref_age, np.linspace(0, 1, 11))[1:-1]
    bins = [-np.inf, *edges, np.inf]
    ref_share = np.histogram(ref_age, bins)[0] / len(ref_age)
    cur_share = np.histogram(cur_age, bins)[0] / len(cur_age)
    assert age.psi == pytest.approx(psi(ref_share, cur_share), rel=1e-6)


def test_no_drift_on_the_same_distribution(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    ref = write_csv(tmp_path / "ref.csv", sample(rng, 2000, 0))
    cur = write_csv(tmp_path / "cur.csv", sample(rng, 2000, 0))
    report = compare_tables(read_table(ref), read_table(cur))
    assert report.drifted_columns == 0 and not report.drifted
    assert all(column.psi < 0.1 for column in report.columns)


def test_json_lines_and_missing_values(tmp_path: Path) -> None:
    ref = tmp_path / "ref.jsonl"
    cur = tmp_path / "cur.jsonl"
    ref.write_text("".join(json.dumps({"x": i % 50, "c": "ab"[i % 2]}) + "\n" for i in range(100)))
    rows = [{"x": None if i % 10 == 0 else i % 50 + 20, "c": "b"} for i in range(100)]
    cur.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    report = compare_tables(read_table(ref), read_table(cur))
    x, c = report.columns
    assert x.current_rows == 90  # nulls are missing values, left out
    present = [row["x"] for row in rows if row["x"] is not None]
    assert x.score == pytest.approx(stats.ks_2samp([i % 50 for i in range(100)], present).pvalue)
    assert c.drifted and x.drifted


@pytest.mark.parametrize(
    ("reference", "current", "message"),
    [
        ("a,b\n1,x\n", "a\n1\n", "cur.csv: no column 'b', which ref.csv has (it has: a)"),
        ("a,b\n1,x\n", "", "cur.csv: empty file (expected a header row)"),
        ("a,b\n1,x\n", "a,b\n", "cur.csv: no rows under the header"),
        ("a\n1\n2\n", "a\n1\nten\n", "cur.csv: row 2: column 'a': 'ten' is not a number"),
        ("a,b\n1,x\n", "a,b\n1,x,3\n", "cur.csv:2: 3 values for 2 columns (a, b)"),
        ("a,a\n1,2\n", "a\n1\n", "ref.csv:1: column 'a' appears twice"),
    ],
)
def test_broken_or_mismatched_files_are_one_line(
    tmp_path: Path, reference: str, current: str, message: str
) -> None:
    (tmp_path / "ref.csv").write_text(reference)
    (tmp_path / "cur.csv").write_text(current)
    with pytest.raises(InvalidInput) as raised:
        compare_tables(read_table(tmp_path / "ref.csv"), read_table(tmp_path / "cur.csv"))
    assert message in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"x": 1', "cur.jsonl:2: not JSON (Expecting ',' delimiter) (one JSON object per line)"),
        ("[1, 2]", "cur.jsonl:2: not a JSON object (one JSON object per line)"),
    ],
)
def test_a_json_line_that_is_no_object_is_named_by_its_line(
    tmp_path: Path, line: str, message: str
) -> None:
    current = tmp_path / "cur.jsonl"
    current.write_text('{"x": 1}\n' + line + "\n")
    with pytest.raises(InvalidInput) as raised:
        read_table(current)
    assert str(raised.value).endswith(message) and "\n" not in str(raised.value)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipdeck", "drift", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def test_command_json_metrics_and_exit_codes(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    write_csv(tmp_path / "ref.csv", sample(rng, 300, 0))
    write_csv(tmp_path / "cur.csv", sample(rng, 300, 8))
    as_json = run("ref.csv", "cur.csv", "--json", cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["drifted"] and data["drift_share"] == 0.5
    assert [c["column"] for c in data["columns"]] == ["age", "plan", "income", "seats"]

    metrics = run("ref.csv", "cur.csv", "--metrics", "--columns", "age,plan", cwd=tmp_path)
    parsed = {m.key: m.value for m in map(parse_metric_line, metrics.stdout.splitlines())}
    assert parsed["drift_share"] == 1.0 and parsed["age.drifted"] == 1
    assert parsed["plan.drift_score"] == pytest.approx(data["columns"][1]["score"], rel=1e-5)

    assert run("ref.csv", "cur.csv", "--exit-code", cwd=tmp_path).returncode == 1
    assert run("ref.csv", "ref.csv", "--exit-code", cwd=tmp_path).returncode == 0
    missing = run("ref.csv", "nope.csv", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr == "shipdeck: error: nope.csv: no such file\n"
