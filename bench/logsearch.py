"""Log search benchmark: a 1,000,000-line task log searched by shipdeck and by `grep -c`.

A task prints LINES lines like a test suite's (one in 20 coloured, `boom` in one in 1,000),
captured by the engine into its log file. Then, in the same run, each pattern is counted by:

- grep (reference): `grep -c` on the log file (`-ci` where shipdeck's smart case ignores
  case, `-cE` for a regular expression); the best of REPEAT runs;
- the runner in process: `LocalRunner.search_log` page by page to the end, the line index
  already built (as after opening the log), best of REPEAT; and once cold (a fresh runner:
  index and line classes built on the way);
- the runner over HTTP: the workspace daemon through its Unix socket (`RemoteRunner`), as
  the TUI and `shipdeck` use it; while it searches, /v1/health is asked every 20 ms and the
  slowest answer kept (the daemon stays responsive);
- the TUI: the real app attached to the daemon, at the log's tail; `/boom` typed; the time to
  the first match on screen and to the match count in the status line.

shipdeck matches the visible text (colour codes dropped, timestamp prefix excluded) and must
count what grep counts for these patterns; a mismatch is printed. Target: search through the
runner within 3x of `grep -c`. Prints a table (or JSON with --json), and the CPU time each
used (on a shared machine the wall-clock ratios swing with its load); it measures, it does not
judge.
    .venv/bin/python bench/logsearch.py [--lines 1000000] [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from shipdeck.runners.daemon import attach
from shipdeck.runners.daemon import stop as stop_daemon
from shipdeck.runners.local import open_local_runner
from shipdeck.runners.protocol import Runner
from shipdeck.workspace import load_workspace

TARGET = 3.0

WORKSPACE = """
[pipelines.big]
params = { lines = 1000000 }
[pipelines.big.tasks.suite]
run = "python3 suite.py"
"""

SUITE = r"""
import json, os, sys
n = int(json.load(open(os.environ["SHIPDECK_PARAMS"]))["lines"])
write = sys.stdout.write
for i in range(n):
    if i % 20 == 0:
        write(f"tests/test_{i:07d}.py::test_case \x1b[32mPASSED\x1b[0m [{i % 100:3d}%]\n")
    else:
        boom = " boom: retrying" if i % 1000 == 7 else ""
        write(f"{i:07d} the quick brown fox jumps over the lazy dog error={i % 500 == 3}{boom}\n")
"""

# (label, shipdeck pattern, regex, ignore_case, grep arguments)
PATTERNS: list[tuple[str, str, bool, bool | None, list[str]]] = [
    ("boom (smart case)", "boom", False, None, ["-ci", "boom"]),
    ("boom (exact case)", "boom", False, False, ["-c", "boom"]),
    ("PASSED (coloured)", "PASSED", False, None, ["-c", "PASSED"]),
    ("fox (every line)", "fox", False, False, ["-c", "fox"]),
    ("regex error=T.ue", r"error=T.ue", True, False, ["-cE", "error=T.ue"]),
    ("regex br.wn f.x", r"br.wn f.x", True, False, ["-cE", "br.wn f.x"]),
]

TUI_CHILD = """
import asyncio, json, sys, time
from pathlib import Path
from shipdeck.workspace import load_workspace
from shipdeck.runners.daemon import attach
from shipdeck.tui import create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.screens.log import LogScreen
from shipdeck.tui.log.view import LogView

async def main():
    runner = await attach(load_workspace(Path(sys.argv[1])))
    app = create_app([runner], config=TuiConfig())
    result = {}

    async def pilot(pilot):
        await app.push_screen(LogScreen(sys.argv[2], "suite"))
        view = app.screen.query_one(LogView)
        while not (view._opened and not view._pending_tail):
            await asyncio.sleep(0.002)
        await pilot.pause(0.2)
        submitted = []
        search = view.search

        def timed_search(pattern):
            submitted.append(time.perf_counter())
            search(pattern)

        view.search = timed_search
        started = time.perf_counter()
        await pilot.press("slash", *sys.argv[3], "enter")
        while view.match_line is None:
            await asyncio.sleep(0.001)
        line = view.match_line
        while view.buffer.line(line) is None or sys.argv[3] not in str(
            view.render_line(line - int(view.scroll_y)).text
        ):
            await asyncio.sleep(0.001)
        result["first_match_s"] = time.perf_counter() - started
        result["first_match_after_enter_s"] = time.perf_counter() - submitted[0]
        status = app.screen.query_one(".log-status")
        while "/" + sys.argv[3] + " " not in str(status.render()) or "…" in str(status.render()):
            await asyncio.sleep(0.001)
        result["count_s"] = time.perf_counter() - started
        result["count_after_enter_s"] = time.perf_counter() - submitted[0]
        result["count"] = len(view._matches.lines)
        result["status"] = str(status.render())
        app.exit()

    await app.run_async(headless=True, size=(80, 24), auto_pilot=pilot)
    await runner.close()
    print(json.dumps(result))

