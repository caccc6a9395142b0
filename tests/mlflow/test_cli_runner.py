"""Commands on a configured MLflow runner (`--runner lab`), as real processes: reading works,
what MLflow cannot do is one line with exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.mlflow.conftest import MlflowServer, Seeded, seed

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def seeded(mlflow_server: MlflowServer) -> Seeded:
    return seed(mlflow_server, uuid.uuid4().hex[:8], runs=2)


@pytest.fixture
def config(mlflow_server: MlflowServer, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[[runners]]\nkind = "mlflow"\nname = "lab"\nurl = "{mlflow_server.url}"\n')
    return path


def shipdeck(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipdeck", "--runner", "lab", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SHIPDECK_CONFIG": str(config)},
        cwd=config.parent,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rerun", "{run}"], "runner lab cannot rerun runs: MLflow is not an executor"),
        (["rerun", "{run}", "--failed"], "runner lab cannot rerun failed tasks: MLflow is not"),
        (["cancel", "{run}"], "runner lab cannot cancel runs: MLflow is not an executor"),
        (["run", "{experiment}"], "runner lab cannot start runs: MLflow is not an executor"),
        (["logs", "{run}", "fold-0"], "runner lab cannot read task logs: MLflow keeps no task"),
    ],
)
def test_what_mlflow_cannot_do_is_one_line_exit_2(
    config: Path, seeded: Seeded, args: list[str], message: str
) -> None:
    filled = [a.format(run=seeded.run_ids[0], experiment=seeded.experiment) for a in args]
    done = shipdeck(config, *filled)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"shipdeck: error: {message}")
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_runs_show_compare_and_alias(config: Path, seeded: Seeded) -> None:
    listed = shipdeck(config, "runs", "--pipeline", seeded.experiment, "--json")
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)
    # Newest first: train-1, then fold-0 (a child of train-0, started 1 ms after it), train-0.
    assert [r["id"] for r in runs] == [seeded.run_ids[1], seeded.run_ids[2], seeded.run_ids[0]]
    assert [r["label"] for r in runs] == [r["id"][:8] for r in runs]

    shown = shipdeck(config, "show", seeded.run_ids[0][:8])
    assert shown.returncode == 0, shown.stderr
    assert seeded.run_ids[0][:8] in shown.stdout and "fold-0" in shown.stdout

    compared = shipdeck(config, "compare", f"{seeded.model}@v1", f"{seeded.model}@v2")
    assert compared.returncode == 0, compared.stderr
    assert "auc" in compared.stdout

    moved = shipdeck(config, "alias", seeded.model, "champion", "v2")
    assert moved.returncode == 0, moved.stderr
    assert "v1" in moved.stdout and "v2" in moved.stdout
