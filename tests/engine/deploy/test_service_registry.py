"""`registry` and `aliases` on a service in the workspace file: what loads, and each error."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.deploy.test_workspace_services import load, problems

SERVICE = """
[services.churn]
model = "{model}"
registry = "lab"
environments = ["staging", "prod"]
deploy = "sh deploy.sh"
gates.prod = ["metric:auc >= 0.8", "soak:staging 1h"]
aliases.prod = "champion"
"""


def test_a_model_of_a_registry_needs_no_task_that_registers_it(tmp_path: Path) -> None:
    service = load(tmp_path, SERVICE.format(model="fraud")).services["churn"]
    assert (service.model, service.registry, service.aliases) == (
        "fraud",
        "lab",
        {"prod": "champion"},
    )


def test_aliases_work_for_the_workspace_s_own_models_too(tmp_path: Path) -> None:
    text = SERVICE.format(model="churn").replace('registry = "lab"\n', "")
    service = load(tmp_path, text).services["churn"]
    assert (service.registry, service.aliases) == (None, {"prod": "champion"})


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'model = "fraud"',
            'pipeline = "ci"\nartifact = "a.tgz"',
            " services.churn.registry: applies to model services (set 'model')",
        ),
        (
            'registry = "lab"',
            'registry = "a lab"',
            " services.churn.registry: 'a lab' is not a runner name"
            " (letters, digits, '.', '_' or '-')",
        ),
        (
            '"soak:staging 1h"',
            '"pipeline:train succeeded"',
            " services.churn.gates.prod: gate 'pipeline:train succeeded': pipeline gates need"
            " versions this workspace registers; lab holds this model (use metric: or soak:"
            " gates)",
        ),
        (
            'aliases.prod = "champion"',
            'auto_promote = { to = "staging" }',
            " services.churn.auto_promote: promotion policies follow versions this workspace"
            " registers; lab holds this model",
        ),
        (
            'aliases.prod = "champion"',
            'aliases.prd = "champion"',
            " services.churn.aliases.prd: 'prd' is not an environment of this service (did you"
            " mean 'prod'?); environments: staging, prod",
        ),
        (
            'aliases.prod = "champion"',
            'aliases.prod = "v2"',
            ' services.churn.aliases.prod: must be an alias name like "champion" (not latest,'
            " not like a version), got string 'v2'",
        ),
    ],
)
def test_each_mistake_is_one_located_line(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    text = SERVICE.format(model="fraud")
    assert old in text
    found = problems(tmp_path, text.replace(old, new))
    assert any(p.endswith(expected) for p in found), found
