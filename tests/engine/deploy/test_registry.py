"""Model registration on the engine's success seam; aliases and their recorded moves."""

from __future__ import annotations

import hashlib
import json

import pytest

from shipdeck.engine.runs.artifacts import artifact_path
from shipdeck.errors import InvalidInput, NotFound
from shipdeck.model import RunStatus, TaskStatus

from .conftest import USER, Deck


async def test_success_registers_a_version_with_params_metrics_and_artifact(deck: Deck) -> None:
    run_id = await deck.train(auc=0.91)
    (version,) = deck.deployer.registry.versions("churn")
    assert (version.model, version.version, version.revision) == ("churn", "1", "v1")
    assert (version.run_id, version.task) == (run_id, "train")
    assert version.params == {"auc": 0.91, "fail": False, "skip_model": False}
    assert version.metrics == {"auc": 0.91}
    stored = artifact_path(deck.workspace.state_dir, version.sha256)
    content = (deck.root / "out" / "model.json").read_bytes()
    assert stored.read_bytes() == content
    assert version.sha256 == hashlib.sha256(content).hexdigest()

    await deck.train(auc=0.7)
    versions = deck.deployer.registry.versions("churn")
    assert [v.version for v in versions] == ["2", "1"]
    assert json.loads(artifact_path(deck.workspace.state_dir, versions[0].sha256).read_text()) == {
        "auc": 0.7
    }


async def test_failed_task_registers_nothing(deck: Deck) -> None:
    run_id = await deck.train(fail=True)
    assert deck.engine.get_run(run_id).status == RunStatus.FAILED
    assert deck.deployer.registry.models() == []
    assert deck.ledger()["model_versions"] == []


async def test_missing_artifact_fails_the_task_with_a_note(deck: Deck) -> None:
    run_id = await deck.train(skip_model=True)
    detail = deck.engine.run_detail(run_id)
    task = detail.task("train")
    assert task is not None and task.status == TaskStatus.FAILED
    assert task.reason is not None and "out/model.json not found" in task.reason
    log = deck.engine.read_log(run_id, "train", start=-5)
    notes = [line.text for line in log.lines if line.stream.value == "sys"]
    assert any("registers model 'churn': artifact out/model.json not found" in n for n in notes)
    assert deck.deployer.registry.models() == []


async def test_aliases_move_and_are_recorded(deck: Deck) -> None:
    await deck.train(auc=0.8)
    await deck.train(auc=0.85)
    registry = deck.deployer.registry
    first = registry.set_alias("churn", "champion", "v1", user=USER, now=deck.clock())
    assert (first.from_version, first.to_version, first.user) == (None, "1", USER)
    deck.clock.advance(minutes=5)
    moved = registry.set_alias("churn", "champion", "2", user="other@host", now=deck.clock())
    assert (moved.from_version, moved.to_version, moved.user) == ("1", "2", "other@host")
    assert registry.resolve("churn", "champion").version == "2"
    assert registry.aliases("churn") == {"champion": "2"}
    assert [v.aliases for v in registry.versions("churn")] == [["champion"], []]
    moves = registry.alias_moves("churn")
    assert [(m.alias, m.from_version, m.to_version) for m in moves] == [
        ("champion", "1", "2"),
        ("champion", None, "1"),
    ]
    assert moves[0].at > moves[1].at
    (summary,) = registry.models()
    assert (summary.name, summary.versions, summary.latest, summary.aliases) == (
        "churn",
        2,
        "2",
        {"champion": "2"},
    )


async def test_bad_aliases_change_nothing(deck: Deck) -> None:
    await deck.train()
    registry = deck.deployer.registry
    before = deck.ledger()
    with pytest.raises(NotFound, match="model 'churn' has no version v9"):
        registry.set_alias("churn", "champion", "v9", user=USER, now=deck.clock())
    with pytest.raises(NotFound, match="unknown model 'chrun'; models: churn"):
        registry.set_alias("chrun", "champion", "v1", user=USER, now=deck.clock())
    with pytest.raises(InvalidInput, match="bad alias 'v2'"):
        registry.set_alias("churn", "v2", "v1", user=USER, now=deck.clock())
    with pytest.raises(InvalidInput, match="reserved"):
        registry.set_alias("churn", "latest", "v1", user=USER, now=deck.clock())
    assert deck.ledger() == before
