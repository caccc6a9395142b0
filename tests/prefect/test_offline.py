"""A Prefect server that goes away: the runner says so in one line naming it, fast, and once
the server is back (same port, same database) it recovers and tells its clients to refetch.
A private server of its own, not the session's shared one."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from shipdeck.errors import Unavailable
from shipdeck.model import RunStatus
from shipdeck.runners.prefect.runner import PrefectRunner
from tests.prefect.conftest import free_port, start_prefect

pytestmark = pytest.mark.timeout(600)


async def test_server_stopped_then_back(tmp_path: Path) -> None:
    port = free_port()
    root = tmp_path / "spare"
    server = await asyncio.to_thread(start_prefect, root, port)
    flow = server.call("POST", "flows/", {"name": "spare"})
    server.call("POST", "deployments/", {"name": "d", "flow_id": flow["id"]})
    runner = PrefectRunner(server.url, name="spare", poll_interval=0.3, timeout=3.0)
    try:
        assert [p.name for p in await runner.pipelines()] == ["spare/d"]
        after = await runner.last_seq()
        await asyncio.to_thread(server.stop)

        started = time.monotonic()
        with pytest.raises(Unavailable) as offline:
            for _ in range(40):
                page = await runner.wait_events(after, wait=0.5)
                after = page.last_seq
        message = str(offline.value)
        assert message.startswith(f"runner spare (prefect) is unreachable at {server.url}")
        assert "\n" not in message
        assert time.monotonic() - started < 20
        with pytest.raises(Unavailable, match=r"^runner spare \(prefect\) is unreachable"):
            await runner.runs()

        server = await asyncio.to_thread(start_prefect, root, port)

        async def back() -> bool:
            deadline = time.monotonic() + 60
            nonlocal after
            while time.monotonic() < deadline:
                try:
                    page = await runner.wait_events(after, wait=1.0)
                except Unavailable:
                    await asyncio.sleep(0.3)
                    continue
                after = page.last_seq
                if page.reset:
                    return True
            return False

        assert await back(), "the runner never told its clients to refetch"
        flow_run = server.call(
            "POST",
            "flow_runs/",
            {"flow_id": flow["id"], "state": {"type": "FAILED", "name": "Failed"}},
        )
        (newest,) = await runner.runs(limit=1)
        assert newest.id == flow_run["id"] and newest.status is RunStatus.FAILED
    finally:
        await runner.close()
        await asyncio.to_thread(server.stop)
