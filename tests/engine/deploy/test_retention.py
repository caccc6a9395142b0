"""gc never takes what deployments and the registry depend on, and frees what they do not."""

from __future__ import annotations

import time

import pytest

from shipdeck.engine.automation.retention import ARTIFACT_GRACE, collect_garbage
from shipdeck.engine.runs.artifacts import artifact_path
from shipdeck.errors import NotFound
from shipdeck.model import RetentionSpec, RunStatus

from .conftest import Deck


async def test_deployed_and_rollback_revisions_and_model_versions_stay(deck: Deck) -> None:
    builds = [await deck.build(version=str(n)) for n in range(1, 7)]  # r1..r6
    r1, r2, r3, r4, r5, r6 = builds
    await deck.deployer.deploy("api", r2, "dev")
    await deck.deployer.promote("api", "staging")  # staging holds r2
    await deck.deployer.deploy("api", r4, "dev")  # dev holds r4, can roll back to r2
    v1_run = await deck.train(auc=0.81)
    v2_run = await deck.train(auc=0.82)
    failed = await deck.run("build", version="9", fail=True)
    sha = {rev: deck.deployer.registry.run_artifact(rev[1:], "dist/app.txt") for rev in builds}
    deck.engine.persister.flush()

    later = time.time() + ARTIFACT_GRACE + 60  # old enough for unreferenced artifacts to go
    report = collect_garbage(deck.workspace.state_dir, RetentionSpec(keep=1), now=later)

    first_deploy = deck.deployer.history("api", "dev")[-1].run_id
    deleted = sorted([*(int(r[1:]) for r in (r1, r3, r5, r6)), int(first_deploy or 0)])
    assert report.deleted_runs == [str(run_id) for run_id in deleted]
    assert report.pipelines == {"build": 4, "deploy:api": 1}
    kept = {p.run_id: p.reason for p in report.protected}
    assert kept[r2[1:]] == "api r2 is deployed in staging"
    assert kept[r4[1:]] == "api r4 is deployed in dev"
    assert kept[v1_run] == "it registered churn v1"
    assert v2_run not in kept  # the newest train run: kept by the limit, not protected
    assert deck.engine.get_run(failed).status == RunStatus.FAILED  # the newest build run
    for gone in (r1, r3, r5, r6):
        with pytest.raises(NotFound):
            deck.engine.get_run(gone[1:])
    # Their artifacts went; those of kept revisions and model versions stayed.
    state = deck.workspace.state_dir
    assert report.artifacts == 4
    for gone in (r1, r3, r5, r6):
        assert not artifact_path(state, sha[gone] or "").exists()
    for stays in (r2, r4):
        assert artifact_path(state, sha[stays] or "").exists()
    for version in deck.deployer.registry.versions("churn"):
        assert artifact_path(state, version.sha256).exists()

    # What stayed still works: a rollback to r2, a new deploy of r4's artifact.
    back = await deck.deployer.rollback("api", "dev")
    assert (back.to_revision, back.outcome.value) == ("r2", "succeeded")
    assert deck.on_disk("api", "dev") == "r2"
    assert (await deck.deployer.deploy("churn", "v1", "staging")).outcome.value == "succeeded"


async def test_the_deploy_run_of_what_an_environment_holds_stays(deck: Deck) -> None:
    r1 = await deck.build()
    first = await deck.deployer.deploy("api", r1, "dev")
    second = await deck.deployer.deploy("api", r1, "staging")
    assert first.run_id is not None and second.run_id is not None
    report = collect_garbage(deck.workspace.state_dir, RetentionSpec(keep=0))
    assert report.deleted_runs == []
    assert {p.run_id: p.reason for p in report.protected} == {
        r1[1:]: "api r1 is deployed in dev",
        first.run_id: "it deployed what dev of api holds",
        second.run_id: "it deployed what staging of api holds",
    }
