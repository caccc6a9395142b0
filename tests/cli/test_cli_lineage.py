"""Lineage on the command line, through the workspace's real runner daemon: `show`, `models
NAME VERSION`, the models table and `compare`, in text and JSON."""

from __future__ import annotations

import hashlib
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Shipdeck
from tests.git_repo import GitRepo

WORKSPACE = """
[pipelines.train]
params = { rows = "a" }

[pipelines.train.tasks.prepare]
run = "mkdir -p data && echo \\"$SHIPDECK_PARAM_ROWS\\" > data/train.csv"

[pipelines.train.tasks.fit]
run = "mkdir -p out && echo '{}' > out/model.json && echo '::metric auc=0.9'"
needs = ["prepare"]
inputs = ["data/train.csv"]
registers = { model = "churn", artifact = "out/model.json" }

[pipelines.broken.tasks.fit]
run = "true"
inputs = ["data/nope.csv"]
"""


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo.init(tmp_path / "ws")
    (repo.root / "shipdeck.toml").write_text(textwrap.dedent(WORKSPACE))
    (repo.root / ".gitignore").write_text(".shipdeck/\ndata/\nout/\n")
    repo.commit("first")
    return repo


@pytest.fixture
def cli(repo: GitRepo) -> Iterator[Shipdeck]:
    client = Shipdeck(repo.root, daemon=True)
    yield client
    client("serve", "--stop", "--force")


def ok(cli: Shipdeck, *args: str) -> str:
    done = cli(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_show_prints_the_code_and_inputs_of_a_run(cli: Shipdeck, repo: GitRepo) -> None:
    ok(cli, "run", "train")
    out = ok(cli, "show", "last")
    digest = hashlib.sha256(b"a\n").hexdigest()
    lineage = out[out.index("\nlineage\n") + 1 :].splitlines()[1:]
    assert lineage[0] == f"  code    {repo.short()} on main, clean"
    assert lineage[1] == f"  commit  {repo.head()}"
    assert lineage[2].startswith("  data    ") and lineage[2].endswith(" (1 input)")
    assert lineage[3].split() == ["TASK", "INPUT", "SHA256", "SIZE", "MODIFIED", "NOTE"]
    assert lineage[4].split()[:4] == ["fit", "data/train.csv", digest[:12], "2"]
    detail = cli.json("show", "last")
    assert detail["lineage"]["code"]["commit"] == repo.head()
    assert detail["lineage"]["inputs"][0]["sha256"] == digest


def test_models_and_compare_say_what_versions_came_from(cli: Shipdeck, repo: GitRepo) -> None:
    ok(cli, "run", "train")
    (repo.root / "fit.py").write_text("# uncommitted\n")
    ok(cli, "run", "train", "-p", "rows=b")
    table = ok(cli, "models", "churn").splitlines()
    assert table[0].split()[-3:] == ["CODE", "DATA", "SHA256"]
    assert table[1].split()[-4] == f"{repo.short()}*"  # v2: dirty (DATA is 2 words)
    assert table[2].split()[-4] == repo.short()
    version = ok(cli, "models", "churn", "v2")
    assert version.startswith("churn v2\nregistered ")
    assert "params  rows=b" in version
    assert f"  code    {repo.short()} on main, dirty: 1 changed file (changes " in version
    assert cli.json("models", "churn", "v1")["lineage"]["code"]["dirty"] is False
    compared = ok(cli, "compare", "churn@v1", "churn@v2").splitlines()
    old, new = (hashlib.sha256(t).hexdigest()[:7] for t in (b"a\n", b"b\n"))
    assert compared[-2:] == [
        f"different data: churn@v2 vs churn@v1: data/train.csv differs ({old} → {new})",
        f"different code: churn@v2 vs churn@v1: same commit {repo.short()},"
        " but churn@v2 ran with uncommitted changes",
    ]
    assert ["lineage"] in [line.split() for line in compared]
    assert ["data/train.csv", old, new] in [line.split() for line in compared]
    same = ok(cli, "compare", "1", "1").splitlines()
    assert same[-1] == "same data and code as #1"
    flags = cli.json("compare", "churn@v1", "churn@v2")["lineage"]
    assert [(f["kind"], f["subject"]) for f in flags] == [
        ("data", "churn@v2"),
        ("code", "churn@v2"),
    ]


def test_a_missing_input_fails_the_run_and_says_which(cli: Shipdeck) -> None:
    done = cli("run", "broken")
    assert done.returncode == 1
    out = ok(cli, "show", "last")
    assert "input data/nope.csv not found (the task declares it in inputs)" in out


def test_an_unknown_version_is_a_clear_error(cli: Shipdeck) -> None:
    ok(cli, "run", "train")
    done = cli("models", "churn", "v9")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().endswith("model 'churn' has no version or alias 'v9'; versions: v1")
