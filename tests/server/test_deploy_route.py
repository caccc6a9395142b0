"""The deploy route over plain HTTP: an action answers once its run has started."""

from __future__ import annotations

from pathlib import Path

import httpx

from shipdeck.model import HistoryEntry, Outcome
from shipdeck.runners.local import open_local_runner
from shipdeck.server.listen import Listen
from tests.contract.harness import TOKEN, serving
from tests.contract.test_deployments import finished
from tests.engine.deploy.conftest import write_workspace


async def test_the_deploy_route_answers_once_the_run_has_started_unless_asked_to_wait(
    tmp_path: Path,
) -> None:
    """Over plain HTTP: no request stays open for the length of a deploy, unless it asks."""
    (tmp_path / "ws").mkdir()
    local = await open_local_runner(write_workspace(tmp_path / "ws"))
    try:
        build = await finished(local, "build", {"version": "3"})
        listen = Listen(host="127.0.0.1", port=0)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        async with (
            serving(local, listen, token=TOKEN) as server,
            httpx.AsyncClient(base_url=server.url, headers=auth, timeout=20) as http,
        ):
            (tmp_path / "ws" / "slow_deploy").touch()  # the deploy command sleeps 30 s
            body = {"service": "api", "revision": f"r{build}", "env": "dev"}
            started = await http.post("/v1/deploy", json=body)
            assert started.status_code == 200, started.text
            entry = HistoryEntry.model_validate(started.json())
            assert entry.outcome == Outcome.RUNNING and entry.run_id is not None
            await local.cancel(entry.run_id)
            await local.wait_run(entry.run_id)
            (tmp_path / "ws" / "slow_deploy").unlink()
            body["expect"] = "none"
            waited = await http.post("/v1/deploy", json=body, params={"wait": "true"})
            assert waited.status_code == 200, waited.text
            assert HistoryEntry.model_validate(waited.json()).outcome == Outcome.SUCCEEDED
    finally:
        await local.close()
