"""Polling an MLflow server: what changed since the last look, and an offline server that
fails fast and comes back by itself (a private server, stopped and restarted mid-test)."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from shipdeck.errors import Unavailable
from shipdeck.runners.event_follower import LinkStatus
from shipdeck.runners.mlflow import alias_log
from shipdeck.runners.mlflow.api import MlflowApi
from shipdeck.runners.mlflow.freshness import Breaker, Freshness
from shipdeck.runners.mlflow.watch import Watcher
from tests.mlflow.conftest import MlflowServer, seed, start_mlflow

pytestmark = pytest.mark.timeout(400)


async def test_a_look_reports_what_changed_since_the_last(mlflow_server: MlflowServer) -> None:
    prefix = uuid.uuid4().hex[:8]
    seeded = seed(mlflow_server, prefix, runs=2)
    api = MlflowApi(mlflow_server.url, name="lab")
    watcher = Watcher()
    try:
        assert not await watcher.look(api)  # the first look only takes note
        assert not await watcher.look(api)

        created = mlflow_server.post(
            "runs/create", {"experiment_id": seeded.experiment_id, "run_name": "late"}
        )
        run_id = created["run"]["info"]["run_id"]
        mlflow_server.post(
            "model-versions/create",
            {"name": seeded.model, "source": f"runs:/{run_id}/model", "run_id": run_id},
        )
        await alias_log.move(api, seeded.model, "champion", "2", user="ana@box")
        changes = await watcher.look(api)
        assert [run.info.run_id for run in changes.runs] == [run_id]
        assert [(v.name, v.version) for v in changes.versions] == [(seeded.model, "3")]
        assert [(m.alias, m.to_version, m.outside) for m in changes.aliases] == [
            ("champion", "2", False)
        ]

        mlflow_server.post("runs/update", {"run_id": run_id, "status": "FAILED"})
        mlflow_server.post(
            "registered-models/alias", {"name": seeded.model, "alias": "champion", "version": "3"}
        )
        changes = await watcher.look(api)
        assert [(r.info.run_id, r.info.status) for r in changes.runs] == [(run_id, "FAILED")]
        assert [(m.from_version, m.to_version, m.note) for m in changes.aliases] == [
            ("2", "3", "changed outside shipdeck")
        ]
        assert not await watcher.look(api)
    finally:
        await api.close()


def test_backoff_doubles_per_failure_up_to_the_bound() -> None:
    now = [100.0]
    breaker = Breaker("lab", interval=5.0, max_backoff=30.0, clock=lambda: now[0])
    assert breaker.state.status is LinkStatus.CONNECTING
    breaker.succeeded()
    assert breaker.state.status is LinkStatus.LIVE and breaker.delay() == 5.0
    delays = []
    for _ in range(5):
        breaker.failed(Unavailable("runner lab (mlflow) is unreachable at http://x"))
        delays.append(breaker.delay())
    assert delays == [5.0, 10.0, 20.0, 30.0, 30.0]
    with pytest.raises(Unavailable, match=r"^runner lab \(mlflow\) is unreachable at http://x "):
        breaker.check()
    now[0] += 30.0
    breaker.check()  # time for the next try
    breaker.succeeded()
    assert breaker.state.status is LinkStatus.LIVE and breaker.delay() == 5.0


def test_updated_ago() -> None:
    assert Freshness(LinkStatus.LIVE, 1000.0).ago(now=1004.4) == "updated 4s ago"
    assert Freshness(LinkStatus.LIVE, 1000.0).ago(now=1000.0 + 300) == "updated 5m ago"
    assert Freshness(LinkStatus.LIVE, 1000.0).ago(now=1000.0 + 3 * 3600) == "updated 3h ago"
    assert Freshness(LinkStatus.CONNECTING, None).ago() == "not reached yet"


async def test_a_stopped_server_is_offline_fast_and_recovers_by_itself(tmp_path: Path) -> None:
    server = start_mlflow(tmp_path / "private")
    port = int(server.url.rsplit(":", 1)[1])
    breaker = Breaker("lab", interval=0.5, max_backoff=1.0)
    api = MlflowApi(server.url, name="lab", timeout=3.0, breaker=breaker)
    try:
        await api.health()
        assert breaker.state.status is LinkStatus.LIVE
        server.stop()

        with pytest.raises(Unavailable) as offline:
            await api.health()
        message = str(offline.value)
        assert message.startswith(f"runner lab (mlflow) is unreachable at {server.url}")
        assert "\n" not in message
        assert breaker.state.status is LinkStatus.OFFLINE

        # While offline, calls fail at once, without going to the server (no timeout waits).
        with pytest.raises(Unavailable, match=r"\(offline; next try in \d+ s\)$"):
            await api.health()

        server = start_mlflow(tmp_path / "private", port=port)
        deadline = time.monotonic() + 30
        while True:
            try:
                await api.health()
                break
            except Unavailable:
                assert time.monotonic() < deadline, "never recovered"
                await asyncio.sleep(0.2)
        assert breaker.state.status is LinkStatus.LIVE and breaker.state.error is None
    finally:
        await api.close()
        server.stop()
