"""Deploy, promote and roll back through real deploy/health scripts: success and failure paths,
gates, --force, dry runs, and bad input that must leave every table unchanged."""

from __future__ import annotations

import pytest

from shipdeck.engine.runs.artifacts import artifact_path
from shipdeck.errors import Conflict, InvalidInput, NotFound, Refused
from shipdeck.model import DeployAction, Outcome, RunStatus

from .conftest import USER, Deck


async def test_deploy_runs_the_command_with_its_variables(deck: Deck) -> None:
    rev = await deck.build(version="7")
    entry = await deck.deployer.deploy("api", rev, "dev", reason="first")
    assert entry.outcome == Outcome.SUCCEEDED
    assert (entry.action, entry.from_revision, entry.to_revision) == (
        DeployAction.DEPLOY,
        None,
        rev,
    )
    assert (entry.user, entry.reason, entry.forced) == (USER, "first", False)
    assert deck.on_disk("api", "dev") == rev
    sha = deck.deployer.registry.run_artifact(int(rev[1:]), "dist/app.txt")
    assert sha is not None
    assert deck.vars_on_disk("api", "dev") == {
        "SHIPDECK_ACTION": "deploy",
        "SHIPDECK_ARTIFACT": str(artifact_path(deck.workspace.state_dir, sha)),
        "SHIPDECK_ENV": "dev",
        "SHIPDECK_PREVIOUS_REVISION": "",
        "SHIPDECK_REVISION": rev,
        "SHIPDECK_SERVICE": "api",
    }
    assert (deck.root / "envs/api/dev/artifact").read_text() == "app 7\n"

    assert entry.run_id is not None
    run = deck.engine.run_detail(entry.run_id)
    assert run.run.pipeline == "deploy:api" and run.run.status == RunStatus.SUCCEEDED
    assert [t.name for t in run.tasks] == ["deploy", "health"]
    log = deck.engine.read_log(entry.run_id, "deploy")
    assert f"deploy none -> {rev}" in [line.text for line in log.lines]

    (dev, staging, prod) = [s for s in deck.deployer.deployments() if s.service == "api"]
    assert (dev.revision, dev.user, dev.run_id, dev.health) == (rev, USER, entry.run_id, "passed")
    assert staging.revision is None and prod.revision is None


async def test_deploy_failure_keeps_the_environment(deck: Deck) -> None:
    good = await deck.build(version="1")
    await deck.deployer.deploy("api", good, "dev")
    bad = await deck.build(version="2")
    (deck.root / "fail_deploy").touch()
    entry = await deck.deployer.deploy("api", bad, "dev", expect=good)
    assert entry.outcome == Outcome.FAILED
    assert entry.detail.startswith(f"deploy failed: exit 1; dev keeps {good}")
    assert entry.run_id is not None and f"shipdeck logs {entry.run_id} deploy" in entry.detail
    assert deck.deployer.store.state("api", "dev").revision == good
    assert deck.on_disk("api", "dev") == good
    assert deck.deployer.store.state("api", "dev").in_flight is None
    assert deck.ledger()["deploy_claims"] == []


async def test_health_failure_keeps_the_environment_and_records_it(deck: Deck) -> None:
    good = await deck.build(version="1")
    await deck.deployer.deploy("api", good, "dev")
    bad = await deck.build(version="2")
    (deck.root / "fail_health").touch()
    entry = await deck.deployer.deploy("api", bad, "dev")
    assert entry.outcome == Outcome.FAILED
    assert entry.detail.startswith("health failed: exit 1")
    state = deck.deployer.store.state("api", "dev")
    assert (state.revision, state.health, state.health_revision) == (good, "failed", bad)
    (latest, *_) = deck.deployer.history("api", "dev")
    assert latest.id == entry.id and latest.outcome == Outcome.FAILED
    assert latest.run_id == entry.run_id


