"""The SSE endpoint: frame format, resume points, heartbeats, resets, shutdown, reconnects."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
from httpx_sse import ServerSentEvent, aconnect_sse

from shipdeck.model import EventKind
from shipdeck.runners.event_follower import Backoff, LinkStatus
from shipdeck.runners.local import LocalRunner
from shipdeck.runners.remote import RemoteRunner
from shipdeck.server import StreamSettings
from shipdeck.server.listen import Listen
from tests.server.conftest import TOKEN, eventually, serving

AUTH = {"Authorization": f"Bearer {TOKEN}"}
LOOPBACK = Listen(host="127.0.0.1", port=0)


async def finished_run_events(runner: LocalRunner, lines: int) -> tuple[int, int]:
    """Run `chatty` to the end; the feed position before it and the newest seq after."""
    before = await runner.last_seq()
    run = await runner.start_run("chatty", {"lines": str(lines)})
    await runner.wait_run(run.id)
    await eventually(lambda: runner.engine.last_seq() > before + lines)
    return before, await runner.last_seq()


async def collect(
    url: str, headers: dict[str, str], until_seq: int, params: dict[str, int] | None = None
) -> list[ServerSentEvent]:
    frames: list[ServerSentEvent] = []
    async with (
        httpx.AsyncClient(base_url=url, headers=AUTH, timeout=10) as client,
        aconnect_sse(client, "GET", "/v1/events/stream", headers=headers, params=params) as src,
    ):
        assert src.response.status_code == 200
        async for frame in src.aiter_sse():
            if not frame.data:  # the opening `retry:` hint carries no event
                continue
            frames.append(frame)
            if frame.id and int(frame.id) >= until_seq:
                break
    return frames


async def test_frames_are_batches_with_seq_ids_and_resume_after_last_event_id(
    local_runner: LocalRunner,
) -> None:
    async with serving(local_runner, LOOPBACK, token=TOKEN) as server:
        before, newest = await finished_run_events(local_runner, 50)
        frames = await collect(server.url, {"Last-Event-ID": str(before)}, newest)
        seqs: list[int] = []
        for frame in frames:
            assert frame.event == "events"
            batch = json.loads(frame.data)
            assert int(frame.id) == batch[-1]["seq"]
            seqs.extend(event["seq"] for event in batch)
        assert seqs == list(range(before + 1, newest + 1))

        # Resuming from the middle gives exactly the rest, also via ?after=N.
        middle = seqs[len(seqs) // 2]
        rest = await collect(server.url, {"Last-Event-ID": str(middle)}, newest)
        again = await collect(server.url, {}, newest, params={"after": middle})
        for frames_ in (rest, again):
            got = [event["seq"] for f in frames_ for event in json.loads(f.data)]
            assert got == list(range(middle + 1, newest + 1))


async def test_header_wins_over_query_and_bad_header_is_one_clear_error(
    local_runner: LocalRunner,
) -> None:
    async with serving(local_runner, LOOPBACK, token=TOKEN) as server:
        _, newest = await finished_run_events(local_runner, 5)
        frames = await collect(server.url, {"Last-Event-ID": str(newest - 1)}, newest, {"after": 0})
        assert [event["seq"] for f in frames for event in json.loads(f.data)] == [newest]
        async with httpx.AsyncClient(base_url=server.url, headers=AUTH) as client:
            response = await client.get("/v1/events/stream", headers={"Last-Event-ID": "abc"})
            assert response.status_code == 422
            assert response.json()["error"] == {
                "type": "InvalidInput",
                "message": "Last-Event-ID must be an event number, got 'abc'",
            }


async def test_idle_stream_sends_heartbeats(local_runner: LocalRunner) -> None:
    settings = StreamSettings(heartbeat=0.1)
    async with (
        serving(local_runner, LOOPBACK, token=TOKEN, stream=settings) as server,
        httpx.AsyncClient(base_url=server.url, headers=AUTH, timeout=5) as client,
        client.stream("GET", "/v1/events/stream") as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        text = ""
        async for chunk in response.aiter_text():
            text += chunk
            if text.count(": heartbeat") >= 2:
                break
        assert text.startswith("retry: ")


async def test_client_too_far_behind_gets_a_reset_to_the_present(
    local_runner: LocalRunner,
) -> None:
    settings = StreamSettings(page_limit=10, max_lag=30)
    async with serving(local_runner, LOOPBACK, token=TOKEN, stream=settings) as server:
        before, newest = await finished_run_events(local_runner, 100)
        frames = await collect(server.url, {"Last-Event-ID": str(before)}, newest)
        assert frames[0].event == "events"
        assert len(json.loads(frames[0].data)) == 10
        assert frames[1].event == "reset"
        assert json.loads(frames[1].data) == {"last_seq": newest}
        assert frames[1].id == str(newest)

        client = RemoteRunner(server.url, token=TOKEN)
        try:
            seqs: list[int] = []
            after = before
            while True:
                page = await client.wait_events(after, wait=5, limit=10)
                after = page.last_seq
                if page.reset:
                    break
                seqs += [e.seq for e in page.events]
            # What came before the reset is gap-free; the reset lands on the present.
            assert seqs == list(range(before + 1, before + 1 + len(seqs)))
            assert len(seqs) < newest - before
            assert page.last_seq == newest and page.events == []
        finally:
            await client.close()


async def test_stop_ends_open_streams_promptly(local_runner: LocalRunner) -> None:
    async with serving(local_runner, LOOPBACK, token=TOKEN) as server:
        client = RemoteRunner(server.url, token=TOKEN)
        try:
            last = await client.last_seq()
            await client.wait_events(last, wait=0)
            await eventually(lambda: client.state.status == LinkStatus.LIVE)
            started = time.monotonic()
            await server.stop()
            assert time.monotonic() - started < 2.0
        finally:
            await client.close()


async def test_client_reconnects_when_the_runner_comes_back(
    local_runner: LocalRunner, tmp_path: Path
) -> None:
    listen = Listen(path=tmp_path / "runner.sock")
    client = RemoteRunner(f"unix:{listen.path}", backoff=Backoff(initial=0.05, cap=0.2))
    try:
        async with serving(local_runner, listen):
            after = await client.last_seq()
            await client.wait_events(after, wait=0)
            await eventually(lambda: client.state.status == LinkStatus.LIVE)
        # The server is gone: the client keeps trying and says so.
        await eventually(lambda: client.state.status == LinkStatus.RECONNECTING)
        page = await client.wait_events(after, wait=0.1)
        assert page.events == [] and page.last_seq == after
        async with serving(local_runner, listen):
            await eventually(lambda: client.state.status == LinkStatus.LIVE)
            run = await local_runner.start_run("chatty", {"lines": "3"})
            seen: list[str] = []
            while len(seen) < 3:
                page = await client.wait_events(after, wait=5)
                after = page.last_seq
                seen += [e.data.text for e in page.events if e.kind == EventKind.LOG]
            assert seen == ["line 0", "line 1", "line 2"]
            await local_runner.wait_run(run.id)
    finally:
        await client.close()


async def test_follower_buffer_is_bounded_and_loses_nothing(local_runner: LocalRunner) -> None:
    async with serving(local_runner, LOOPBACK, token=TOKEN) as server:
        client = RemoteRunner(server.url, token=TOKEN, max_buffer=20)
        try:
            before = await client.last_seq()
            await client.wait_events(before, wait=0)
            run = await local_runner.start_run("chatty", {"lines": "300"})
            await local_runner.wait_run(run.id)
            newest = await local_runner.last_seq()
            follower = client._follower
            assert follower is not None
            # The follower stopped reading once its buffer was full.
            await asyncio.sleep(0.2)
            assert len(follower._buffer) < 20 + StreamSettings().page_limit
            seqs: list[int] = []
            after = before
            while after < newest:
                page = await client.wait_events(after, wait=2, limit=7)
                assert not page.reset and len(page.events) <= 7
                seqs += [e.seq for e in page.events]
                after = page.last_seq
            assert seqs == list(range(before + 1, newest + 1))
        finally:
            await client.close()
