"""The Runner contract suite (tests/contract) against the prefect runner: a Prefect server of
its own serving the suite's pipelines as flows (tests/prefect/flows/contract.py), every flow
run deleted before each test (the seeding hook), the tests Prefect's capabilities allow.

Left out, and why (a misfit of the suite with Prefect, not a failure of the runner):
- the ones checking a task log's lines exactly (`["line 0", ...]`): Prefect's task logs also
  hold Prefect's own lines ("Finished in state Completed()"), written by the same logger as
  the task's prints, so they cannot be told apart;
- those comparing run ids by order (`first < newest`) or expecting `#999` in a message: a
  Prefect run id is a UUID;
- those filtering by a bare pipeline name (`runs(pipeline="build")`): a Prefect pipeline is
  `FLOW/DEPLOYMENT`, and `FLOW` names that flow's runs without a deployment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from shipdeck.runners.prefect.runner import PrefectRunner
from shipdeck.runners.protocol import Runner
from tests.contract.harness import skip_unless_capable
from tests.contract.test_runs import (  # noqa: F401 (collected here, with this module's fixtures)
    runner,
    test_cancel_running_run,
    test_wait_events_times_out_empty_and_resets_when_asked_for_the_future,
)
from tests.prefect.conftest import PrefectServer, serve_flow, start_prefect

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def contract_prefect(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    server = start_prefect(tmp_path_factory.mktemp("contract-prefect"))
    try:
        serve_flow(server, "contract.py", "chatty/contract")
        for name in ("build/contract", "slow/contract"):
            server.deployment_id(name)
        yield server
    finally:
        server.stop()


@pytest.fixture
def contract_seed(contract_prefect: PrefectServer) -> None:
    """A clean slate: no flow run left from an earlier test."""
    while True:
        runs: list[dict[str, Any]] = contract_prefect.call(
            "POST", "flow_runs/filter", {"limit": 200}
        )
        if not runs:
            return
        for run in runs:
            httpx.delete(f"{contract_prefect.url}/flow_runs/{run['id']}", timeout=30.0)


@pytest.fixture
async def contract_runner(
    request: pytest.FixtureRequest, contract_prefect: PrefectServer, contract_seed: None
) -> AsyncIterator[Runner]:
    opened = PrefectRunner(contract_prefect.url, name="contract", poll_interval=0.5)
    try:
        await skip_unless_capable(request, opened)
        yield opened
    finally:
        await opened.close()
