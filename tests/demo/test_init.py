"""`init_demo` and `shipdeck demo init`: what gets written, and what is refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shipdeck.demo import DEMO_PIPELINES, default_demo_dir, ensure_demo, init_demo
from shipdeck.errors import InvalidInput
from shipdeck.model import RegisterSpec
from shipdeck.workspace import load_workspace


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_init_writes_a_workspace_that_loads(tmp_path: Path) -> None:
    root = init_demo(tmp_path / "new" / "demo")
    assert root == (tmp_path / "new" / "demo").absolute()
    workspace = load_workspace(root)
    # `demo run` runs DEMO_PIPELINES; the closed loop's pipelines follow them.
    assert tuple(workspace.pipelines) == (*DEMO_PIPELINES, "stream", "score", "retrain")

    ci = workspace.pipelines["ci"]
    assert list(ci.tasks) == ["lint", "unit_1", "unit_2", "build", "package"]
    assert ci.tasks["build"].needs == ("unit_1", "unit_2")
    assert ci.tasks["unit_2"].env == {"SHARD": "2", "SHARDS": "2"}
    assert ci.params == {"version": "1.4.0"}

    train = workspace.pipelines["train"]
    assert list(train.tasks) == ["prepare", "train_a", "train_b", "evaluate", "report"]
    assert train.tasks["evaluate"].needs == ("train_a", "train_b")
    assert train.tasks["evaluate"].registers == RegisterSpec(
        model="churn", artifact="out/model.json"
    )
    assert train.params["seed"] == 7 and train.params["flaky"] is False

    retrain = workspace.pipelines["retrain"]
    assert retrain.tasks["evaluate"].registers == RegisterSpec(
        model="churn", artifact="out/recent/model.json", alias="challenger"
    )
    assert workspace.pipelines["score"].triggers.on_change == ("stream/batch-*.csv",)
    assert retrain.triggers.on_alert == ("drift",)
    assert list(workspace.monitors) == ["drift"]
    policy = workspace.services["churn"].auto_promote
    assert policy is not None and (policy.to, policy.allow_prod) == ("staging", False)
    for pipeline in workspace.pipelines.values():
        for task in pipeline.tasks.values():
            assert task.timeout is not None, f"{pipeline.name}.{task.name} has no timeout"

    files = tree(root)
    assert {"README.md", ".gitignore", "app/shorturl/service.py", "ml/train.py"} <= set(files)
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in files)


def test_init_refuses_a_non_empty_directory_and_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    before = tree(tmp_path)
    with pytest.raises(InvalidInput, match=r"is not empty; .* --force"):
        init_demo(tmp_path)
    assert tree(tmp_path) == before


def test_force_overwrites_demo_files_and_keeps_others(tmp_path: Path) -> None:
    root = init_demo(tmp_path / "demo")
    (root / "notes.txt").write_text("mine\n")
    (root / "shipdeck.toml").write_text("# broken by hand\n")
    init_demo(root, force=True)
    assert (root / "notes.txt").read_text() == "mine\n"
    assert "[pipelines.ci]" in (root / "shipdeck.toml").read_text()


def test_init_refuses_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(InvalidInput, match="is not a directory"):
        init_demo(target)


def test_init_reports_an_unwritable_target_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    target = tmp_path / "file" / "demo"
    with pytest.raises(InvalidInput) as caught:
        init_demo(target)
    assert str(caught.value) == f"cannot write the demo workspace to {target}: Not a directory"


def test_ensure_demo_writes_once_and_then_keeps_the_workspace(tmp_path: Path) -> None:
    root, created = ensure_demo(tmp_path / "demo")
    assert created and (root / "shipdeck.toml").is_file()
    (root / "data").mkdir()
    (root / "data" / "train.csv").write_text("state a run left behind\n")
    again, created_again = ensure_demo(tmp_path / "demo")
    assert (again, created_again) == (root, False)
    assert (root / "data" / "train.csv").read_text() == "state a run left behind\n"
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x").write_text("x")
    with pytest.raises(InvalidInput, match="is not empty"):
        ensure_demo(tmp_path / "other")


def test_default_demo_dir_follows_xdg_data_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_demo_dir() == tmp_path / "shipdeck" / "demo"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_demo_dir() == tmp_path / "home" / ".local" / "share" / "shipdeck" / "demo"


def shipdeck(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipdeck", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_init_prints_the_path_and_next_steps(tmp_path: Path) -> None:
    result = shipdeck("demo", "init", str(tmp_path / "d"))
    assert result.returncode == 0, result.stderr
    assert f"wrote the demo workspace to {tmp_path / 'd'}" in result.stdout
    assert f"shipdeck -C {tmp_path / 'd'} run ci" in result.stdout
    assert (tmp_path / "d" / "shipdeck.toml").is_file()


def test_cli_init_refuses_a_non_empty_directory_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "keep").write_text("x")
    result = shipdeck("demo", "init", str(tmp_path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"shipdeck: error: {tmp_path} is not empty; choose another directory or pass --force "
        "to overwrite the demo files in it"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]
    forced = shipdeck("demo", "init", str(tmp_path), "--force")
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "shipdeck.toml").is_file()
