"""[notify] on a real runner: a command that writes what it gets on stdin to a file, a webhook on
a real local HTTP server, and webhooks that are dead (a closed port, a server that never
answers), which must block nothing: not the checks, not the scheduler, not the command."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import textwrap
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from shipdeck.model import Outcome, RunStatus, Verdict
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.workspace import load_workspace
from tests.engine.conftest import eventually

NOTIFY_SCRIPT = """
import json, sys
body = json.load(sys.stdin)
with open(sys.argv[1], "a") as out:
    out.write(json.dumps(body) + "\\n")
"""

BASE = """
[pipelines.flaky]
[pipelines.flaky.tasks.t]
run = "echo broken; exit 3"

[pipelines.fine]
[pipelines.fine.tasks.t]
run = "exit 3"

[pipelines.build]
[pipelines.build.tasks.package]
run = "mkdir -p dist && echo app > dist/app.txt"

[services.api]
pipeline = "build"
artifact = "dist/app.txt"
environments = ["dev"]
deploy = "echo deploying; exit 1"

[monitors.drift]
run = "echo \\"::metric drift_share=$(cat value)\\""
thresholds = ["drift_share >= 0.5"]
"""


class Hook:
    """A real HTTP server on 127.0.0.1 recording the POSTs it gets; `status` answers them,
    `hang` holds every request open without answering."""

    def __init__(self, *, status: int = 200, hang: bool = False) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.requests = 0
        self.release = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                hook.requests += 1
                if hang:
                    hook.release.wait(30)
                    return
                length = int(self.headers["content-length"])
                hook.bodies.append(json.loads(self.rfile.read(length)))
                hook.paths.append(self.path)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hooks() -> Iterator[list[Hook]]:
    made: list[Hook] = []
    yield made
    for hook in made:
        hook.stop()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def runner_for(tmp_path: Path) -> AsyncIterator[Any]:
    opened: list[LocalRunner] = []

    async def open_(notify: str) -> LocalRunner:
        root = tmp_path / "ws"
        root.mkdir(exist_ok=True)
        (root / "notify.py").write_text(NOTIFY_SCRIPT)
        (root / "shipdeck.toml").write_text(textwrap.dedent(BASE) + textwrap.dedent(notify))
        runner = await open_local_runner(load_workspace(root), user="ops@host")
        opened.append(runner)
        runner.start_scheduling()  # as the daemon does: it notifies
        return runner

    try:
        yield open_
    finally:
        for runner in opened:
            await runner.close()


def received(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_the_command_gets_alerts_opened_and_closed_as_json_on_stdin(
    runner_for: Any,
) -> None:
    runner = await runner_for(
        """
        [notify]
        command = ["python3", "notify.py", "got.jsonl"]
        """
    )
    root = runner.engine.workspace.root
    (root / "value").write_text("0.9\n")
    check = await runner.check_monitor("drift")
    assert check.verdict == Verdict.ALERTING
    await eventually(lambda: len(received(root / "got.jsonl")) == 1)
    (root / "value").write_text("0.2\n")
    await runner.check_monitor("drift")
    await eventually(lambda: len(received(root / "got.jsonl")) == 2)
    opened, closed = received(root / "got.jsonl")
    assert opened["event"] == "alert_opened"
    assert opened["text"] == "alert #1 opened: drift drift_share >= 0.5 (value 0.9)"
    assert (opened["alert"]["id"], opened["alert"]["value"]) == (1, 0.9)
    assert opened["workspace"] == str(root)
    assert closed["event"] == "alert_closed"
    assert closed["alert"]["closed_value"] == 0.2


async def test_failed_runs_of_chosen_pipelines_and_failed_deploys_notify_once(
    runner_for: Any,
) -> None:
    runner = await runner_for(
        """
        [notify]
        command = "python3 notify.py 'got it.jsonl'"
        on_failure = ["flaky"]
        """
    )
    root = runner.engine.workspace.root
    for pipeline in ("flaky", "fine", "build"):
        run = await runner.start_run(pipeline)
        await runner.wait_run(run.id)
    entry = await runner.deploy("api", "3", "dev")
    assert entry.outcome == Outcome.FAILED
    got = root / "got it.jsonl"
    await eventually(lambda: len(received(got)) == 2)
    await asyncio.sleep(0.2)  # nothing more comes: one notification per failed run
    # Sent concurrently, they may arrive in either order; `seq` gives the runner's order.
    failed, deploy = sorted(received(got), key=lambda body: body["seq"])
    assert failed["seq"] < deploy["seq"]
    assert (failed["event"], failed["text"]) == ("run_failed", "run #1 of flaky failed")
    assert failed["run"]["status"] == RunStatus.FAILED.value
    assert deploy["event"] == "deploy_failed"
    assert deploy["text"].startswith("deploy of api r3 to dev failed: deploy failed: exit 1")
    assert len(received(got)) == 2


async def test_a_webhook_on_a_local_server_gets_the_json_and_a_failure_is_retried(
    runner_for: Any, hooks: list[Hook]
) -> None:
    hook = Hook(status=503)
    hooks.append(hook)
    runner = await runner_for(
        f"""
        [notify]
        webhook = "http://127.0.0.1:{hook.port}/hooks/T0/secret-token"
        retries = 1
        """
    )
    root = runner.engine.workspace.root
    (root / "value").write_text("0.9\n")
    await runner.check_monitor("drift")
    await eventually(lambda: len(hook.bodies) == 2)  # answered 503: sent once more
    assert hook.bodies[0] == hook.bodies[1]
    assert hook.bodies[0]["event"] == "alert_opened"
    assert hook.paths == ["/hooks/T0/secret-token"] * 2


async def test_dead_webhooks_block_nothing(
    runner_for: Any, hooks: list[Hook], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="shipdeck.notify")
    hanging = Hook(hang=True)
    hooks.append(hanging)
    runner = await runner_for(
        f"""
        [notify]
        command = ["python3", "notify.py", "got.jsonl"]
        webhook = "http://127.0.0.1:{hanging.port}/hooks/secret-token"
        timeout = "1s"
        retries = 1
        """
    )
    root = runner.engine.workspace.root
    scheduler = runner.start_scheduling()
    (root / "value").write_text("0.9\n")
    await runner.check_monitor("drift")
    await eventually(lambda: hanging.requests == 1)
    # The webhook's request hangs; meanwhile checks are judged, the scheduler looks and the
    # command's notification arrives.
    (root / "value").write_text("0.1\n")
    assert (await runner.check_monitor("drift")).verdict == Verdict.OK
    assert await scheduler.tick() == []
    await eventually(lambda: len(received(root / "got.jsonl")) == 2)
    assert hanging.requests <= 2 and not hanging.bodies  # still nothing answered
    await eventually(
        lambda: sum("no answer within 1s" in r.getMessage() for r in caplog.records) >= 2,
        within=15,
    )
    assert not any("secret-token" in record.getMessage() for record in caplog.records)
    assert f"webhook 127.0.0.1:{hanging.port} failed (attempt 1 of 2)" in caplog.text


async def test_a_closed_port_is_logged_and_retried_without_holding_anything(
    runner_for: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="shipdeck.notify")
    port = closed_port()
    runner = await runner_for(
        f"""
        [notify]
        webhook = "http://127.0.0.1:{port}/x"
        retries = 0
        """
    )
    root = runner.engine.workspace.root
    (root / "value").write_text("0.9\n")
    await runner.check_monitor("drift")
    await eventually(lambda: "ConnectError" in caplog.text)
    assert f"webhook 127.0.0.1:{port} failed (attempt 1 of 1): ConnectError" in caplog.text
    (root / "value").write_text("0.1\n")
    assert (await runner.check_monitor("drift")).verdict == Verdict.OK
