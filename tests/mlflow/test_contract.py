"""The Runner contract suite (tests/contract) against the MLflow runner on the real server.

The suite's tests say what they need (`@needs`); the MLflow runner declares pipelines, metrics
and their steps, models, aliases, failures and polled events, so the tests that start runs
(TRIGGER, which MLflow cannot) skip, saying why, and the rest run here. What MLflow itself
holds is written through its REST API: the experiments the suite names (`contract_seed`) and
the finished runs a test asks for (`contract_seeder`: params, metrics by step, the status).

The server is the session's: for each test the suite's experiments are emptied and every other
experiment is deleted (MLflow keeps it: it is restored after the test), since the tests list
every run and count every failure.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest

from shipdeck.model import RunStatus
from shipdeck.runners.mlflow.api import MlflowApi
from shipdeck.runners.mlflow.runner import MlflowRunner
from shipdeck.runners.protocol import Runner
from tests.contract.harness import Seeder, skip_unless_capable
from tests.contract.test_runs import *  # noqa: F403 (the suite's tests, collected here)
from tests.mlflow.conftest import MlflowServer, RunWriter

pytestmark = pytest.mark.timeout(300)
EXPERIMENTS = ("build", "slow", "chatty")
"""The pipelines the suite names (tests.contract.harness.WORKSPACE), as experiments."""
DEFAULT_EXPERIMENT = "0"
"""MLflow's Default experiment, which cannot be deleted (its runs are, one by one)."""


def active_runs(client: httpx.Client, experiment_ids: list[str]) -> list[str]:
    found: list[str] = []
    token: str | None = None
    while True:
        body = {"experiment_ids": experiment_ids, "max_results": 1000, "page_token": token}
        page = client.post("runs/search", json=body)
        page.raise_for_status()
        found += [run["info"]["run_id"] for run in page.json().get("runs", [])]
        token = page.json().get("next_page_token")
        if not token:
            return found


def delete_runs(client: httpx.Client, run_ids: list[str]) -> None:
    for run_id in run_ids:
        client.post("runs/delete", json={"run_id": run_id}).raise_for_status()


@pytest.fixture
def contract_seed(mlflow_server: MlflowServer) -> Iterator[None]:
    """The suite's experiments, without runs, and no other experiment in sight."""
    writer = RunWriter(mlflow_server)
    with mlflow_server.client() as client:
        suite = [writer.experiment_id(client, name) for name in EXPERIMENTS]
        delete_runs(client, active_runs(client, suite))
        listed = client.post("experiments/search", json={"max_results": 1000})
        others = [
            e["experiment_id"]
            for e in listed.json()["experiments"]
            if e["experiment_id"] not in suite
        ]
        hidden = [e for e in others if e != DEFAULT_EXPERIMENT]
        for experiment_id in hidden:
            gone = client.post("experiments/delete", json={"experiment_id": experiment_id})
            gone.raise_for_status()
        default_runs = active_runs(client, [DEFAULT_EXPERIMENT])
        delete_runs(client, default_runs)
    try:
        yield
    finally:
        with mlflow_server.client() as client:
            delete_runs(client, active_runs(client, suite))
            for experiment_id in hidden:
                back = client.post("experiments/restore", json={"experiment_id": experiment_id})
                back.raise_for_status()
            for run_id in default_runs:
                client.post("runs/restore", json={"run_id": run_id}).raise_for_status()


@pytest.fixture
def contract_pipeline() -> Callable[[str], str]:
    """An experiment is named as the suite's pipeline."""
    return lambda name: name


@pytest.fixture
def contract_seeder(mlflow_server: MlflowServer) -> Seeder:
    """Finished runs written through REST (MLflow records runs, it does not start them)."""
    writer = RunWriter(mlflow_server)

    async def seed(
        pipeline: str,
        params: dict[str, str],
        *,
        status: RunStatus = RunStatus.SUCCEEDED,
        metrics: dict[str, list[float]] | None = None,
    ) -> str:
        return writer.write(pipeline, params, status=status, metrics=metrics)

    return seed


@pytest.fixture
async def contract_runner(
    request: pytest.FixtureRequest, mlflow_server: MlflowServer, contract_seed: None
) -> AsyncIterator[Runner]:
    runner = MlflowRunner(MlflowApi(mlflow_server.url, name="lab"))
    try:
        await skip_unless_capable(request, runner)
        yield runner
    finally:
        await runner.close()
