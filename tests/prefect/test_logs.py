"""A flow run's logs as numbered shipdeck lines, read from a real Prefect server as they grow:
the flow's own log and each task's, tracebacks split into lines, read again only for what is
new, complete once the run has ended and its records have settled; searched on the client."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shipdeck.errors import InvalidInput
from shipdeck.model import LogStream
from shipdeck.runners.prefect.api import PrefectApi
from shipdeck.runners.prefect.logs import LogKey, LogStore, search, window
from tests.prefect.conftest import PrefectServer
from tests.prefect.test_api import eventually

pytestmark = pytest.mark.timeout(400)


async def task_ids(api: PrefectApi, run_id: str, count: int) -> dict[str, str]:
    async def listed() -> dict[str, str] | None:
        runs = await api.task_runs(run_id)
        found = {task.name.rsplit("-", 1)[0]: task.id for task in runs}
        return found if len(found) >= count else None

    return await eventually(listed)


async def test_flow_and_task_logs_numbered_and_read_incrementally(
    prefect_server: PrefectServer, tmp_path: Path
) -> None:
    flag = tmp_path / "fail"
    flag.touch()
    api = PrefectApi(prefect_server.url, name="orchestra")
    told: list[tuple[str | None, int]] = []
    store = LogStore(
        api, settle=0.0, on_added=lambda _, task, lines: told.extend((task, x.n) for x in lines)
    )
    try:
        run = await api.create_flow_run(
            prefect_server.deployment_id(), {"rows": 7, "flag": str(flag)}
        )
        assert prefect_server.wait_run(run.id) == "FAILED"
        ids = await task_ids(api, run.id, 3)
        failing = LogKey(run.id, ids["transform_b"])

        async def failed_lines() -> list[str] | None:
            log, _ = await store.read(failing, None)
            texts = [line.text for line in log.lines]
            return texts if any("RuntimeError: boom" in text for text in texts) else None

        texts = await eventually(failed_lines)
        log = store.cached(failing)
        assert log is not None
        assert [line.n for line in log.lines] == list(range(len(log.lines)))
        # One record, a traceback: many lines, the first saying the level, all on stderr.
        first = next(i for i, text in enumerate(texts) if text.startswith("ERROR: "))
        assert texts[first + 1] == "Traceback (most recent call last):"
        assert {line.stream for line in log.lines[first:]} == {LogStream.ERR}
        again, added = await store.read(failing, None)
        assert added == [] and len(again.lines) == len(texts)

        extract = LogKey(run.id, ids["extract"])
        lines = await eventually(lambda: _texts(store, extract), within=30.0)
        assert "extracting 7 rows" in lines
        flow_log = LogKey(run.id, None)
        flow_texts = await eventually(lambda: _texts(store, flow_log, "Finished in state"))
        assert not any("extracting" in text for text in flow_texts)

        # Ended long enough ago: complete (every log of the run), and never asked for again.
        assert store.open_runs() == [run.id]
        done, _ = await store.read(extract, datetime.now(UTC) - timedelta(seconds=1))
        assert done.complete and store.open_runs() == []
        assert await store.refresh(run.id, None) == {}

        # Every line was told once, in order, whichever read brought it.
        for task_run_id in (ids["transform_b"], ids["extract"], None):
            numbers = [n for task, n in told if task == task_run_id]
            assert numbers == list(range(len(numbers))) and numbers

        found, following, finished = search(
            log.lines, "boom", regex=False, ignore_case=None, start=0, end=None, limit=100
        )
        assert found and all("boom" in log.lines[n].text for n in found)
        assert (following, finished) == (len(log.lines), True)
        with pytest.raises(InvalidInput, match="not a valid regular expression"):
            search(log.lines, "(", regex=True, ignore_case=None, start=0, end=None, limit=1)
        start, tail = window(log.lines, -2, 10)
        assert (start, [line.n for line in tail]) == (len(log.lines) - 2, [start, start + 1])
    finally:
        await api.close()


async def _texts(store: LogStore, key: LogKey, wanted: str = "") -> list[str] | None:
    log, _ = await store.read(key, None)
    texts = [line.text for line in log.lines]
    return texts if texts and any(wanted in text for text in texts) else None


async def test_a_log_read_while_it_grows_equals_one_read_at_the_end(
    prefect_server: PrefectServer,
) -> None:
    """Read every 0.3 s while the flow runs (each time only what is new), the log ends up
    line for line what one read after the end gives: nothing lost, nothing twice."""
    api = PrefectApi(prefect_server.url, name="orchestra")
    store = LogStore(api)
    try:
        run = await api.create_flow_run(prefect_server.deployment_id(), {"slow": 2, "rows": 3})
        key = LogKey(run.id, None)
        reads = 0
        while prefect_server.call("GET", f"flow_runs/{run.id}")["state_type"] != "COMPLETED":
            await store.read(key, None)
            reads += 1
            await asyncio.sleep(0.3)

        async def settled() -> list[tuple[str, str]] | None:
            log, _ = await store.read(key, None)
            texts = [(line.ts.isoformat(), line.text) for line in log.lines]
            return texts if any("Finished in state Completed" in t for _, t in texts) else None

        grown = await eventually(settled)
        fresh, _ = await LogStore(api).read(key, None)
        assert reads > 3
        assert grown == [(line.ts.isoformat(), line.text) for line in fresh.lines]
        assert [line.n for line in fresh.lines] == list(range(len(fresh.lines)))
    finally:
        await api.close()
