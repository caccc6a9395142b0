"""The MLflow REST client against a real `mlflow server`: paging, histories, the registry,
alias moves, and one-line errors naming the runner."""

from __future__ import annotations

import uuid

import pytest

from shipdeck.errors import NotFound, Unauthorized, Unavailable
from shipdeck.runners.mlflow.api import MlflowApi, auth_headers
from tests.mlflow.conftest import MlflowServer, free_port, seed

# The first test waits for the session's server to start (tens of seconds on a loaded host).
pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def prefix() -> str:
    return uuid.uuid4().hex[:8]


async def test_runs_page_by_page_newest_first(mlflow_server: MlflowServer, prefix: str) -> None:
    seeded = seed(mlflow_server, prefix, runs=5)
    api = MlflowApi(mlflow_server.url, name="lab")
    try:
        first = await api.runs([seeded.experiment_id], max_results=2)
        assert len(first.items) == 2 and first.next_page_token
        rest = await api.runs([seeded.experiment_id], page_token=first.next_page_token)
        runs = [*first.items, *rest.items]
        assert len(runs) == 6  # five trainings and one child
        starts = [run.info.start_time for run in runs]
        assert starts == sorted(starts, reverse=True)
        newest = runs[0]
        assert newest.info.run_name == "train-4" and newest.info.status == "FINISHED"
        assert newest.params == {"lr": str(0.1 / 5), "epochs": "5"}
        assert newest.metrics["auc"] == pytest.approx(0.70 + 0.08 + 0.04)
        assert newest.tags["mlflow.user"] == "ana"
        child = next(run for run in runs if run.info.run_name == "fold-0")
        assert child.parent_id == seeded.run_ids[0]
    finally:
        await api.close()


async def test_metric_histories_by_step(mlflow_server: MlflowServer, prefix: str) -> None:
    seeded = seed(mlflow_server, prefix, runs=2, steps=4)
    api = MlflowApi(mlflow_server.url, name="lab")
    try:
        history = await api.metric_history(seeded.run_ids[1], "loss")
        assert [m.step for m in history] == [0, 1, 2, 3]
        assert [m.value for m in history] == pytest.approx([0.9, 0.85, 0.8, 0.75])
        bulk = await api.metric_histories(seeded.run_ids[:2], "auc")
        assert set(bulk) == set(seeded.run_ids[:2])
        assert [m.step for m in bulk[seeded.run_ids[0]]] == [0, 1, 2, 3]
    finally:
        await api.close()


async def test_registry_versions_and_alias_moves(mlflow_server: MlflowServer, prefix: str) -> None:
    seeded = seed(mlflow_server, prefix, runs=3)
    api = MlflowApi(mlflow_server.url, name="lab")
    try:
        model = await api.registered_model(seeded.model)
        assert [(a.alias, a.version) for a in model.aliases] == [("champion", "1")]
        versions = await api.versions(seeded.model)
        assert [v.version for v in versions.items] == ["3", "2", "1"]
        assert versions.items[0].run_id == seeded.run_ids[2]
        assert versions.items[0].source == f"runs:/{seeded.run_ids[2]}/model"

        await api.set_alias(seeded.model, "champion", "3")
        assert (await api.version_by_alias(seeded.model, "champion")).version == "3"
        await api.set_model_tag(seeded.model, "shipdeck.note", "moved")
        model = await api.registered_model(seeded.model)
        assert {t.key: t.value for t in model.tags}["shipdeck.note"] == "moved"
        await api.delete_alias(seeded.model, "champion")
        assert (await api.registered_model(seeded.model)).aliases == []
    finally:
        await api.close()


async def test_errors_are_one_line_naming_the_runner(mlflow_server: MlflowServer) -> None:
    api = MlflowApi(mlflow_server.url, name="lab")
    try:
        with pytest.raises(NotFound) as missing:
            await api.registered_model("no-such-model")
        assert str(missing.value) == (
            "runner lab (mlflow): Registered Model with name=no-such-model not found"
        )
        with pytest.raises(NotFound, match=r"^runner lab \(mlflow\): Run with id=zzz not found$"):
            await api.run("zzz")
    finally:
        await api.close()
    offline = MlflowApi(f"http://127.0.0.1:{free_port()}", name="gone", timeout=2.0)
    try:
        with pytest.raises(Unavailable, match=r"^runner gone \(mlflow\) is unreachable at "):
            await offline.health()
    finally:
        await offline.close()


def test_auth_headers() -> None:
    assert auth_headers(token="t") == {"Authorization": "Bearer t"}
    assert auth_headers(username="ana", password="pw") == {"Authorization": "Basic YW5hOnB3"}
    assert auth_headers() == {}
    assert Unauthorized.__name__ == "Unauthorized"
