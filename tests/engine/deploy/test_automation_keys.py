"""The automation keys of a service (health_every, auto_rollback, rollback_after,
auto_promote) and `registers.alias`: what loads, and each located error (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shipdeck.errors import WorkspaceError
from shipdeck.model import PolicyTerm, WorkspaceSpec
from shipdeck.workspace import load_workspace
from shipdeck.workspace.automation import parse_policy

PIPELINES = """
[pipelines.ci.tasks.package]
run = "true"

[pipelines.train.tasks.fit]
run = "true"
registers = { model = "churn", artifact = "out/model.json", alias = "challenger" }
"""

API = """
[services.api]
pipeline = "ci"
artifact = "dist/app.tgz"
environments = ["dev", "staging", "prod"]
deploy = "sh deploy.sh"
health = "sh health.sh"
"""

CHURN = """
[services.churn]
model = "churn"
environments = ["staging", "prod"]
deploy = "sh deploy_model.sh"
"""


def load(tmp_path: Path, text: str) -> WorkspaceSpec:
    (tmp_path / "shipdeck.toml").write_text(textwrap.dedent(PIPELINES + text))
    return load_workspace(tmp_path)


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(WorkspaceError) as caught:
        load(tmp_path, text)
    return [p.split(":", 1)[1] for p in caught.value.problems]


def test_the_keys_load(tmp_path: Path) -> None:
    workspace = load(
        tmp_path,
        API
        + """health_every = { prod = "30s", staging = "5m" }
auto_rollback = ["prod"]
rollback_after = 5
"""
        + CHURN
        + """health = "sh health.sh"
health_every = "1m"
auto_promote = { to = "staging", if = "auc >= champion.auc + 0.005 and loss < 0.3" }
""",
    )
    api, churn = workspace.services["api"], workspace.services["churn"]
    assert api.health_every == {"prod": 30.0, "staging": 300.0}
    assert (api.auto_rollback, api.rollback_after, api.auto_promote) == (("prod",), 5, None)
    assert churn.health_every == {"staging": 60.0, "prod": 60.0}
    assert churn.auto_rollback == ()
    assert churn.auto_promote is not None
    assert (churn.auto_promote.to, churn.auto_promote.allow_prod) == ("staging", False)
    assert churn.auto_promote.terms == (
        PolicyTerm(
            text="auc >= champion.auc + 0.005",
            metric="auc",
            op=">=",
            champion_metric="auc",
            offset=0.005,
        ),
        PolicyTerm(text="loss < 0.3", metric="loss", op="<", offset=0.3),
    )
    fit = workspace.pipelines["train"].tasks["fit"]
    assert fit.registers is not None and fit.registers.alias == "challenger"


def test_a_production_environment_is_refused_unless_allowed(tmp_path: Path) -> None:
    promote = 'auto_promote = { to = "prod", if = "auc > champion.auc" }\n'
    assert problems(tmp_path, CHURN + promote) == [
        "13: services.churn.auto_promote.to: 'prod' is a production environment (a person"
        " confirms what goes there); automatic promotion to it needs allow_prod = true"
    ]
    allowed = 'auto_promote = { to = "prod", if = "auc > champion.auc", allow_prod = true }\n'
    promote_spec = load(tmp_path, CHURN + allowed).services["churn"].auto_promote
    assert promote_spec is not None and promote_spec.allow_prod


def test_the_last_environment_counts_as_production(tmp_path: Path) -> None:
    text = CHURN.replace('["staging", "prod"]', '["dev", "live"]')
    assert problems(tmp_path, text + 'auto_promote = { to = "live" }\n') == [
        "13: services.churn.auto_promote.to: 'live' is a production environment (a person"
        " confirms what goes there); automatic promotion to it needs allow_prod = true"
    ]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            'health_every = "1m"\n',
            "13: services.churn.health_every: needs the service's 'health' command (it is what"
            " runs)",
        ),
        (
            'health = "h"\nhealth_every = "0.5s"\n',
            "14: services.churn.health_every: must be at least 1s, got string '0.5s'",
        ),
        (
            'health = "h"\nhealth_every = { prd = "1m" }\n',
            "14: services.churn.health_every.prd: 'prd' is not an environment of this service"
            " (did you mean 'prod'?); environments: staging, prod",
        ),
        (
            'health = "h"\nauto_rollback = ["prod"]\n',
            "14: services.churn.auto_rollback: 'prod': it rolls back when scheduled health"
            ' checks fail: set health_every = "1m"',
        ),
        (
            'health = "h"\nhealth_every = { staging = "1m" }\nauto_rollback = ["prod"]\n',
            "15: services.churn.auto_rollback: 'prod': its health is not checked on a"
            " schedule: add it to health_every",
        ),
        (
            'health = "h"\nhealth_every = "1m"\nauto_rollback = ["prod"]\nrollback_after = 0\n',
            "16: services.churn.rollback_after: must be a number of failed checks from 1 to"
            " 100, got integer 0",
        ),
        (
            "rollback_after = 2\n",
            "13: services.churn.rollback_after: applies to auto_rollback (set the environments"
            " it rolls back)",
        ),
        (
            'auto_promote = { to = "staging", if = "auc >= champ.auc" }\n',
            "13: services.churn.auto_promote.if: bad policy term 'auc >= champ.auc': expected"
            " 'KEY OP NUMBER' or 'KEY OP champion.KEY [+ or - NUMBER]', joined by 'and'",
        ),
        (
            'auto_promote = { to = "stagin" }\n',
            "13: services.churn.auto_promote.to: 'stagin' is not an environment of this"
            " service (did you mean 'staging'?); environments: staging, prod",
        ),
        (
            'auto_promote = { to = "staging", when = "x" }\n',
            "13: services.churn.auto_promote.when: unknown key 'when'; expected one of:"
            " allow_prod, if, to",
        ),
    ],
)
def test_each_problem_is_one_located_line(tmp_path: Path, extra: str, expected: str) -> None:
    assert problems(tmp_path, CHURN + extra) == [expected]


def test_only_model_services_take_a_promotion_policy(tmp_path: Path) -> None:
    assert problems(tmp_path, API + 'auto_promote = { to = "staging" }\n') == [
        "15: services.api.auto_promote: only model services have challenger versions to"
        " promote (set 'model')"
    ]


def test_a_bad_alias_on_registers(tmp_path: Path) -> None:
    text = PIPELINES.replace('alias = "challenger"', 'alias = "v2"')
    (tmp_path / "shipdeck.toml").write_text(text)
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(tmp_path)
    assert [p.split(":", 1)[1] for p in caught.value.problems] == [
        "7: pipelines.train.tasks.fit.registers.alias: bad alias 'v2': start with a letter,"
        " use letters, digits, '-' and '_', and don't look like a version (v3)"
    ]


def test_policy_terms() -> None:
    [term] = parse_policy("loss <= champion.loss - 0.01")
    assert (term.champion_metric, term.offset, term.op) == ("loss", -0.01, "<=")
    with pytest.raises(ValueError, match="bad policy term 'auc >='"):
        parse_policy("auc >= ")


def test_validate_exits_2_and_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "shipdeck.toml").write_text(
        textwrap.dedent(PIPELINES + CHURN + 'auto_promote = { to = "prod" }\n')
    )
    env = {**os.environ, "SHIPDECK_IN_PROCESS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "shipdeck", "-C", str(tmp_path), "validate"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 2
    assert "shipdeck.toml:13: services.churn.auto_promote.to: 'prod' is a production" in (
        done.stdout + done.stderr
    )
    assert "Traceback" not in done.stderr
    assert not (tmp_path / ".shipdeck").exists()
