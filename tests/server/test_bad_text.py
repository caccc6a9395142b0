"""Text UTF-8 cannot carry (a lone surrogate) is refused where a run starts, and a store that
already holds some (written before the check) answers every read and keeps streams alive."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from datetime import UTC, datetime

import httpx
import pytest
from httpx_sse import aconnect_sse

from shipdeck.errors import InvalidInput
from shipdeck.model import LogData, LogEvent, WorkspaceSpec
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.runners.remote import RemoteRunner
from shipdeck.server.listen import Listen
from shipdeck.server.sse import events_frame
from tests.server.conftest import TOKEN, serving

AUTH = {"Authorization": f"Bearer {TOKEN}"}
LOOPBACK = Listen(host="127.0.0.1", port=0)


def poison(workspace: WorkspaceSpec, *, status: str, owner: str | None) -> str:
    """A run of `build` whose param holds a lone surrogate, written the way Store.insert_run
    wrote params before they were checked (json.dumps), into the engine's own SQLite file."""
    db = sqlite3.connect(workspace.state_dir / "shipdeck.db", isolation_level=None)
    try:
        cursor = db.execute(
            "INSERT INTO runs (pipeline, status, params, trigger, user, jobs, created_at,"
            " started_at, tasks_total, tasks_done, owner)"
            " VALUES ('build', ?, ?, 'cli', 'someone', 1, ?, ?, 1, 0, ?)",
            (
                status,
                json.dumps({"greeting": "\udcff", "fail": False}),
                time.time(),
                time.time(),
                owner,
            ),
        )
        run_id = int(cursor.lastrowid or 0)
        db.execute(
            "INSERT INTO tasks (run_id, name, position, status, attempts, needs)"
            " VALUES (?, 'compile', 0, ?, 1, '[]')",
            (run_id, "running" if status == "running" else "succeeded"),
        )
    finally:
        db.close()
    return str(run_id)


async def test_a_param_that_is_not_text_is_refused_by_the_api_and_nothing_is_stored(
    local_runner: LocalRunner,
) -> None:
    async with (
        serving(local_runner, LOOPBACK, token=TOKEN) as server,
        httpx.AsyncClient(base_url=server.url, headers=AUTH) as client,
    ):
        for value in ("\\ud800", "\\udcff", "a\\u0000b"):
            body = b'{"pipeline": "build", "params": {"greeting": "%s"}}' % value.encode()
            answer = await client.post(
                "/v1/runs", content=body, headers={"Content-Type": "application/json"}
            )
            assert answer.status_code == 422, answer.text
            error = answer.json()["error"]
            assert error["type"] == "InvalidInput"
            assert error["message"].startswith("pipeline 'build' param 'greeting': value refused")
            assert "\n" not in error["message"]
        assert (await client.get("/v1/runs")).json() == []
        # A surrogate pair is one real character: accepted.
        emoji = await client.post(
            "/v1/runs", json={"pipeline": "build", "params": {"greeting": "😀"}}
        )
        assert emoji.status_code == 201
        assert emoji.json()["params"]["greeting"] == "😀"


async def test_the_trigger_path_over_tcp_sends_the_value_and_gets_the_same_refusal(
    local_runner: LocalRunner,
) -> None:
    """The TUI's form and `--runner URL` reach a runner through RemoteRunner: the value gets
    to the runner (not a client-side encoding crash) and comes back as the same error."""
    async with serving(local_runner, LOOPBACK, token=TOKEN) as server:
        remote = RemoteRunner(server.url, token=TOKEN)
        try:
            with pytest.raises(InvalidInput) as refused:
                await remote.start_run("build", {"greeting": "\udcff"})
            assert str(refused.value) == (
                "pipeline 'build' param 'greeting': value refused: "
                "it is not valid UTF-8 (byte 0xff at character 1)"
            )
            assert await remote.runs() == []
        finally:
            await remote.close()


async def test_a_store_written_with_a_bad_param_answers_every_read_and_streams_go_on(
    workspace: WorkspaceSpec,
) -> None:
    # The engine creates the store, then today's code's rows are written into it.
    await (await open_local_runner(workspace)).close()
    finished = poison(workspace, status="succeeded", owner=None)
    runner = await open_local_runner(workspace)
    try:
        async with (
            serving(runner, LOOPBACK, token=TOKEN) as server,
            httpx.AsyncClient(base_url=server.url, headers=AUTH, timeout=20) as client,
        ):
            listed = await client.get("/v1/runs")
            assert listed.status_code == 200, listed.text
            assert listed.json()[0]["params"]["greeting"] == "\ufffd"
            shown = await client.get(f"/v1/runs/{finished}")
            assert shown.status_code == 200, shown.text
            assert shown.json()["run"]["params"] == {"greeting": "\ufffd", "fail": False}

            before = (await client.get("/v1/events/last")).json()["last_seq"]
            async with aconnect_sse(client, "GET", "/v1/events/stream") as source:
                frames = source.aiter_sse()
                # A run left running by a process that died: reading it interrupts it, which
                # publishes its state (the bad param included) to every stream.
                orphan = poison(workspace, status="running", owner="gone-12345")
                assert (await client.get("/v1/runs")).status_code == 200
                page = await client.get("/v1/events", params={"after": before, "wait": 0})
                assert page.status_code == 200, page.text
                started = await client.post("/v1/runs", json={"pipeline": "build"})
                assert started.status_code == 201
                seen: set[str | None] = set()
                async with asyncio.timeout(20):
                    while started.json()["id"] not in seen:
                        frame = await anext(frames)
                        if frame.event == "events":
                            seen |= {event["run_id"] for event in json.loads(frame.data)}
                assert orphan in seen  # the interrupted run's events came through, then more
            page = await client.get("/v1/events", params={"after": before, "wait": 0})
            events = page.json()
            orphan_runs = [
                e["data"] for e in events["events"] if e["kind"] == "run" and e["run_id"] == orphan
            ]
            assert orphan_runs and orphan_runs[-1]["params"]["greeting"] == "\ufffd"
            await runner.wait_run(started.json()["id"])
    finally:
        await runner.close()


async def test_a_model_version_registered_from_such_a_run_is_listed(
    workspace: WorkspaceSpec,
) -> None:
    """Registration copied a run's params into the ledger: the same repair applies there."""
    await (await open_local_runner(workspace)).close()  # creates the run and ledger tables
    db = sqlite3.connect(workspace.state_dir / "shipdeck.db", isolation_level=None)
    try:
        db.execute(
            "INSERT INTO model_versions (model, version, run_id, task, params, metrics, sha256,"
            " created_at) VALUES ('churn', 1, 1, 'train', ?, '{\"auc\": 0.9}', 'abc', ?)",
            (json.dumps({"greeting": "\ud800"}), time.time()),
        )
    finally:
        db.close()
    runner = await open_local_runner(workspace)
    try:
        async with (
            serving(runner, LOOPBACK, token=TOKEN) as server,
            httpx.AsyncClient(base_url=server.url, headers=AUTH) as client,
        ):
            versions = await client.get("/v1/models/churn/versions")
            assert versions.status_code == 200, versions.text
            assert versions.json()[0]["params"] == {"greeting": "\ufffd"}
    finally:
        await runner.close()


def test_an_event_holding_such_text_is_sent_repaired_rather_than_ending_the_stream() -> None:
    text = "a\udcff"
    event = LogEvent(seq=7, ts=datetime.now(UTC), run_id="1", data=LogData(n=0, text=text))
    frame = events_frame([event], 7)
    data = frame.split(b"data: ", 1)[1].strip()
    assert json.loads(data)[0]["data"]["text"] == "a\ufffd"
