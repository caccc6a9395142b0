"""The CLI commands end to end: in-process through `main()` (fast), and once through the real
executable in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shipdeck.cli.main import main

from .conftest import SHARDS, write_workspace


class Cli:
    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.root = root
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(["-C", str(self.root), *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> Any:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)

    def ok(self, *args: str) -> str:
        code, out, err = self(*args)
        assert code == 0, (out, err)
        return out

    def db_state(self) -> dict[str, Any]:
        import sqlite3

        db = sqlite3.connect(self.root / ".shipdeck" / "shipdeck.db")
        try:
            return {
                t: db.execute(f"SELECT * FROM {t}").fetchall()
                for t in ("runs", "deploy_current", "deploy_history", "deploy_claims")
            }
        finally:
            db.close()


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    write_workspace(tmp_path)
    return Cli(tmp_path, capsys)


def test_models_alias_and_compare(cli: Cli) -> None:
    cli.ok("run", "train", "-p", "auc=0.9")
    cli.ok("run", "train", "-p", "auc=0.75")
    (summary,) = cli.json("models")
    assert (summary["name"], summary["versions"], summary["latest"]) == ("churn", 2, "2")
    assert cli.ok("alias", "churn", "champion", "v1") == "churn champion: unset -> v1\n"
    assert cli.ok("alias", "churn", "champion", "2") == "churn champion: v1 -> v2\n"
    table = cli.ok("models", "churn")
    assert table.splitlines()[0].split()[:5] == ["VERSION", "RUN", "CREATED", "ALIASES", "auc"]
    assert "champion" in table.splitlines()[1] and table.splitlines()[1].startswith("v2")

    out = cli.ok("compare", "churn@v1", "churn@champion", "--only-diff")
    assert "churn@v1" in out and "churn@v2" in out
    auc = next(line for line in out.splitlines() if line.strip().startswith("auc ↑"))
    assert "0.9 ★" in auc and "0.75 (-0.15, -16.7%)" in auc
    assert "fail" not in out  # equal params hidden by --only-diff
    full = cli.ok("compare", "1", "2")
    assert "fail" in full and "auc ↑" in full
    data = cli.json("compare", "churn@v1", "last")
    assert [s["label"] for s in data["subjects"]] == ["churn@v1", "#2"]

    code, _, err = cli("compare", "churn@v1")
    assert (
        code == 2 and err == "shipdeck: error: compare needs at least two runs or model versions\n"
    )


def test_deploy_promote_rollback_and_history(cli: Cli) -> None:
    cli.ok("run", "train", "-p", "auc=0.9")
    cli.ok("run", "train", "-p", "auc=0.75")
    out = cli.ok("deploy", "churn", "v1", "--env", "staging", "--reason", "first")
    lines = out.splitlines()
    assert lines[0] == "deploy churn v1 to staging (staging: none -> v1)"
    assert "  deploy | deploy none -> v1" in lines
    assert "  health | auc 0.9" in lines
    assert lines[-1].endswith("succeeded: run #3 succeeded")

    before = cli.db_state()
    code, out, _ = cli("promote", "churn", "--to", "prod", "--dry-run")
    assert code == 0
    assert "dry run: would promote churn v1 from staging to prod (prod: none -> v1)" in out
    assert "would run deploy: sh scripts/deploy.sh" in out
    assert "  SHIPDECK_REVISION=v1" in out and "  SHIPDECK_ACTION=promote" in out
    assert "metric:auc >= 0.8: auc 0.9 >= 0.8" in out
    assert cli.db_state() == before

    cli.ok("promote", "churn", "--to", "prod")
    cli.ok("deploy", "churn", "v2", "--env", "staging")
    before = cli.db_state()
    code, out, err = cli("promote", "churn", "--to", "prod", "--dry-run")
    assert code == 1 and "would be refused: gate failed" in out
    code, out, err = cli("promote", "churn", "--to", "prod")
    assert code == 1
    assert err.strip().endswith(
        "refused: gate failed: metric:auc >= 0.8: auc 0.75 < 0.8 (use --force to override)"
    )
    after = cli.db_state()
    assert after["deploy_current"] == before["deploy_current"] and after["runs"] == before["runs"]

    code, _, err = cli("promote", "churn", "--to", "prod", "--force", "--expect", "v9")
    assert code == 1
    assert err == (
        "shipdeck: error: prod of churn holds v1, not v9 as expected; someone else acted first\n"
    )

    out = cli.ok("rollback", "churn", "--env", "staging", "--reason", "bad model")
    assert out.splitlines()[0] == "rollback churn v1 to staging (staging: v2 -> v1)"

    history = cli.json("history", "churn")
    assert [(h["env"], h["action"], h["outcome"]) for h in history] == [
        ("staging", "rollback", "succeeded"),
        ("prod", "promote", "conflict"),
        ("prod", "promote", "refused"),
        ("staging", "deploy", "succeeded"),
        ("prod", "promote", "succeeded"),
        ("staging", "deploy", "succeeded"),
    ]
    assert history[0]["reason"] == "bad model" and history[-1]["reason"] == "first"
    assert history[1]["forced"] is True
    table = cli.ok("history", "churn", "--env", "prod")
    assert "conflict" in table and "refused" in table and "0/1 forced" in table

    states = cli.json("deployments")
    assert [(s["service"], s["env"], s["revision"]) for s in states] == [
        ("api", "dev", None),
        ("api", "staging", None),
        ("api", "prod", None),
        ("churn", "staging", "v1"),
        ("churn", "prod", "v1"),
    ]
    assert "churn    prod" in cli.ok("deployments")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["deploy", "nope", "v1", "--env", "prod"], 2, "unknown service 'nope'"),
        (["deploy", "churn", "v1", "--env", "qa"], 2, "service 'churn' has no environment 'qa'"),
        (["deploy", "churn", "v7", "--env", "staging"], 2, "model 'churn' has no version v7"),
        (["promote", "churn", "--to", "staging"], 2, "staging is the first environment of churn"),
        (["promote", "churn", "--to", "prod"], 1, "nothing is deployed in staging of churn"),
        (["rollback", "churn", "--env", "prod"], 1, "prod of churn has nothing deployed"),
        (["history", "churn", "--env", "qa"], 2, "service 'churn' has no environment 'qa'"),
        (["models", "nope"], 2, "unknown model 'nope'; models: churn"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    cli: Cli, args: list[str], code: int, message: str
) -> None:
    cli.ok("run", "train")
    before = cli.db_state()
    got, out, err = cli(*args)
    assert got == code and out == ""
    assert err.startswith("shipdeck: error: ") and message in err and err.count("\n") == 1
    assert cli.db_state() == before


def test_real_executable(tmp_path: Path) -> None:
    write_workspace(tmp_path)

    def shipdeck(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "NO_COLOR": "1"}
        return subprocess.run(
            [sys.executable, "-m", "shipdeck", "-C", str(tmp_path), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )

    assert shipdeck("run", "build", "-p", "version=3").returncode == 0
    result = shipdeck("deploy", "api", "latest", "--env", "dev")
    assert result.returncode == 0, result.stderr
    assert "deploy api r1 to dev (dev: none -> r1)" in result.stdout
    assert (tmp_path / "envs/api/dev/revision").read_text() == "r1\n"
    (tmp_path / "fail_health").touch()
    failed = shipdeck("deploy", "api", "r1", "--env", "staging")
    assert failed.returncode == 1 and "health failed: exit 1" in failed.stdout


def test_compare_stars_the_better_value_of_a_metric_several_tasks_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "shipdeck.toml").write_text(SHARDS)
    cli = Cli(tmp_path, capsys)
    cli.ok("run", "shards")
    cli.ok("run", "shards", "-p", "a=0.2", "-p", "b=0.6", "-p", "rows=200")
    out = cli.ok("compare", "1", "2")
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    # Lower loss is better for each shard; a count has no better value, so no star and no arrow.
    assert lines["train_a.loss"].split()[1:] == ["↓", "0.3", "0.2", "(-0.1,", "-33.3%)", "★"]
    assert lines["train_b.loss"].split()[1:] == ["↓", "0.5", "★", "0.6", "(+0.1,", "+20.0%)"]
    assert lines["rows_train"].split()[1:] == ["100", "200", "(+100,", "+100.0%)"]
    data = cli.json("compare", "1", "2")
    directions = {row["key"]: row["direction"] for row in data["rows"] if row["kind"] == "metric"}
    assert directions == {"train_a.loss": "min", "rows_train": None, "train_b.loss": "min"}