asyncio.run(main())
"""


def best(times: list[float]) -> float:
    return min(times)


def grep_count(path: Path, args: list[str], repeat: int) -> tuple[int, float, float]:
    """(count, best wall seconds, median CPU seconds) of `grep ARGS path`."""
    times, cpus, count = [], [], 0
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        out = subprocess.run(["grep", *args, str(path)], capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        count = int(out.stdout.strip() or 0)
    return count, best(times), statistics.median(cpus)


def daemon_pid(root: Path) -> int | None:
    """The workspace daemon's process (for its CPU time), found by its command line."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--daemon" in argv and str(root).encode() in argv:
            return int(entry.name)
    return None


def cpu_seconds(pid: int | None) -> float:
    """CPU time used so far by this process, plus by process `pid` when given."""
    used = time.process_time()
    if pid is not None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return used


async def search_count(
    runner: Runner, run_id: str, pattern: str, regex: bool, ignore_case: bool | None
) -> tuple[int, int]:
    """Every match, page by page (as the TUI counts); returns (matches, pages)."""
    found, pages, start = 0, 0, 0
    while True:
        page = await runner.search_log(
            run_id,
            "suite",
            pattern,
            regex=regex,
            ignore_case=ignore_case,
            start=start,
            limit=100_000,
        )
        found += page.count
        pages += 1
        if page.done:
            return found, pages
        start = page.next


async def timed_search(
    runner: Runner,
    run_id: str,
    pattern: str,
    regex: bool,
    ignore_case: bool | None,
    repeat: int,
    pid: int | None = None,
) -> tuple[int, float, int, float]:
    """(count, best wall seconds, pages, median CPU seconds: this process's, and the daemon's
    `pid` when given; its clock ticks are 10 ms, and a first search may sort the log's lines,
    so a median, not a best or a mean)."""
    times, cpus, count, pages = [], [], 0, 0
    for _ in range(repeat):
        cpu = cpu_seconds(pid)
        started = time.perf_counter()
        count, pages = await search_count(runner, run_id, pattern, regex, ignore_case)
        times.append(time.perf_counter() - started)
        cpus.append(cpu_seconds(pid) - cpu)
    return count, best(times), pages, statistics.median(cpus)


async def health_during(runner: Any, work: Any) -> tuple[Any, float]:
    """Run `work` while asking /v1/health every 20 ms; the slowest answer in seconds."""
    slowest = 0.0
    done = asyncio.Event()

    async def probe() -> None:
        nonlocal slowest
        while not done.is_set():
            started = time.perf_counter()
            await runner.info()
            slowest = max(slowest, time.perf_counter() - started)
            await asyncio.sleep(0.02)

    prober = asyncio.create_task(probe())
    try:
        result = await work
    finally:
        done.set()
        await prober
    return result, slowest


def make_workspace(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "shipdeck.toml").write_text(WORKSPACE, encoding="utf-8")
    (root / "suite.py").write_text(SUITE, encoding="utf-8")
    return root