async def test_promote_moves_along_and_rollback_returns(deck: Deck) -> None:
    first = await deck.build(version="1")
    second = await deck.build(version="2")
    await deck.deployer.deploy("api", first, "dev")
    promoted = await deck.deployer.promote("api", "staging", expect="none")
    assert (promoted.action, promoted.to_revision, promoted.outcome) == (
        DeployAction.PROMOTE,
        first,
        Outcome.SUCCEEDED,
    )
    assert deck.on_disk("api", "staging") == first
    await deck.deployer.deploy("api", second, "staging", expect=first)
    assert deck.on_disk("api", "staging") == second

    back = await deck.deployer.rollback("api", "staging", expect=second, reason="bad release")
    assert (back.action, back.from_revision, back.to_revision) == (
        DeployAction.ROLLBACK,
        second,
        first,
    )
    assert back.outcome == Outcome.SUCCEEDED and back.reason == "bad release"
    assert deck.on_disk("api", "staging") == first
    assert deck.vars_on_disk("api", "staging")["SHIPDECK_ACTION"] == "rollback"
    assert deck.vars_on_disk("api", "staging")["SHIPDECK_PREVIOUS_REVISION"] == second

    chosen = await deck.deployer.rollback("api", "staging", to=second)
    assert chosen.to_revision == second and deck.on_disk("api", "staging") == second
    history = deck.deployer.history("api", "staging")
    assert [(h.action, h.from_revision, h.to_revision) for h in history] == [
        (DeployAction.ROLLBACK, first, second),
        (DeployAction.ROLLBACK, second, first),
        (DeployAction.DEPLOY, first, second),
        (DeployAction.PROMOTE, None, first),
    ]


async def test_rollback_failure_keeps_the_environment(deck: Deck) -> None:
    first, second = await deck.build(version="1"), await deck.build(version="2")
    await deck.deployer.deploy("api", first, "dev")
    await deck.deployer.deploy("api", second, "dev")
    (deck.root / "fail_deploy").touch()
    entry = await deck.deployer.rollback("api", "dev")
    assert entry.outcome == Outcome.FAILED and entry.to_revision == first
    assert deck.deployer.store.state("api", "dev").revision == second


async def test_pipeline_and_soak_gates(deck: Deck) -> None:
    rev = await deck.build()
    await deck.deployer.deploy("api", rev, "dev")
    await deck.deployer.promote("api", "staging")
    plan = await deck.deployer.plan_promote("api", "prod")
    assert [(g.gate, g.passed) for g in plan.gates] == [
        ("pipeline:build succeeded", True),
        ("soak:staging 10m", False),
    ]
    assert plan.gates[1].reason == f"{rev} in staging for 0.0s, needs 10m00s"
    before = deck.ledger()
    with pytest.raises(Refused, match="gate failed: soak:staging 10m"):
        await deck.deployer.promote("api", "prod", expect="none")
    after = deck.ledger()
    assert after["deploy_current"] == before["deploy_current"]
    assert after["runs"] == before["runs"]
    (refused, *_) = deck.deployer.history("api", "prod")
    assert refused.outcome == Outcome.REFUSED and not refused.forced
    assert [g.passed for g in refused.gates] == [True, False]

    deck.clock.advance(minutes=10)
    entry = await deck.deployer.promote("api", "prod", expect="none")
    assert entry.outcome == Outcome.SUCCEEDED and deck.on_disk("api", "prod") == rev
    assert all(g.passed for g in entry.gates)


async def test_metric_gate_force_and_health_floor(deck: Deck) -> None:
    await deck.train(auc=0.9)
    await deck.train(auc=0.75)
    await deck.train(auc=0.6)
    await deck.deployer.deploy("churn", "v1", "staging")
    await deck.deployer.promote("churn", "prod")
    assert deck.on_disk("churn", "prod") == "v1"

    await deck.deployer.deploy("churn", "v2", "staging")
    assert deck.deployer.store.state("churn", "staging").revision == "v2"
    with pytest.raises(Refused, match=r"metric:auc >= 0.8: auc 0.75 < 0.8 \(use --force"):
        await deck.deployer.promote("churn", "prod", expect="v1")
    assert deck.on_disk("churn", "prod") == "v1"

    forced = await deck.deployer.deploy(
        "churn", "v3", "prod", expect="v1", force=True, reason="testing the floor"
    )
    assert forced.forced and [g.passed for g in forced.gates] == [False]
    assert forced.outcome == Outcome.FAILED
    assert forced.detail.startswith("health failed: exit 1; prod keeps v1")
    prod = deck.deployer.store.state("churn", "prod")
    assert (prod.revision, prod.health, prod.health_revision) == ("v1", "failed", "v3")
    outcomes = [(h.outcome, h.forced) for h in deck.deployer.history("churn", "prod")]
    assert outcomes[:2] == [(Outcome.FAILED, True), (Outcome.REFUSED, False)]

    promoted = await deck.deployer.promote("churn", "prod", expect="v1", force=True)
    assert promoted.outcome == Outcome.SUCCEEDED and promoted.forced
    assert deck.deployer.store.state("churn", "prod").revision == "v2"


