"""A workspace with a pipeline service (`api`) and a model service (`churn`), real scripts, and
helpers to run pipelines and read the ledger before and after an action."""

from __future__ import annotations

import sqlite3
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shipdeck.engine import Engine
from shipdeck.engine.deploy.deployments import Deployments
from shipdeck.model import RunStatus, WorkspaceSpec
from shipdeck.workspace import load_workspace

USER = "tester@host"

WORKSPACE = """
[metrics]
score = "min"

[pipelines.build]
params = { version = "1", fail = false }

[pipelines.build.tasks.package]
run = "sh scripts/package.sh"

[pipelines.train]
params = { auc = 0.9, fail = false, skip_model = false }

[pipelines.train.tasks.train]
run = "sh scripts/train.sh"
registers = { model = "churn", artifact = "out/model.json" }

[services.api]
pipeline = "build"
artifact = "dist/app.txt"
environments = ["dev", "staging", "prod"]
deploy = "sh scripts/deploy.sh"
health = "sh scripts/health.sh"
gates.prod = ["pipeline:build succeeded", "soak:staging 10m"]

[services.churn]
model = "churn"
environments = ["staging", "prod"]
deploy = "sh scripts/deploy.sh"
health = "sh scripts/health_model.sh"
gates.prod = ["metric:auc >= 0.8"]
"""

SHARDS = """
[pipelines.shards]
params = { a = 0.3, b = 0.5, rows = 100 }

[pipelines.shards.tasks.train_a]
run = 'echo "::metric loss=$SHIPDECK_PARAM_A"; echo "::metric rows_train=$SHIPDECK_PARAM_ROWS"'

[pipelines.shards.tasks.train_b]
run = 'echo "::metric loss=$SHIPDECK_PARAM_B"'
"""
"""A pipeline whose two tasks both report `loss` (so runs key it TASK.KEY) and a count."""


SCRIPTS = {
    "package.sh": """
        set -e
        mkdir -p dist
        echo "app $SHIPDECK_PARAM_VERSION" > dist/app.txt
        echo "::metric size=$SHIPDECK_PARAM_VERSION"
        if [ "$SHIPDECK_PARAM_FAIL" = true ]; then echo "build failed" >&2; exit 1; fi
    """,
    "train.sh": """
        set -e
        rm -f out/model.json
        mkdir -p out
        echo "::metric auc=$SHIPDECK_PARAM_AUC"
        if [ "$SHIPDECK_PARAM_SKIP_MODEL" != true ]; then
            printf '{"auc": %s}\\n' "$SHIPDECK_PARAM_AUC" > out/model.json
        fi
        if [ "$SHIPDECK_PARAM_FAIL" = true ]; then echo "training failed" >&2; exit 2; fi
    """,
    "deploy.sh": """
        set -e
        if [ -e fail_deploy ]; then echo "deploy failed on purpose" >&2; exit 1; fi
        if [ -e slow_deploy ]; then echo "deploying slowly"; sleep 30; fi
        target="envs/$SHIPDECK_SERVICE/$SHIPDECK_ENV"
        mkdir -p "$target"
        rm -f "$target/artifact"
        cp "$SHIPDECK_ARTIFACT" "$target/artifact"
        echo "$SHIPDECK_REVISION" > "$target/revision"
        names='SERVICE|ENV|REVISION|ARTIFACT|PREVIOUS_REVISION|ACTION'
        env | grep -E "^SHIPDECK_($names)=" | sort > "$target/vars"
        echo "$SHIPDECK_ACTION ${SHIPDECK_PREVIOUS_REVISION:-none} -> $SHIPDECK_REVISION"
    """,
    "health.sh": """
        if [ -e fail_health ]; then echo "unhealthy on purpose" >&2; exit 1; fi
        echo healthy
    """,
    "health_model.sh": """
        auc=$(sed 's/.*"auc": *\\([0-9.]*\\).*/\\1/' "envs/churn/$SHIPDECK_ENV/artifact")
        echo "auc $auc"
        awk -v auc="$auc" 'BEGIN { exit !(auc >= 0.7) }'
    """,
}


def write_workspace(root: Path, text: str = WORKSPACE) -> WorkspaceSpec:
    (root / "shipdeck.toml").write_text(textwrap.dedent(text))
    scripts = root / "scripts"
    scripts.mkdir(exist_ok=True)
    for name, body in SCRIPTS.items():
        (scripts / name).write_text(textwrap.dedent(body).lstrip())
    return load_workspace(root)


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Deck:
    """One engine + deployments on the test workspace, with a clock the test moves."""

    def __init__(self, root: Path, workspace: WorkspaceSpec) -> None:
        self.root = root
        self.workspace = workspace
        self.clock = Clock()
        self.engines: list[tuple[Engine, Deployments]] = []
        self.engine, self.deployer = self.open()

    def open(self) -> tuple[Engine, Deployments]:
        engine = Engine(self.workspace)
        deployer = Deployments(engine, user=USER, clock=self.clock)
        self.engines.append((engine, deployer))
        return engine, deployer

    async def close(self) -> None:
        for engine, deployer in self.engines:
            await engine.close()
            await deployer.close()

    async def run(self, pipeline: str, **params: Any) -> str:
        spec = self.workspace.pipelines[pipeline]
        resolved = {**spec.params, **params}
        run = self.engine.start_run(pipeline, resolved, jobs=1, user=USER)
        finished = await self.engine.wait_run(run.id)
        assert finished.status.finished
        return run.id

    async def build(self, **params: Any) -> str:
        run_id = await self.run("build", **params)
        assert self.engine.get_run(run_id).status == RunStatus.SUCCEEDED
        return f"r{run_id}"

    async def train(self, **params: Any) -> str:
        return await self.run("train", **params)

    def on_disk(self, service: str, env: str) -> str | None:
        path = self.root / "envs" / service / env / "revision"
        return path.read_text().strip() if path.exists() else None

    def vars_on_disk(self, service: str, env: str) -> dict[str, str]:
        text = (self.root / "envs" / service / env / "vars").read_text()
        return dict(line.split("=", 1) for line in text.splitlines())

    def ledger(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of the deployment and registry tables, and of the runs table."""
        db = sqlite3.connect(self.workspace.state_dir / "shipdeck.db")
        try:
            return {
                table: db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
                for table in (
                    "deploy_current",
                    "deploy_claims",
                    "deploy_history",
                    "model_versions",
                    "model_aliases",
                    "alias_moves",
                    "runs",
                )
            }
        finally:
            db.close()


@pytest.fixture
async def deck(tmp_path: Path) -> AsyncIterator[Deck]:
    opened = Deck(tmp_path, write_workspace(tmp_path))
    try:
        yield opened
    finally:
        await opened.close()
