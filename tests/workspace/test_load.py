"""Loading valid workspace files, and finding them."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipdeck.errors import WorkspaceError
from shipdeck.model import RegisterSpec
from shipdeck.workspace import WORKSPACE_FILE, find_workspace, load_workspace
from tests.workspace.conftest import WriteWorkspace

FULL = """
# The churn model: prepare, train, evaluate.
[pipelines.train]
description = "Train and evaluate the churn model"
params = { lr = 0.1, epochs = 30, seed = 7, flaky = false, name = "x" }
concurrency = 1          # runs wait, queued, for the one before to finish

[pipelines.train.tasks.prepare]
run = "python3 ml/prepare.py"
env = { DATA_DIR = "data" }
cwd = "sub/dir"          # relative to the workspace root
timeout = "10m"
retries = 1
retry_delay = "2s"

[pipelines.train.tasks.train]
run = '''
python3 ml/train.py \\
  --fast
'''
needs = ["prepare"]
timeout = 90
retry_delay = 0.5

[pipelines.train.tasks.evaluate]
run = "python3 ml/evaluate.py"
needs = [
    "train",   # the model
    "prepare", # the held-out split
]
timeout = "1h30m"
registers = { model = "churn", artifact = "out/model.json" }

[pipelines.ci]
tasks.lint.run = "ruff check ."
tasks.test = { run = "pytest -q", timeout = "500ms" }
"""


def test_full_example_loads_to_specs(write_workspace: WriteWorkspace, tmp_path: Path) -> None:
    workspace = load_workspace(write_workspace(FULL))

    assert workspace.root == tmp_path.resolve()
    assert workspace.file == tmp_path.resolve() / WORKSPACE_FILE
    assert list(workspace.pipelines) == ["train", "ci"]

    train = workspace.pipelines["train"]
    assert train.name == "train"
    assert train.description == "Train and evaluate the churn model"
    assert train.params == {"lr": 0.1, "epochs": 30, "seed": 7, "flaky": False, "name": "x"}
    assert [type(value) for value in train.params.values()] == [float, int, int, bool, str]
    assert train.concurrency == 1
    assert list(train.tasks) == ["prepare", "train", "evaluate"]

    prepare = train.tasks["prepare"]
    assert prepare.name == "prepare"
    assert prepare.run == "python3 ml/prepare.py"
    assert prepare.env == {"DATA_DIR": "data"}
    assert prepare.cwd == "sub/dir"
    assert prepare.timeout == 600.0
    assert prepare.retries == 1
    assert prepare.retry_delay == 2.0
    assert prepare.needs == ()
    assert prepare.registers is None

    trainer = train.tasks["train"]
    assert trainer.run == "python3 ml/train.py \\\n  --fast\n"
    assert trainer.needs == ("prepare",)
    assert trainer.timeout == 90.0
    assert trainer.retry_delay == 0.5
    assert trainer.retries == 0
    assert trainer.env == {}
    assert trainer.cwd is None

    evaluate = train.tasks["evaluate"]
    assert evaluate.needs == ("train", "prepare")
    assert evaluate.timeout == 5400.0
    assert evaluate.registers == RegisterSpec(model="churn", artifact="out/model.json")
    assert train.topological_order() == ["prepare", "train", "evaluate"]

    ci = workspace.pipelines["ci"]
    assert ci.description == ""
    assert ci.params == {}
    assert ci.concurrency is None
    assert list(ci.tasks) == ["lint", "test"]
    assert ci.tasks["lint"].run == "ruff check ."
    assert ci.tasks["test"].timeout == 0.5


def test_directory_and_file_paths_load_the_same(
    write_workspace: WriteWorkspace, tmp_path: Path
) -> None:
    file = write_workspace(FULL)
    assert load_workspace(tmp_path) == load_workspace(file)


def test_empty_file_is_an_empty_workspace(write_workspace: WriteWorkspace) -> None:
    workspace = load_workspace(write_workspace("# nothing yet\n"))
    assert workspace.pipelines == {}


def test_missing_file_is_one_clear_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(tmp_path)
    assert caught.value.problems == ["shipdeck.toml: no such file"]


def test_file_outside_cwd_is_named_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace_dir = tmp_path / "ws"
    workspace_dir.mkdir()
    (workspace_dir / "shipdeck.toml").write_text("bogus = 1\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(workspace_dir)
    assert caught.value.problems == [
        f"{workspace_dir / 'shipdeck.toml'}:1: bogus: unknown key 'bogus'; "
        "expected one of: metrics, monitors, notify, pipelines, retention, services, task_env"
    ]


def test_find_workspace_walks_up_from_a_nested_directory(tmp_path: Path) -> None:
    (tmp_path / "shipdeck.toml").write_text("", encoding="utf-8")
    nested = tmp_path / "ml" / "models" / "churn"
    nested.mkdir(parents=True)
    assert find_workspace(nested) == tmp_path.resolve() / "shipdeck.toml"
    assert find_workspace(tmp_path) == tmp_path.resolve() / "shipdeck.toml"


def test_find_workspace_picks_the_nearest_file(tmp_path: Path) -> None:
    (tmp_path / "shipdeck.toml").write_text("", encoding="utf-8")
    inner = tmp_path / "inner"
    (inner / "deeper").mkdir(parents=True)
    (inner / "shipdeck.toml").write_text("", encoding="utf-8")
    assert find_workspace(inner / "deeper") == inner.resolve() / "shipdeck.toml"


def test_find_workspace_from_a_file_starts_in_its_directory(tmp_path: Path) -> None:
    (tmp_path / "shipdeck.toml").write_text("", encoding="utf-8")
    script = tmp_path / "train.py"
    script.write_text("", encoding="utf-8")
    assert find_workspace(script) == tmp_path.resolve() / "shipdeck.toml"


def test_find_workspace_ignores_a_directory_named_like_the_file(tmp_path: Path) -> None:
    (tmp_path / "shipdeck.toml").write_text("", encoding="utf-8")
    fake = tmp_path / "sub" / "shipdeck.toml"
    fake.mkdir(parents=True)
    assert find_workspace(tmp_path / "sub") == tmp_path.resolve() / "shipdeck.toml"


def test_find_workspace_without_a_file_says_how_to_fix_it(tmp_path: Path) -> None:
    # tmp dirs live under /tmp, which holds no shipdeck.toml in any parent on a sane machine.
    start = tmp_path / "nowhere"
    start.mkdir()
    if any((parent / "shipdeck.toml").is_file() for parent in start.resolve().parents):
        pytest.skip("a parent of the temporary directory holds a shipdeck.toml")
    with pytest.raises(WorkspaceError) as caught:
        find_workspace(start)
    assert caught.value.problems == [
        f"no shipdeck.toml found in {start} or any parent directory"
        " (use -C DIR or `shipdeck demo init DIR`)"
    ]
