"""Event stream benchmark: events per second and print-to-client latency over SSE on loopback.

A task prints lines; each line becomes a `log` event that the runner publishes and the client
receives. Two workloads, each measured through three clients of the same kind of runner:

- flood: one task prints LINES lines as fast as it can; events per second from the first
  event received to the last,
- paced: one task prints PACED lines, one every 2 ms, each carrying time.time_ns() from the
  moment it was printed; latency = receive time - print time (p50, p99, max).

Clients:
- in-process (reference): `LocalRunner.wait_events` in this process, no HTTP at all,
- SSE over TCP: `shipdeck serve --listen 127.0.0.1:0 --token-file F` in its own process, and
  a RemoteRunner (bearer token) following the stream with `wait_events`,
- SSE over a Unix socket: the same server process kind on unix:PATH.

Targets: >= 20,000 events/s end to end over SSE, p99 < 50 ms. Prints a table (or JSON with
--json) and exits 0: it measures, it does not judge.
    python bench/events.py [--lines 50000] [--paced 1000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from shipdeck.model import EventKind, RunStatus
from shipdeck.runners.local import open_local_runner
from shipdeck.runners.protocol import Runner
from shipdeck.runners.remote import RemoteRunner
from shipdeck.workspace import load_workspace

TARGET_RATE = 20_000
TARGET_P99_MS = 50.0
TOKEN = "bench-token-not-secret"

FLOOD = """
import sys
out = sys.stdout
for i in range(int(sys.argv[1])):
    out.write(f"line {i}\\n")
"""

PACED = """
import sys, time
count, gap = int(sys.argv[1]), float(sys.argv[2])
start = time.monotonic()
for i in range(count):
    target = start + i * gap
    delay = target - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    print(time.time_ns(), flush=True)
"""

WORKSPACE = """
[pipelines.flood]
params = { lines = 1000 }
[pipelines.flood.tasks.print]
run = "python3 flood.py $SHIPDECK_PARAM_LINES"

[pipelines.paced]
params = { lines = 100, gap = 0.002 }
[pipelines.paced.tasks.print]
run = "python3 -u paced.py $SHIPDECK_PARAM_LINES $SHIPDECK_PARAM_GAP"
"""


def make_workspace(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "shipdeck.toml").write_text(WORKSPACE)
    (root / "flood.py").write_text(FLOOD)
    (root / "paced.py").write_text(PACED)
    return root


async def follow_run(runner: Runner, pipeline: str, params: dict[str, str]) -> dict[str, Any]:
    """Start a run and follow its events to the end; count log events and their latencies."""
    after = await runner.last_seq()
    await runner.wait_events(after, wait=0)  # a remote client starts streaming from here
    run = await runner.start_run(pipeline, params)
    logs = 0
    first = last = 0.0
    latencies: list[float] = []
    resets = 0
    while True:
        page = await runner.wait_events(after, wait=10)
        now_ns = time.time_ns()
        now = time.perf_counter()
        after = page.last_seq
        if page.reset:
            resets += 1
            continue
        finished = False
        for event in page.events:
            if event.run_id != run.id:
                continue
            if event.kind == EventKind.LOG and event.data.stream == "out":
                if not logs:
                    first = now
                logs += 1
                last = now
                if pipeline == "paced":
                    latencies.append((now_ns - int(event.data.text)) / 1e6)
            elif event.kind == EventKind.RUN and RunStatus(event.data.status).finished:
                finished = True
        if finished:
            break
    result: dict[str, Any] = {"events": logs, "resets": resets}
    if pipeline == "flood":
        span = max(last - first, 1e-9)
        result.update(seconds=round(span, 3), rate=round(logs / span))
    else:
        ordered = sorted(latencies)
        result.update(
            p50_ms=round(statistics.median(ordered), 2),
            p99_ms=round(ordered[int(len(ordered) * 0.99) - 1], 2),
            max_ms=round(ordered[-1], 2),
        )
    return result


@contextlib.asynccontextmanager
async def served(root: Path, listen: str) -> AsyncIterator[str]:
    token = root.parent / "token"
    token.write_text(TOKEN)
    token.chmod(0o600)
    args = ["--listen", listen]
    if not listen.startswith("unix:"):
        args += ["--token-file", str(token)]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shipdeck", "-C", str(root), "serve", *args,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    url = ""
    while not url:
        line = (await process.stderr.readline()).decode()
        if not line:
            raise SystemExit("shipdeck serve exited before listening")
        if line.startswith("serving "):
            url = line.split(" on ", 1)[1].split(" (pid")[0]

    async def drain() -> None:
        assert process.stderr is not None
        while await process.stderr.readline():
            pass

    drainer = asyncio.create_task(drain())
    try:
        yield url
    finally:
        process.terminate()
        await process.wait()
        await drainer


async def measure(kind: str, root: Path, lines: int, paced: int) -> dict[str, Any]:
    workloads = [("flood", {"lines": str(lines)}), ("paced", {"lines": str(paced)})]
    row: dict[str, Any] = {"client": kind}
    if kind == "in-process":
        runner = await open_local_runner(load_workspace(root))
        try:
            for name, params in workloads:
                row[name] = await follow_run(runner, name, params)
        finally:
            await runner.close()
        return row
    listen = "127.0.0.1:0" if kind == "sse-tcp" else f"unix:{root.parent / 'bench.sock'}"
    async with served(root, listen) as url:
        remote = RemoteRunner(url, token=TOKEN if kind == "sse-tcp" else None)
        try:
            for name, params in workloads:
                row[name] = await follow_run(remote, name, params)
        finally:
            await remote.close()
    return row


def report(rows: list[dict[str, Any]]) -> str:
    reference = rows[0]["flood"]["rate"]
    lines = [
        f"{'client':<12} {'events':>7} {'seconds':>8} {'events/s':>9} {'ratio':>6} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'resets':>6}",
        "-" * 80,
    ]
    for row in rows:
        flood, paced = row["flood"], row["paced"]
        lines.append(
            f"{row['client']:<12} {flood['events']:>7} {flood['seconds']:>8.3f} "
            f"{flood['rate']:>9} {flood['rate'] / reference:>6.2f} {paced['p50_ms']:>7.2f} "
            f"{paced['p99_ms']:>7.2f} {paced['max_ms']:>7.2f} "
            f"{flood['resets'] + paced['resets']:>6}"
        )
    for row in rows[1:]:
        rate_ok = row["flood"]["rate"] >= TARGET_RATE
        p99_ok = row["paced"]["p99_ms"] < TARGET_P99_MS
        lines.append(
            f"target {row['client']}: >= {TARGET_RATE} events/s "
            f"{'met' if rate_ok else 'MISSED'}, p99 < {TARGET_P99_MS:.0f} ms "
            f"{'met' if p99_ok else 'MISSED'}"
        )
    lines.append(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=50_000, help="flood lines (events)")
    parser.add_argument("--paced", type=int, default=1000, help="paced lines, one per 2 ms")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shipdeck-bench-") as temp:
        rows = []
        for kind in ("in-process", "sse-tcp", "sse-unix"):
            root = make_workspace(Path(temp) / kind / "ws")
            rows.append(await measure(kind, root, args.lines, args.paced))
    if args.json:
        print(json.dumps({"rows": rows, "load": os.getloadavg()}, indent=2))
    else:
        print(report(rows))


if __name__ == "__main__":
    asyncio.run(main())