async def test_expect_mismatch_is_a_recorded_conflict(deck: Deck) -> None:
    rev = await deck.build()
    await deck.deployer.deploy("api", rev, "dev")
    other = await deck.build(version="2")
    before = deck.ledger()
    with pytest.raises(Conflict, match=f"dev of api holds {rev}, not r99 as expected"):
        await deck.deployer.deploy("api", other, "dev", expect="r99")
    after = deck.ledger()
    assert after["deploy_current"] == before["deploy_current"]
    assert after["runs"] == before["runs"]
    (conflict, *_) = deck.deployer.history("api", "dev")
    assert conflict.outcome == Outcome.CONFLICT and conflict.from_revision == rev


async def test_dry_run_plans_and_changes_nothing(deck: Deck) -> None:
    await deck.train(auc=0.75)
    await deck.deployer.deploy("churn", "v1", "staging")
    before = deck.ledger()
    plan = await deck.deployer.plan_promote("churn", "prod")
    assert (plan.action, plan.source_env, plan.from_revision, plan.to_revision) == (
        DeployAction.PROMOTE,
        "staging",
        None,
        "v1",
    )
    assert [(t.name, t.command) for t in plan.tasks] == [
        ("deploy", "sh scripts/deploy.sh"),
        ("health", "sh scripts/health_model.sh"),
    ]
    assert plan.environment["SHIPDECK_REVISION"] == "v1"
    assert plan.environment["SHIPDECK_ACTION"] == "promote"
    assert [(g.passed, g.reason) for g in plan.gates] == [(False, "auc 0.75 < 0.8")]
    await deck.deployer.plan_deploy("churn", "v1", "prod")
    assert deck.ledger() == before
    assert deck.on_disk("churn", "prod") is None


async def test_bad_input_changes_nothing(deck: Deck) -> None:
    rev = await deck.build()
    await deck.train()
    await deck.deployer.deploy("api", rev, "dev")
    failed_build = await deck.run("build", fail=True)
    before = deck.ledger()
    cases = [
        (
            deck.deployer.deploy("apx", rev, "dev"),
            NotFound,
            "unknown service 'apx' (did you mean 'api'?); services: api, churn",
        ),
        (deck.deployer.deploy("api", rev, "qa"), NotFound, "service 'api' has no environment 'qa'"),
        (deck.deployer.deploy("api", "r999", "dev"), NotFound, "no run #999"),
        (deck.deployer.deploy("api", "v1", "dev"), InvalidInput, "bad revision 'v1' for api"),
        (
            deck.deployer.deploy("api", f"r{failed_build}", "dev"),
            InvalidInput,
            "failed: only successful runs deploy",
        ),
        (
            deck.deployer.deploy("churn", "v7", "staging"),
            NotFound,
            "model 'churn' has no version v7",
        ),
        (
            deck.deployer.deploy("churn", "champion", "staging"),
            NotFound,
            "no version or alias 'champion'",
        ),
        (deck.deployer.promote("api", "dev"), InvalidInput, "dev is the first environment of api"),
        (deck.deployer.promote("api", "prod"), Refused, "nothing is deployed in staging of api"),
        (deck.deployer.promote("api", "production"), NotFound, "no environment 'production'"),
        (deck.deployer.rollback("api", "staging"), Refused, "staging of api has nothing deployed"),
        (deck.deployer.rollback("api", "dev"), Refused, "no previous revision to roll back to"),
        (deck.deployer.rollback("api", "dev", to="r1"), Refused, "already holds r1"),
    ]
    for action, error, message in cases:
        with pytest.raises(
            error, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")
        ):
            await action
    assert deck.ledger() == before


async def test_rollback_to_a_revision_never_deployed_there(deck: Deck) -> None:
    first, second, third = [await deck.build(version=str(n)) for n in (1, 2, 3)]
    await deck.deployer.deploy("api", first, "dev")
    await deck.deployer.deploy("api", second, "dev")
    before = deck.ledger()
    with pytest.raises(
        NotFound,
        match=f"{third} was never deployed to dev of api; deployed there: {second}, {first}",
    ):
        await deck.deployer.rollback("api", "dev", to=third)
    assert deck.ledger() == before
