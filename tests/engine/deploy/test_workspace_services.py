"""[services] and [metrics] in the workspace file: what loads, and each located error."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from shipdeck.errors import WorkspaceError
from shipdeck.model import GateKind, MetricDirection, WorkspaceSpec
from shipdeck.workspace import load_workspace

PIPELINES = """
[pipelines.ci.tasks.package]
run = "true"

[pipelines.train.tasks.fit]
run = "true"
registers = { model = "churn", artifact = "out/model.json" }
"""


def load(tmp_path: Path, text: str) -> WorkspaceSpec:
    (tmp_path / "shipdeck.toml").write_text(textwrap.dedent(PIPELINES + text))
    return load_workspace(tmp_path)


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(WorkspaceError) as caught:
        load(tmp_path, text)
    return [p.split(":", 1)[1] for p in caught.value.problems]


def test_services_and_metrics_load(tmp_path: Path) -> None:
    workspace = load(
        tmp_path,
        """
        [metrics]
        auc = "max"
        p95 = "min"

        [services.api]
        pipeline = "ci"
        artifact = "dist/app.tgz"
        environments = ["dev", "staging", "prod"]
        deploy = "sh deploy.sh"
        health = "sh health.sh"
        timeout = "2m"
        gates.prod = ["pipeline:ci succeeded", "soak:staging 10m"]

        [services.churn]
        model = "churn"
        environments = ["staging", "prod"]
        deploy = "sh deploy_model.sh"
        gates.prod = ["metric:auc >= 0.80"]
        """,
    )
    assert workspace.metrics == {"auc": MetricDirection.MAX, "p95": MetricDirection.MIN}
    assert workspace.direction("p95") == MetricDirection.MIN
    assert workspace.direction("val_loss") == MetricDirection.MIN
    api = workspace.services["api"]
    assert (api.pipeline, api.artifact, api.model) == ("ci", "dist/app.tgz", None)
    assert api.environments == ("dev", "staging", "prod")
    assert (api.deploy, api.health, api.timeout) == ("sh deploy.sh", "sh health.sh", 120.0)
    assert [(g.kind, g.text) for g in api.gates["prod"]] == [
        (GateKind.PIPELINE, "pipeline:ci succeeded"),
        (GateKind.SOAK, "soak:staging 10m"),
    ]
    churn = workspace.services["churn"]
    assert (churn.model, churn.pipeline, churn.health) == ("churn", None, None)
    assert churn.gates["prod"][0].threshold == 0.8


def test_located_errors(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
        [metrics]
        auc = "up"

        [services.api]
        pipeline = "cj"
        environments = ["dev", "prod", "dev"]
        deploy = "sh deploy.sh"
        helth = "x"
        gates.stage = ["metric:auc >= 0.8"]
        gates.prod = ["metric:auc => 0.8", "pipeline:nope succeeded", "soak:prod 1m", "soak:dev 5x"]

        [services.both]
        pipeline = "ci"
        model = "churn"
        artifact = "a"
        environments = []
        deploy = ""

        [services.neither]
        environments = ["x"]
        deploy = "d"

        [services.m]
        model = "chrun"
        artifact = "a.bin"
        environments = ["x"]
        deploy = "d"
        """,
    )
    assert found == [
        '10: metrics.auc: must be "max" or "min", got string \'up\'',
        "12: services.api: a pipeline service needs 'artifact' (the file its runs build)",
        "13: services.api.pipeline: unknown pipeline 'cj'",
        "14: services.api.environments: environment 'dev' is listed twice",
        "16: services.api.helth: unknown key 'helth' (did you mean 'health'?)",
        "17: services.api.gates.stage: 'stage' is not an environment of this service; "
        "environments: dev, prod, dev",
        "18: services.api.gates.prod: bad gate 'metric:auc => 0.8': expected 'metric:KEY OP NUMBER'"
        " with OP one of >= <= == != > <",
        "18: services.api.gates.prod: gate 'pipeline:nope succeeded': unknown pipeline 'nope'",
        "18: services.api.gates.prod: gate 'soak:prod 1m': 'prod' must come before 'prod' in"
        " environments",
        "18: services.api.gates.prod: bad gate 'soak:dev 5x': bad duration '5x': expected a number"
        " of seconds or a duration like '500ms', '30s', '10m', '1h30m'",
        "20: services.both: set exactly one of 'pipeline' (deploy its runs) or 'model'",
        "24: services.both.environments: must name at least one environment",
        "25: services.both.deploy: must be a non-empty string",
        "27: services.neither: set exactly one of 'pipeline' (deploy its runs) or 'model'",
        "32: services.m.model: no task registers model 'chrun' (did you mean 'churn'?)"
        " (add registers = { model, artifact } to the task that builds it)",
        "33: services.m.artifact: only pipeline services take 'artifact'",
    ]
