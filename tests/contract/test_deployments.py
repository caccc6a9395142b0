"""Models and deployments through the Runner contract (every kind, see tests/contract)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipdeck.errors import Conflict, NotFound, WorkspaceError
from shipdeck.model import DeployAction, Outcome, RunStatus, WorkspaceSpec
from shipdeck.model.capabilities import Capability
from shipdeck.runners.protocol import Runner
from tests.contract.harness import WORKSPACE_FILE, Seeder, needs
from tests.engine.deploy.conftest import write_workspace


@pytest.fixture
def contract_seed(tmp_path: Path) -> WorkspaceSpec:
    """A workspace with services (api, churn) and a model (churn), see tests/engine/deploy."""
    (tmp_path / "ws").mkdir()
    return write_workspace(tmp_path / "ws")


@pytest.fixture
def deck(contract_runner: Runner) -> Runner:
    return contract_runner


async def finished(runner: Runner, pipeline: str, params: dict[str, str]) -> int:
    run = await runner.start_run(pipeline, params)
    assert (await runner.wait_run(run.id)).status == RunStatus.SUCCEEDED
    return run.id


@needs(Capability.MODELS, Capability.ALIASES)
async def test_models_aliases_and_compare(deck: Runner, contract_seeder: Seeder) -> None:
    first = await contract_seeder("train", {"auc": "0.85"})
    await contract_seeder("train", {"auc": "0.9"})
    assert [m.name for m in await deck.models()] == ["churn"]
    versions = await deck.model_versions("churn")
    assert [v.revision for v in versions] == ["v2", "v1"]
    move = await deck.alias("churn", "champion", "v1")
    assert move.model == "churn" and move.alias == "champion"
    assert "champion" in (await deck.model_versions("churn"))[1].aliases
    comparison = await deck.compare([str(first), "churn@v2"])
    assert len(comparison.subjects) == 2
    with pytest.raises(NotFound):
        await deck.model_versions("nope")


@needs(Capability.TRIGGER_PARAMS, Capability.DEPLOYMENTS)
async def test_deploy_promote_rollback_and_history(deck: Runner) -> None:
    assert [s.name for s in await deck.services()] == ["api", "churn"]
    build = await finished(deck, "build", {"version": "3"})
    revision = f"r{build}"
    plan = await deck.plan(DeployAction.DEPLOY, "api", "dev", revision=revision)
    assert plan.service == "api" and plan.env == "dev"
    entry = await deck.deploy("api", revision, "dev", expect="none", reason="first")
    assert entry.outcome == Outcome.SUCCEEDED and entry.to_revision == revision
    with pytest.raises(Conflict):
        await deck.deploy("api", revision, "dev", expect="r999")
    promoted = await deck.promote("api", "staging")
    assert promoted.to_revision == revision
    states = {(s.service, s.env): s.revision for s in await deck.deployments()}
    assert states[("api", "dev")] == revision and states[("api", "staging")] == revision
    second = f"r{await finished(deck, 'build', {'version': '4'})}"
    await deck.deploy("api", second, "dev")
    back = await deck.rollback("api", "dev", reason="oops")
    assert (back.action, back.to_revision) == (DeployAction.ROLLBACK, revision)
    history = await deck.history("api", "dev")
    assert [(h.action, h.outcome) for h in history] == [
        (DeployAction.ROLLBACK, Outcome.SUCCEEDED),
        (DeployAction.DEPLOY, Outcome.SUCCEEDED),
        (DeployAction.DEPLOY, Outcome.CONFLICT),
        (DeployAction.DEPLOY, Outcome.SUCCEEDED),
    ]
    assert history[0].reason == "oops"


@WORKSPACE_FILE
@needs(Capability.TRIGGER_PARAMS, Capability.DEPLOYMENTS)
async def test_services_follow_the_workspace_file(deck: Runner, tmp_path: Path) -> None:
    file = tmp_path / "ws" / "shipdeck.toml"
    text = file.read_text()
    revision = f"r{await finished(deck, 'build', {'version': '3'})}"
    grown = text.replace('["dev", "staging", "prod"]', '["dev", "qa", "staging", "prod"]')
    file.write_text(grown)
    assert [(s.service, s.env) for s in await deck.deployments()][:2] == [
        ("api", "dev"),
        ("api", "qa"),
    ]
    entry = await deck.deploy("api", revision, "qa")
    assert entry.outcome == Outcome.SUCCEEDED

    file.write_text(grown + "garbage = = 1\n")
    problem = f"{file}:{grown.count(chr(10)) + 1}: invalid TOML: invalid value (at column 11)"
    for act in (
        lambda: deck.deploy("api", revision, "dev"),
        lambda: deck.promote("api", "qa"),
        lambda: deck.rollback("api", "qa"),
    ):
        with pytest.raises(WorkspaceError) as refused:
            await act()
        assert refused.value.problems == [problem]
    assert (await deck.services())[0].environments[:2] == ("dev", "qa")  # the last good
    assert [h.env for h in await deck.history("api")] == ["qa"]  # nothing was done


@WORKSPACE_FILE
@needs(Capability.TRIGGER_PARAMS, Capability.DEPLOYMENTS, Capability.FAILURES)
async def test_a_failed_deploy_stays_a_failure_until_that_environment_succeeds(
    deck: Runner, tmp_path: Path
) -> None:
    revision = f"r{await finished(deck, 'build', {'version': '3'})}"
    await deck.deploy("api", revision, "dev")
    (tmp_path / "ws" / "fail_deploy").touch()
    failed = await deck.deploy("api", revision, "staging")
    assert failed.outcome == Outcome.FAILED and failed.run_id is not None
    (tmp_path / "ws" / "fail_deploy").unlink()
    await deck.deploy("api", revision, "dev")  # another environment's success fixes nothing
    streaks = await deck.failures()
    assert [(s.run.id, s.run.pipeline, s.env, s.count) for s in streaks] == [
        (failed.run_id, "deploy:api", "staging", 1)
    ]
    await deck.deploy("api", revision, "staging")
    assert await deck.failures() == []
