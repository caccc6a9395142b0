"""bench/engine.py measures what it claims: the same 200-task DAG for shipdeck and make.

No timings are asserted here (benchmarks never run as timed tests); this keeps the
generated workspace and Makefile honest as the code around them changes.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from shipdeck.workspace import load_workspace

BENCH = Path(__file__).resolve().parents[2] / "bench" / "engine.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_engine", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_workspace_is_the_layered_dag(bench: ModuleType, tmp_path: Path) -> None:
    needs = bench.dag_needs(20, 10)
    bench.write_workspace(tmp_path, needs)
    pipeline = load_workspace(tmp_path).pipelines["dag"]
    assert len(pipeline.tasks) == 200
    assert set(pipeline.depths().values()) == set(range(20))
    assert pipeline.tasks["t05_9"].needs == ("t04_9", "t04_0")
    assert all(len(t.needs) == 2 for name, t in pipeline.tasks.items() if name[1:3] != "00")
    assert {t.run for t in pipeline.tasks.values()} == {"true"}


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_makefile_runs_the_same_tasks_in_dependency_order(
    bench: ModuleType, tmp_path: Path
) -> None:
    needs = bench.dag_needs(4, 3)
    bench.write_makefile(tmp_path, needs, 3)
    # Each recipe echoes its target: every task runs once, after the tasks it needs.
    makefile = (tmp_path / "Makefile").read_text().replace("\ttrue", "\t@echo $@")
    (tmp_path / "Makefile").write_text(makefile)
    order = subprocess.run(
        ["make", "-s", "-f", "Makefile"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.split()
    assert sorted(order) == sorted(needs)
    for task, deps in needs.items():
        assert all(order.index(dep) < order.index(task) for dep in deps), task
