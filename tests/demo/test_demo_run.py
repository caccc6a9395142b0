"""`shipdeck demo run DIR` end to end, as a user (or `make run`) starts it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def shipdeck(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-m", "shipdeck", *args],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
    )


def test_demo_run_writes_runs_and_summarizes(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    result = shipdeck("demo", "run", str(target))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"wrote the demo workspace to {target}" in out
    assert "run #1 ci succeeded" in out and "run #2 train succeeded" in out

    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("RUN "))
    assert lines[header].split() == ["RUN", "PIPELINE", "STATUS", "DURATION", "KEY", "METRICS"]
    ci_row, train_row = lines[header + 1], lines[header + 2]
    assert ci_row.startswith("#1") and "ci" in ci_row and "✓ succeeded" in ci_row
    assert "tests=14" in ci_row and "archive bytes=" in ci_row
    assert train_row.startswith("#2") and "train" in train_row and "auc=0." in train_row
    assert (target / "dist" / "shorturl-1.4.0.tar.gz").is_file()
    assert (target / "out" / "model.json").is_file()

    again = shipdeck("demo", "run", str(target))  # reuses the workspace, adds two runs
    assert again.returncode == 0, again.stdout + again.stderr
    assert "wrote the demo workspace" not in again.stdout
    assert "run #3 ci succeeded" in again.stdout and "run #4 train succeeded" in again.stdout


def test_demo_run_refuses_a_foreign_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "thesis.tex").write_text("keep me\n")
    result = shipdeck("demo", "run", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"shipdeck: error: {tmp_path} is not empty")
    assert len(result.stderr.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.tex"]


def test_demo_run_exits_1_when_a_pipeline_fails(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    assert shipdeck("demo", "init", str(target)).returncode == 0
    module = target / "app" / "shorturl" / "store.py"
    module.write_text(module.read_text() + "\tbroken = True\n")
    result = shipdeck("demo", "run", str(target))
    assert result.returncode == 1, result.stdout + result.stderr
    rows = {line.split()[1]: line for line in result.stdout.splitlines() if line.startswith("#")}
    assert "✗ failed" in rows["ci"] and "tests=" not in rows["ci"]
    assert "✓ succeeded" in rows["train"]
