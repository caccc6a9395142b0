"""`inputs` on a task: workspace-relative files or globs, each problem on its own line."""

from __future__ import annotations

from shipdeck.workspace import load_workspace
from tests.workspace.conftest import Problems, WriteWorkspace

F = "shipdeck.toml"


def test_files_and_globs_are_kept_in_order(write_workspace: WriteWorkspace) -> None:
    path = write_workspace(
        """
        [pipelines.train.tasks.fit]
        run = "python fit.py"
        inputs = ["data/train.csv", "data/**/*.parquet", ".hidden/x.csv"]
        """
    )
    fit = load_workspace(path).pipelines["train"].tasks["fit"]
    assert fit.inputs == ("data/train.csv", "data/**/*.parquet", ".hidden/x.csv")


def test_a_task_without_inputs_declares_none(write_workspace: WriteWorkspace) -> None:
    path = write_workspace('[pipelines.a.tasks.x]\nrun = "true"\n')
    assert load_workspace(path).pipelines["a"].tasks["x"].inputs == ()


def test_each_bad_input_is_reported_on_its_own_line(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.train.tasks.fit]
        run = "python fit.py"
        inputs = [
            "/etc/passwd",
            "../secrets.csv",
            "data/../../up.csv",
            "data/images/",
            "",
            "data/train.csv",
            "./data/train.csv",
            7,
        ]
        """
    ) == [
        f"{F}:4: pipelines.train.tasks.fit.inputs: '/etc/passwd' must be relative to the"
        " workspace root",
        f"{F}:5: pipelines.train.tasks.fit.inputs: '../secrets.csv' must stay inside the"
        " workspace root (no '..')",
        f"{F}:6: pipelines.train.tasks.fit.inputs: 'data/../../up.csv' must stay inside the"
        " workspace root (no '..')",
        f"{F}:7: pipelines.train.tasks.fit.inputs: 'data/images/' is a directory: declare the"
        " files in it, like 'data/images/**'",
        f"{F}:8: pipelines.train.tasks.fit.inputs: must not contain an empty path",
        f"{F}:10: pipelines.train.tasks.fit.inputs: lists './data/train.csv' twice",
        f"{F}:11: pipelines.train.tasks.fit.inputs: item 8 must be a string, got integer 7",
    ]


def test_inputs_must_be_an_array(problems: Problems) -> None:
    assert problems(
        """
        [pipelines.train.tasks.fit]
        run = "python fit.py"
        inputs = "data/train.csv"
        """
    ) == [
        f"{F}:3: pipelines.train.tasks.fit.inputs: must be an array of strings,"
        " got string 'data/train.csv'"
    ]
