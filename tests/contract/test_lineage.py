"""Lineage through the Runner contract, in process and over HTTP (TCP, Unix socket): a run's
code and inputs, a model version's, and comparisons that flag other data or code."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest

from shipdeck.model import LineageKind, RunStatus, TaskStatus, WorkspaceSpec
from shipdeck.model.capabilities import Capability
from shipdeck.runners.protocol import Runner
from shipdeck.workspace import load_workspace
from tests.contract.harness import WORKSPACE_FILE, needs
from tests.git_repo import GitRepo

WORKSPACE = """
[pipelines.train]
params = { rows = "a" }

[pipelines.train.tasks.prepare]
run = "mkdir -p data && echo \\"$SHIPDECK_PARAM_ROWS\\" > data/train.csv"

[pipelines.train.tasks.fit]
run = "mkdir -p out && echo '{}' > out/model.json && echo '::metric auc=0.9'"
needs = ["prepare"]
inputs = ["data/*.csv"]
registers = { model = "churn", artifact = "out/model.json" }

[pipelines.train.tasks.report]
run = "true"
needs = ["fit"]
inputs = ["report.cfg"]

[pipelines.broken]
[pipelines.broken.tasks.fit]
run = "touch ran"
inputs = ["data/missing.csv"]
"""


pytestmark = [WORKSPACE_FILE, needs(Capability.TRIGGER_PARAMS, Capability.MODELS)]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo.init(tmp_path / "ws")
    (repo.root / "shipdeck.toml").write_text(textwrap.dedent(WORKSPACE))
    (repo.root / ".gitignore").write_text(".shipdeck/\ndata/\nout/\n")
    (repo.root / "report.cfg").write_text("full\n")
    repo.commit("first")
    return repo


@pytest.fixture
def contract_seed(repo: GitRepo) -> WorkspaceSpec:
    return load_workspace(repo.root)


@pytest.fixture
def deck(contract_runner: Runner) -> Runner:
    return contract_runner


async def trained(deck: Runner, rows: str) -> int:
    run = await deck.start_run("train", {"rows": rows})
    assert (await deck.wait_run(run.id)).status == RunStatus.SUCCEEDED
    return run.id


async def test_a_run_shows_its_code_and_inputs(deck: Runner, repo: GitRepo) -> None:
    (pipeline, _) = await deck.pipelines()
    assert pipeline.tasks["fit"].inputs == ("data/*.csv",)
    run_id = await trained(deck, "a")
    lineage = (await deck.run(run_id)).lineage
    assert lineage.code is not None
    assert (lineage.code.commit, lineage.code.short) == (repo.head(), repo.short())
    assert lineage.code.branch == "main" and lineage.code.dirty is False
    assert [(i.task, i.path, i.sha256, i.size) for i in lineage.inputs] == [
        ("fit", "data/train.csv", sha("a\n"), 2),
        ("report", "report.cfg", sha("full\n"), 5),
    ]


async def test_a_model_version_says_what_it_came_from(deck: Runner, repo: GitRepo) -> None:
    first_commit = repo.head()
    await trained(deck, "a")
    (repo.root / "fit.py").write_text("# a new model\n")
    second_commit = repo.commit("second")
    (repo.root / "fit.py").write_text("# edited, not committed\n")
    await trained(deck, "b")
    v2, v1 = await deck.model_versions("churn")
    assert v1.lineage is not None and v2.lineage is not None
    assert v1.lineage.code is not None and v1.lineage.code.commit == first_commit
    assert v2.lineage.code is not None and v2.lineage.code.commit == second_commit
    assert v2.lineage.code.dirty is True and v2.lineage.code.changed_files == 1
    # Only what `fit` (and the tasks it needs) read: not the report's input, read after.
    assert v1.lineage.files() == {"data/train.csv": sha("a\n")}
    assert v2.lineage.files() == {"data/train.csv": sha("b\n")}


async def test_compare_flags_other_data_and_other_code(deck: Runner, repo: GitRepo) -> None:
    first = await trained(deck, "a")
    same = await trained(deck, "a")
    (repo.root / "fit.py").write_text("# new\n")
    repo.commit("second")
    await trained(deck, "b")
    alike = await deck.compare([str(first), str(same)])
    assert alike.lineage == []
    assert alike.subjects[0].lineage is not None and alike.subjects[0].lineage.recorded
    apart = await deck.compare(["churn@v1", "churn@v3", "churn@v2"])
    flags = [(f.kind, f.subject, f.against) for f in apart.lineage]
    assert flags == [
        (LineageKind.DATA, "churn@v3", "churn@v1"),
        (LineageKind.CODE, "churn@v3", "churn@v1"),
    ]
    before, after = sha("a\n")[:7], sha("b\n")[:7]
    assert apart.lineage[0].detail == f"data/train.csv differs ({before} → {after})"


async def test_a_missing_input_fails_its_task_before_it_runs(deck: Runner, repo: GitRepo) -> None:
    run = await deck.start_run("broken")
    assert (await deck.wait_run(run.id)).status == RunStatus.FAILED
    (fit,) = (await deck.run(run.id)).tasks
    assert fit.status == TaskStatus.FAILED
    assert fit.reason == "input data/missing.csv not found (the task declares it in inputs)"
    assert not (repo.root / "ran").exists()
