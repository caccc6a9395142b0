"""Live log lines from a real Prefect server's `/api/logs/out` websocket (the session's server
publishes them): lines of a running flow reach the event feed without waiting for a poll,
numbered as one `/logs/filter` read at the end numbers them, none twice, none lost; and with
the socket off or failing, polling alone brings every line."""

from __future__ import annotations

import asyncio
import time

import pytest

from shipdeck.model.events import LogEvent
from shipdeck.runners.prefect.api import PrefectApi
from shipdeck.runners.prefect.live import LiveLogs
from shipdeck.runners.prefect.logs import LogStore
from shipdeck.runners.prefect.mapping import FLOW_TASK
from shipdeck.runners.prefect.runner import PrefectRunner
from tests.prefect.conftest import PrefectServer, free_port

pytestmark = pytest.mark.timeout(400)

LONG_POLL = 120.0
"""A poll interval no test waits out: what arrives before it came through the socket."""


async def follow(
    runner: PrefectRunner, run_id: str, within: float
) -> tuple[dict[str, list[tuple[int, str]]], float]:
    """The LOG events of a run, by task, until the flow's closing line: (n, text) each, and
    the seconds it took."""
    started = time.monotonic()
    after = await runner.last_seq()
    found: dict[str, list[tuple[int, str]]] = {}
    while time.monotonic() - started < within:
        page = await runner.wait_events(after, wait=1.0)
        after = page.last_seq
        for event in page.events:
            if isinstance(event, LogEvent) and event.run_id == run_id:
                found.setdefault(event.task or "", []).append((event.data.n, event.data.text))
        if any("Finished in state" in text for _, text in found.get(FLOW_TASK, [])):
            return found, time.monotonic() - started
    raise AssertionError(f"no closing line in {within} s: {found}")


async def full_read(api: PrefectApi, run_id: str) -> dict[str | None, list[tuple[int, str]]]:
    """Every log of the run as one `/logs/filter` read numbers it, by task run id."""
    added = await LogStore(api).refresh(run_id, None)
    return {task: [(line.n, line.text) for line in lines] for task, lines in added.items()}


async def check_against_full_read(
    runner: PrefectRunner, run_id: str, found: dict[str, list[tuple[int, str]]]
) -> None:
    # The closing record is the flow's last: once it was told, every record has landed.
    full = await full_read(runner.api, run_id)
    assert found[FLOW_TASK] == full[None]
    assert sorted(found.values()) == sorted(full.values())


async def test_running_flow_lines_come_through_the_socket_before_a_poll(
    prefect_server: PrefectServer,
) -> None:
    runner = PrefectRunner(prefect_server.url, name="orchestra", poll_interval=LONG_POLL)
    try:
        deployment = prefect_server.deployment_id("chatty/contract")
        run = await runner.api.create_flow_run(deployment, {"lines": 40, "delay": 0.15})
        prefect_server.wait_run(run.id, final=False)
        # One tick sees it running (and subscribes); the next is LONG_POLL s away.
        found, took = await follow(runner, run.id, within=LONG_POLL - 20)
        print(f"all lines of a 6 s flow within {took:.1f} s, poll interval {LONG_POLL} s")
        talk = [text for key, lines in found.items() if key.startswith("talk") for _, text in lines]
        assert [f"line {i}" for i in range(40)] == [t for t in talk if t.startswith("line ")]
        await check_against_full_read(runner, run.id, found)
    finally:
        await runner.close()


async def test_without_the_socket_polling_brings_every_line(
    prefect_server: PrefectServer,
) -> None:
    runner = PrefectRunner(prefect_server.url, name="orchestra", poll_interval=0.5, live_logs=False)
    try:
        deployment = prefect_server.deployment_id("chatty/contract")
        run = await runner.api.create_flow_run(deployment, {"lines": 40, "delay": 0.05})
        found, _ = await follow(runner, run.id, within=120.0)
        await check_against_full_read(runner, run.id, found)
    finally:
        await runner.close()


async def test_a_socket_that_cannot_connect_is_retried_quietly(
    prefect_server: PrefectServer,
) -> None:
    """Nothing listens where the socket goes: it fails, is tried again after a pause, and
    never hands on a record or raises."""
    got: list[object] = []
    synced: list[frozenset[str]] = []

    async def sync(ids: frozenset[str]) -> None:
        synced.append(ids)

    live = LiveLogs(
        f"http://127.0.0.1:{free_port()}/api",
        token=None,
        headers={},
        sync=sync,
        received=got.append,
    )
    try:
        live.watch({"00000000-0000-0000-0000-000000000000"})
        for _ in range(100):
            if live.failures >= 2:
                break
            await asyncio.sleep(0.1)
        assert live.failures >= 2 and not live.live and not got and not synced
    finally:
        await live.stop()