async def bench(root: Path, lines: int, repeat: int) -> dict[str, Any]:
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    workspace = load_workspace(root)
    runner = await open_local_runner(workspace, user="bench")
    started = time.perf_counter()
    run = await runner.start_run("big", {"lines": str(lines)})
    await runner.wait_run(run.id)
    results: dict[str, Any] = {"generate_s": time.perf_counter() - started, "rows": []}
    log = next((root / ".shipdeck" / "logs").glob(f"{run.id}/suite.log"))
    results["log_bytes"] = log.stat().st_size
    await runner.close()

    cold = await open_local_runner(workspace, user="bench")
    label, pattern, regex, ignore_case, _ = PATTERNS[0]
    started = time.perf_counter()
    await search_count(cold, run.id, pattern, regex, ignore_case)
    results["cold_s"] = time.perf_counter() - started
    await cold.close()

    local = await open_local_runner(workspace, user="bench")
    await local.read_log(run.id, "suite", start=-500, limit=500)  # the log opened: indexed
    remote = await attach(workspace, announce=lambda _: None)
    try:
        await remote.read_log(run.id, "suite", start=-500, limit=500)
        pid = daemon_pid(root)
        for label, pattern, regex, ignore_case, grep_args in PATTERNS:
            grep_n, grep_s, grep_cpu = grep_count(log, grep_args, repeat)
            local_n, local_s, pages, local_cpu = await timed_search(
                local, run.id, pattern, regex, ignore_case, repeat
            )
            (remote_n, remote_s, _, remote_cpu), slowest = await health_during(
                remote, timed_search(remote, run.id, pattern, regex, ignore_case, repeat, pid)
            )
            results["rows"].append(
                {
                    "label": label,
                    "grep": " ".join(["grep", *grep_args]),
                    "grep_count": grep_n,
                    "grep_s": grep_s,
                    "grep_cpu_s": grep_cpu,
                    "local_count": local_n,
                    "local_s": local_s,
                    "local_cpu_s": local_cpu,
                    "remote_count": remote_n,
                    "remote_s": remote_s,
                    "remote_cpu_s": remote_cpu if pid is not None else None,
                    "pages": pages,
                    "health_max_s": slowest,
                }
            )
    finally:
        await local.close()
        await remote.close()
    env = dict(os.environ, SHIPDECK_CONFIG=os.devnull)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        TUI_CHILD,
        str(root),
        str(run.id),
        "boom",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    out, err = await child.communicate()
    if child.returncode != 0:
        results["tui"] = {"error": err.decode()[-2000:]}
    else:
        results["tui"] = json.loads(out.decode().strip().splitlines()[-1])
    results["tui"]["grep_s"] = results["rows"][0]["grep_s"]
    await stop_daemon(workspace)
    return results


def report(results: dict[str, Any], lines: int) -> None:
    mb = results["log_bytes"] / 1e6
    print(
        f"log: {lines:,} lines, {mb:.0f} MB (generated through the engine in "
        f"{results['generate_s']:.1f} s); load average {os.getloadavg()[0]:.1f} (2 cores)"
    )
    header = (
        f"{'pattern':20} {'matches':>8} {'grep -c':>8} {'in-process':>10} {'ratio':>6} "
        f"{'daemon':>8} {'ratio':>6} {'health max':>10}"
    )
    print(header)
    print("-" * len(header))
    for row in results["rows"]:
        same = row["grep_count"] == row["local_count"] == row["remote_count"]
        print(
            f"{row['label']:20} {row['local_count']:>8} {row['grep_s']:>7.3f}s "
            f"{row['local_s']:>9.3f}s {row['local_s'] / row['grep_s']:>6.2f} "
            f"{row['remote_s']:>7.3f}s {row['remote_s'] / row['grep_s']:>6.2f} "
            f"{row['health_max_s'] * 1000:>8.0f}ms"
            + ("" if same else f"   MISMATCH: grep counted {row['grep_count']}")
        )
    print(f"cold (fresh runner: index + line classes built): {results['cold_s']:.3f} s for boom")
    tui = results["tui"]
    if "error" in tui:
        print(f"TUI: failed: {tui['error']}")
    else:
        print(
            f"TUI (attached to the daemon, at the tail), from enter: first match on screen "
            f"{tui['first_match_after_enter_s']:.3f} s, count in the status line "
            f"{tui['count_after_enter_s']:.3f} s ({tui['count']} matches; grep -ci "
            f"{tui['grep_s']:.3f} s); from the `/` key (typing 'boom' included): "
            f"{tui['first_match_s']:.3f} s, {tui['count_s']:.3f} s"
        )
    print(
        "CPU time, median of the repeats (grep's; in process: this process's; daemon: the "
        "daemon's and this client's, health probes included), and its ratio to grep's:"
    )
    for row in results["rows"]:
        remote = row["remote_cpu_s"]
        grep = max(row["grep_cpu_s"], 1e-3)
        said = "-" if remote is None else f"{remote:.3f}s {remote / grep:.2f}"
        print(
            f"  {row['label']:20} grep {row['grep_cpu_s']:.3f}s  in-process "
            f"{row['local_cpu_s']:.3f}s {row['local_cpu_s'] / grep:.2f}"
            f"  daemon {said}"
        )
    worst = max(row["remote_s"] / row["grep_s"] for row in results["rows"])
    print(f"target: search through the runner within {TARGET:.0f}x grep -c: worst {worst:.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = make_workspace(Path(tmp) / "ws")
        results = asyncio.run(bench(root, args.lines, args.repeat))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        report(results, args.lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
