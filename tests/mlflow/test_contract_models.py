"""The contract suite's model and alias tests against the MLflow runner on a real server.

MLflow does not execute pipelines, so the suite's `contract_seeder` is overridden: a run of
`train` is written through MLflow's REST API (its params, `auc` as a metric, finished) and its
model version registered, as a training script using the mlflow client would. The module has
its own server, emptied of registered models before each test (the tests count models and
alias moves), so nothing another module seeded is touched.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from shipdeck.runners.mlflow.api import MlflowApi
from shipdeck.runners.mlflow.runner import MlflowRunner
from shipdeck.runners.protocol import Runner
from tests.contract.harness import Seeder, skip_unless_capable
from tests.contract.test_alias_moves import test_alias_moves_newest_first_and_per_model
from tests.contract.test_deployments import deck, test_models_aliases_and_compare
from tests.mlflow.conftest import MlflowServer, start_mlflow

__all__ = [
    "deck",
    "test_alias_moves_newest_first_and_per_model",
    "test_models_aliases_and_compare",
]
pytestmark = pytest.mark.timeout(300)
MODEL = "churn"
"""The model the suite's `train` pipeline registers (tests/engine/deploy's workspace)."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    started = start_mlflow(tmp_path_factory.mktemp("mlflow-contract"))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def contract_seed(server: MlflowServer) -> None:
    """No registered models (the previous test's are deleted)."""
    with server.client() as client:
        found = client.get("registered-models/search", params={"max_results": 1000}).json()
        for model in found.get("registered_models", []):
            gone = client.request(
                "DELETE", "registered-models/delete", json={"name": model["name"]}
            )
            gone.raise_for_status()


@pytest.fixture
async def contract_runner(
    request: pytest.FixtureRequest, server: MlflowServer, contract_seed: None
) -> AsyncIterator[Runner]:
    runner = MlflowRunner(MlflowApi(server.url, name="lab"))
    try:
        await skip_unless_capable(request, runner)
        yield runner
    finally:
        await runner.close()


@pytest.fixture
def contract_seeder(server: MlflowServer) -> Seeder:
    """A finished run of `pipeline` (an experiment of that name) with `params`, numeric ones
    also logged as metrics, and for `train` a new version of the model from it."""

    async def seed(pipeline: str, params: dict[str, str]) -> str:
        with server.client() as client:
            found = client.get("experiments/get-by-name", params={"experiment_name": pipeline})
            if found.status_code == httpx.codes.NOT_FOUND:
                created = client.post("experiments/create", json={"name": pipeline})
                experiment_id = created.json()["experiment_id"]
            else:
                experiment_id = found.json()["experiment"]["experiment_id"]
            run = client.post(
                "runs/create",
                json={"experiment_id": experiment_id, "run_name": uuid.uuid4().hex[:6]},
            ).json()["run"]["info"]["run_id"]
            metrics = [
                {"key": key, "value": float(value), "timestamp": 0, "step": 0}
                for key, value in params.items()
                if value.replace(".", "", 1).isdigit()
            ]
            body = {
                "run_id": run,
                "params": [{"key": k, "value": v} for k, v in params.items()],
                "metrics": metrics,
            }
            client.post("runs/log-batch", json=body).raise_for_status()
            client.post("runs/update", json={"run_id": run, "status": "FINISHED"})
            if pipeline == "train":
                client.post("registered-models/create", json={"name": MODEL})  # 400 if it exists
                version = {"name": MODEL, "source": f"runs:/{run}/model", "run_id": run}
                client.post("model-versions/create", json=version).raise_for_status()
        return str(run)

    return seed


def test_the_seeder_is_the_one_used(contract_seeder: Seeder, tmp_path: Path) -> None:
    """The suite's own seeder (start_run) would skip here: MLflow cannot trigger."""
    assert contract_seeder.__qualname__.startswith("contract_seeder.")
