"""TUI benchmarks: start-up, a 1,000,000-line log, following a fast log, a 500-task DAG.

Run: .venv/bin/python bench/tui.py [--quick] [--startup] [--repeat N] [--json]

Each figure is measured on the real app over a real LocalRunner in a throw-away workspace,
and printed next to a reference measured in the same run (a bare Textual app) so numbers from
different machines compare. Not a timed test: nothing here fails the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import pty
import random
import re
import select
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

import tui_deploy  # bench/tui_deploy.py: Models view and compare

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

WORKSPACE = """
[pipelines.noop]
[pipelines.noop.tasks.only]
run = "true"

[pipelines.big]
params = { lines = 1000000 }
[pipelines.big.tasks.spew]
run = "python3 spew.py"

[pipelines.stream]
params = { rate = 10000, seconds = 10.0 }
[pipelines.stream.tasks.firehose]
run = "python3 firehose.py"
"""

SPEW = """
import json, os, sys
n = int(json.load(open(os.environ["SHIPDECK_PARAMS"]))["lines"])
write = sys.stdout.write
for i in range(n):
    write(f"{i:07d} the quick brown fox jumps over the lazy dog error={i % 1000 == 0}\\n")
"""

FIREHOSE = """
import json, os, sys, time
params = json.load(open(os.environ["SHIPDECK_PARAMS"]))
rate, seconds = int(params["rate"]), float(params["seconds"])
start = time.monotonic()
i = 0
while time.monotonic() - start < seconds:
    due = int((time.monotonic() - start) * rate)
    while i < due:
        sys.stdout.write(f"{i:08d} streaming line with some payload to look like a real log\\n")
        i += 1
    sys.stdout.flush()
    time.sleep(0.005)
"""

# Child programs: each prints one JSON line of results.

CHILD_PRELUDE = """
import asyncio, json, os, sys, time
from pathlib import Path
START = float(os.environ["BENCH_T0"])
from shipdeck.workspace import load_workspace
from shipdeck.runners.local import open_local_runner
from shipdeck.tui import create_app
from shipdeck.tui.config import TuiConfig
"""

STARTUP_CHILD = (
    # As the `shipdeck` executable (SHIPDECK_IN_PROCESS=1 for an in-process engine) starts:
    # garbage collection paused until the first frame (shipdeck.startup).
    "from shipdeck import startup\nstartup.pause()\n"
    + CHILD_PRELUDE
    + """
async def main():
    runner = await open_local_runner(load_workspace(Path(sys.argv[1])), user="bench")
    app = create_app([runner], config=TuiConfig())
    done = {}

    async def pilot(pilot):
        from shipdeck.tui.screens.main import MainScreen
        while not (isinstance(app.screen, MainScreen) and app.screen.snapshot is not None):
            await asyncio.sleep(0.002)
        painted = asyncio.get_running_loop().create_future()
        app.call_after_refresh(lambda: painted.set_result(None))
        await painted
        done["frame"] = time.time() - START
        app.exit()

    await app.run_async(headless=True, size=(80, 24), auto_pilot=pilot)
    await runner.close()
    print(json.dumps(done))

asyncio.run(main())
"""
)

HELLO_CHILD = """
import asyncio, json, os, time
START = float(os.environ["BENCH_T0"])
from textual.app import App
from textual.widgets import DataTable, Footer, Header

class Hello(App):
    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()

async def pilot(pilot):
    painted = asyncio.get_running_loop().create_future()
    pilot.app.call_after_refresh(lambda: painted.set_result(None))
    await painted
    print(json.dumps({"frame": time.time() - START}))
    pilot.app.exit()

Hello().run(headless=True, size=(80, 24), auto_pilot=pilot)
"""

HELLO_TERMINAL = """
from textual.app import App
from textual.widgets import DataTable, Footer, Header

class Hello(App):
    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("pipeline", "last run")
        table.add_row("stream", "hello ready")

Hello().run()
"""
"""The reference for the terminal rows: a bare app drawing one filled table in a real terminal."""

OVERVIEW_MARKER = b"never run"
"""Drawn once the overview's pipelines table holds data (the `stream` pipeline has no runs)."""
HELLO_MARKER = b"hello ready"

BIGLOG_CHILD = (
    CHILD_PRELUDE
    + """
def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    return 0

async def main():
    runner = await open_local_runner(load_workspace(Path(sys.argv[1])), user="bench")
    run_id = sys.argv[2]
    app = create_app([runner], config=TuiConfig())
    result = {}

    async def pilot(pilot):
        from shipdeck.tui.screens.log import LogScreen
        from shipdeck.tui.log.view import LogView
        await pilot.pause(0.5)
        before = rss("VmRSS")
        # Reference: the runner's own first read of the tail (it indexes the file once).
        t = time.perf_counter()
        await runner.read_log(run_id, "spew", start=-500, limit=500)
        result["runner_cold_tail_read_s"] = time.perf_counter() - t
        t = time.perf_counter()
        await app.push_screen(LogScreen(run_id, "spew"))
        view = app.screen.query_one(LogView)
        while not (view._opened and not view._pending_tail):
            await asyncio.sleep(0.002)
        painted = asyncio.get_running_loop().create_future()
        app.call_after_refresh(lambda: painted.set_result(None))
        await painted
        result["first_frame_s"] = time.perf_counter() - t
        result["bottom_line"] = view.render_line(view.size.height - 1).text.strip()[:7]
        t = time.perf_counter()
        await pilot.press("g")
        while view.render_line(0).text.strip()[:7] != "0000000":
            await asyncio.sleep(0.002)
        result["jump_to_top"] = time.perf_counter() - t
        for _ in range(200):
            await pilot.press("pagedown")
        t = time.perf_counter()
        middle = view.buffer.total // 2
        view.go_to_line(middle)
        while view.buffer.line(middle) is None or not view.render_line(0).text[:3].isdigit():
            await asyncio.sleep(0.002)
        result["jump_to_middle"] = time.perf_counter() - t
        result["memory_growth_mb"] = (rss("VmHWM") - before) / 1e6
        result["lines_held"] = sum(len(p) for p in view.buffer._pages.values())
        app.exit()

    await app.run_async(headless=True, size=(80, 24), auto_pilot=pilot)
    await runner.close()
    print(json.dumps(result))

asyncio.run(main())
"""
)

FOLLOW_CHILD = """
import asyncio, json, os, sys, time
from pathlib import Path
if sys.argv[4] == "daemon":
    from shipdeck import startup
    startup.pause()  # as the `shipdeck` executable does, until the first frame
from shipdeck.workspace import load_workspace
from shipdeck.runners.daemon import attach
from shipdeck.runners.local import open_local_runner
from shipdeck.tui import create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.log import view as log_view
from shipdeck.tui.screens.log import LogScreen

latencies = []
pending = []
original = log_view.LogView.watch_wrap

def timed_watch_wrap(self):
    original(self)
    if pending:
        latencies.append(time.perf_counter() - pending.pop())

log_view.LogView.watch_wrap = timed_watch_wrap

async def main():
    workspace = load_workspace(Path(sys.argv[1]))
    if sys.argv[4] == "daemon":
        runner = await attach(workspace)
    else:
        runner = await open_local_runner(workspace, user="bench")
    seconds = float(sys.argv[2])
    app = create_app([runner], config=TuiConfig())
    result = {}

    def probe():
        pending.append(time.perf_counter())
        app.simulate_key("w")

    async def drive():
        run = await runner.start_run("stream", {"seconds": str(seconds)})
        await app.push_screen(LogScreen(run.id, "firehose"))
        await asyncio.sleep(0.5)
        result["window_start"] = time.time()
        timer = app.set_interval(0.25, probe)
        await runner.wait_run(run.id)
        await asyncio.sleep(0.5)  # the tail of the stream reaches the view
        timer.stop()
        result["window_end"] = time.time()
        view = app.screen.query_one(log_view.LogView)
        result["lines"] = view.buffer.total
        result["latency_ms_max"] = max(latencies) * 1000 if latencies else None
        ordered = sorted(latencies) or [0.0]
        result["latency_ms_median"] = ordered[len(ordered) // 2] * 1000
        result["probes"] = len(latencies)
        Path(sys.argv[3]).write_text(json.dumps(result))
        app.exit()

    app.call_later(lambda: app.run_worker(drive()))
    await app.run_async()
    await runner.close()

asyncio.run(main())
"""


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(PYTHON).parent}{os.pathsep}{env.get('PATH', '')}"
    env["SHIPDECK_CONFIG"] = os.devnull
    env["BENCH_T0"] = str(time.time())
    return env


def run_child(code: str, *args: str) -> dict[str, object]:
    env = child_env()
    out = subprocess.run(
        [PYTHON, "-c", code, *args], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def make_workspace(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "shipdeck.toml").write_text(WORKSPACE, encoding="utf-8")
    (root / "spew.py").write_text(SPEW, encoding="utf-8")
    (root / "firehose.py").write_text(FIREHOSE, encoding="utf-8")
    return root


async def fill_history(root: Path, runs: int, big_lines: int) -> str:
    from shipdeck.runners.local import open_local_runner
    from shipdeck.workspace import load_workspace

    os.environ["PATH"] = f"{Path(PYTHON).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    runner = await open_local_runner(load_workspace(root), user="bench")
    try:
        batch = 50
        for start in range(0, runs, batch):
            started = [
                await runner.start_run("noop", None) for _ in range(min(batch, runs - start))
            ]
            for run in started:
                await runner.wait_run(run.id)
        big = await runner.start_run("big", {"lines": str(big_lines)})
        await runner.wait_run(big.id)
        return big.id
    finally:
        await runner.close()


def bench_startup(root: Path, repeat: int) -> dict[str, float]:
    ours = sorted(float(run_child(STARTUP_CHILD, str(root))["frame"]) for _ in range(repeat))
    hello = sorted(float(run_child(HELLO_CHILD)["frame"]) for _ in range(repeat))
    return {"overview_first_frame_s": ours[len(ours) // 2], "hello_app_s": hello[len(hello) // 2]}


def time_in_terminal(command: list[str], marker: bytes) -> tuple[float, float]:
    """Start `command` in an 80x24 pseudo-terminal; wall and CPU seconds until `marker` is drawn.

    CPU is the process's own user + system time at that moment (from /proc), which a busy
    machine disturbs far less than wall time. The program is then sent `q` (or killed).
    """
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = child_env()
    env["TERM"] = "xterm-256color"
    tick = os.sysconf("SC_CLK_TCK")
    started = time.perf_counter()
    child = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
    )
    os.close(slave)
    seen: tuple[float, float] | None = None
    screen = b""
    try:
        while seen is None and time.perf_counter() - started < 30:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                continue
            try:
                screen += os.read(master, 65536)
            except OSError:
                break
            if marker in screen:
                wall = time.perf_counter() - started
                stat = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
                seen = (wall, (int(stat[11]) + int(stat[12])) / tick)
        os.write(master, b"q")
        child.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        child.kill()
        child.wait()
    finally:
        os.close(master)
    if seen is None:
        tail = screen[-400:].decode(errors="replace")
        raise RuntimeError(f"{command} never drew {marker!r}; last output: {tail!r}")
    return seen


def bench_cli_startup(root: Path, repeat: int) -> dict[str, float]:
    """What the user runs: `shipdeck -C ROOT` in a terminal, attaching to a warm daemon.

    From process start to the first frame of the overview with its data, next to a bare
    Textual app timed the same way in the same terminal. The daemon is started first (by a
    plain command) and stopped at the end.
    """
    shipdeck = [PYTHON, "-m", "shipdeck", "-C", str(root)]
    subprocess.run(
        [*shipdeck, "runs", "--limit", "1", "--json"],
        env=child_env(),
        check=True,
        capture_output=True,
    )
    try:
        ours, hello, plain = [], [], []
        for _ in range(repeat):
            ours.append(time_in_terminal(shipdeck, OVERVIEW_MARKER))
            hello.append(time_in_terminal([PYTHON, "-c", HELLO_TERMINAL], HELLO_MARKER))
            before = os.times()
            t = time.perf_counter()
            subprocess.run(
                [*shipdeck, "runs", "--limit", "1", "--json"],
                env=child_env(),
                check=True,
                capture_output=True,
            )
            after = os.times()
            cpu = after.children_user + after.children_system
            plain.append(
                (time.perf_counter() - t, cpu - before.children_user - before.children_system)
            )
    finally:
        stop_daemon(root)

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    return {
        "cli_overview_frame_s": median([w for w, _ in ours]),
        "cli_overview_frame_cpu_s": median([c for _, c in ours]),
        "hello_terminal_s": median([w for w, _ in hello]),
        "hello_terminal_cpu_s": median([c for _, c in hello]),
        "cli_runs_json_s": median([w for w, _ in plain]),
        "cli_runs_json_cpu_s": median([c for _, c in plain]),
    }


def bench_cold_startup(root: Path, repeat: int) -> dict[str, float]:
    """`shipdeck -C ROOT` with no daemon running (after an idle exit, at 3 a.m.): to the
    overview frame with data, next to the daemon's own boot (spawned the same way, timed
    until /v1/health answers). The TUI builds its screens while the daemon boots, so the
    ideal is the larger of the two plus loading the overview."""
    shipdeck = [PYTHON, "-m", "shipdeck", "-C", str(root)]
    cold, boot = [], []
    for _ in range(repeat):
        stop_daemon(root)
        cold.append(time_in_terminal(shipdeck, OVERVIEW_MARKER)[0])
        stop_daemon(root)
        boot.append(time_daemon_boot(root))
    stop_daemon(root)
    return {
        "cold_overview_frame_s": sorted(cold)[len(cold) // 2],
        "daemon_boot_s": sorted(boot)[len(boot) // 2],
    }


def time_daemon_boot(root: Path) -> float:
    socket_file = root / ".shipdeck" / "runner.sock"
    started = time.perf_counter()
    daemon = subprocess.Popen(
        [PYTHON, "-m", "shipdeck", "-C", str(root), "serve", "--daemon"],
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    request = b"GET /v1/health HTTP/1.1\r\nHost: runner\r\nConnection: close\r\n\r\n"
    while time.perf_counter() - started < 30:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.connect(str(socket_file))
                probe.sendall(request)
                if probe.recv(64).startswith(b"HTTP/1.1 200"):
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.01)
    daemon.kill()
    raise RuntimeError("the daemon did not answer within 30 s")


def bench_big_log(root: Path, run_id: str) -> dict[str, object]:
    return run_child(BIGLOG_CHILD, str(root), str(run_id))


def bench_follow(root: Path, seconds: float, mode: str) -> dict[str, object]:
    """Run the real app in a pseudo-terminal and count what it writes while following.

    `mode` "daemon" is how `shipdeck` runs: the app attached to the workspace daemon, which
    executes the task in its own process. "in-process" puts the engine, and its 100,000-event
    ring, in the app's process (as SHIPDECK_IN_PROCESS=1 does): the worst case for its pauses.
    """
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    result_file = Path(tempfile.mkstemp(suffix=".json")[1])
    env = child_env()
    env["TERM"] = "xterm-256color"
    child = subprocess.Popen(
        [PYTHON, "-c", FOLLOW_CHILD, str(root), str(seconds), str(result_file), mode],
        stdin=slave,
        stdout=slave,
        stderr=slave,  # Textual draws on stderr
        env=env,
        close_fds=True,
    )
    os.close(slave)
    chunks: list[tuple[float, int]] = []

    def read_terminal() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append((time.time(), len(data)))

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    child.wait(timeout=seconds + 60)
    reader.join(timeout=5)
    os.close(master)
    result: dict[str, object] = json.loads(result_file.read_text() or "{}")
    start, end = float(result.get("window_start", 0)), float(result.get("window_end", 0))  # type: ignore[arg-type]
    window = end - start
    written = sum(size for at, size in chunks if start <= at <= end)
    result["window_s"] = window
    result["terminal_bytes_per_s"] = written / window if window > 0 else None
    lines = result.get("lines")
    if isinstance(lines, int) and window:
        result["log_bytes_per_s"] = lines * 68 / window
    return result


def stop_daemon(root: Path) -> None:
    command = [PYTHON, "-m", "shipdeck", "-C", str(root), "serve", "--stop"]
    subprocess.run(command, env=child_env(), capture_output=True)


def report_follow(label: str, f: dict[str, object]) -> str:
    terminal_kb = float(f.get("terminal_bytes_per_s") or 0) / 1000  # type: ignore[arg-type]
    log_kb = float(f.get("log_bytes_per_s") or 0) / 1000  # type: ignore[arg-type]
    return (
        f"{label} {f.get('lines')} lines; key latency max "
        f"{f.get('latency_ms_max') or 0:.0f} ms (median {f.get('latency_ms_median') or 0:.0f} ms, "
        f"{f.get('probes')} probes); terminal {terminal_kb:.0f} KB/s vs log {log_kb:.0f} KB/s"
        "   targets < 100 ms, < 200 KB/s"
    )


def bench_dag(tasks: int) -> dict[str, float]:
    from textual.app import App

    from shipdeck.model import PipelineSpec, TaskSpec
    from shipdeck.tui.dag_layout import layout_dag
    from shipdeck.tui.widgets.dag import DagView

    rng = random.Random(5)
    specs = {}
    for i in range(tasks):
        needs = (
            tuple(sorted({f"t{rng.randrange(i)}" for _ in range(rng.randint(0, 3))})) if i else ()
        )
        specs[f"t{i}"] = TaskSpec(name=f"t{i}", run="true", needs=needs)
    spec = PipelineSpec(name="wide", tasks=specs)
    t = time.perf_counter()
    layout_dag(spec)
    layout_s = time.perf_counter() - t
    timings: dict[str, float] = {}

    class DagApp(App[None]):
        pass

    async def run() -> None:
        app = DagApp()
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            t0 = time.perf_counter()
            dag = DagView(spec)
            await app.screen.mount(dag)
            dag.focus()
            painted = asyncio.get_running_loop().create_future()
            app.call_after_refresh(lambda: painted.set_result(None))
            await painted
            timings["first_frame_s"] = time.perf_counter() - t0
            # A move: the selection changes and every visible row is painted again.
            t1 = time.perf_counter()
            for direction in ["right", "right", "down", "down", "up", "up", "left", "left"] * 5:
                dag.action_move(direction)
                for y in range(dag.size.height):
                    dag.render_line(y)
            timings["key_move_ms"] = (time.perf_counter() - t1) / 40 * 1000

    asyncio.run(run())
    return {"layout_s": layout_s, **timings}


def report_startup(s: dict[str, float], c: dict[str, float], cold: dict[str, float]) -> None:
    print(
        f"in-process start-up        {s['overview_first_frame_s']:.3f} s to the overview frame "
        f"(bare Textual app {s['hello_app_s']:.3f} s, ratio "
        f"{s['overview_first_frame_s'] / s['hello_app_s']:.2f}x)"
    )
    print(
        f"`shipdeck -C WS` (pty)     {c['cli_overview_frame_s']:.3f} s to the overview frame, "
        f"CPU {c['cli_overview_frame_cpu_s']:.2f} s (bare Textual app in a pty "
        f"{c['hello_terminal_s']:.3f} s, CPU {c['hello_terminal_cpu_s']:.2f} s; ratio "
        f"{c['cli_overview_frame_s'] / c['hello_terminal_s']:.2f}x wall, "
        f"{c['cli_overview_frame_cpu_s'] / c['hello_terminal_cpu_s']:.2f}x CPU)   target < 0.6 s"
    )
    print(
        f"`shipdeck runs --limit 1`  {c['cli_runs_json_s']:.3f} s, CPU "
        f"{c['cli_runs_json_cpu_s']:.2f} s (--json, warm daemon)"
    )
    print(
        f"`shipdeck -C WS`, no daemon {cold['cold_overview_frame_s']:.3f} s to the overview frame "
        f"(the daemon's own boot {cold['daemon_boot_s']:.3f} s)"
    )


def byte_compile() -> None:
    """Measure shipdeck as installed: pip byte-compiles a package at install, but a checkout
    run with PYTHONDONTWRITEBYTECODE set would compile every module from source at each start."""
    import compileall

    # The demo's pipeline scripts are package data copied into workspaces, not shipdeck code.
    compileall.compile_dir(ROOT / "src", quiet=1, rx=re.compile("/demo/files/"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller workloads, for a smoke run")
    parser.add_argument("--startup", action="store_true", help="only the start-up rows")
    parser.add_argument("--logs", action="store_true", help="only the log rows (open, follow)")
    parser.add_argument("--repeat", type=int, help="start-up runs per row (median; default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    runs, big, seconds = (1000, 1_000_000, 10.0)
    if args.quick:
        runs, big, seconds = (100, 50_000, 2.0)
    if args.logs:
        runs = 100
    if args.startup:
        big = 1000
    startup_repeat = args.repeat or (1 if args.quick else 5)

    results: dict[str, object] = {"load_before": os.getloadavg()[0]}
    byte_compile()
    with tempfile.TemporaryDirectory() as tmp:
        root = make_workspace(Path(tmp) / "ws")
        t = time.perf_counter()
        big_run = asyncio.run(fill_history(root, runs, big))
        results["setup_s"] = time.perf_counter() - t
        if not args.logs:
            results["startup"] = bench_startup(root, startup_repeat)
            results["cli_startup"] = bench_cli_startup(root, startup_repeat)
            results["cold_startup"] = bench_cold_startup(root, startup_repeat)
        results["load_after_startup"] = os.getloadavg()[0]
        if not args.startup:
            results["big_log"] = bench_big_log(root, big_run)
            results["follow"] = bench_follow(root, seconds, "daemon")
            results["follow_in_process"] = bench_follow(root, seconds, "in-process")
            stop_daemon(root)
    if not (args.startup or args.logs):
        results["dag_500"] = bench_dag(500)
        results["models_compare"] = tui_deploy.run_all(args.quick)
    results["config"] = {"runs": runs, "log_lines": big, "follow_seconds": seconds}

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(
        f"history: {runs} runs; load average {results['load_before']:.1f} before, "
        f"{results['load_after_startup']:.1f} after the start-up rows (2 cores here)"
    )
    if not args.logs:
        s, c, cold = results["startup"], results["cli_startup"], results["cold_startup"]
        assert isinstance(s, dict) and isinstance(c, dict) and isinstance(cold, dict)
        report_startup(s, c, cold)
    if args.startup:
        return 0
    b, f = results["big_log"], results["follow"]
    assert isinstance(b, dict) and isinstance(f, dict)
    print(f"log: {big:,} lines; follow: {seconds:.0f}s at 10,000 lines/s")
    print(
        f"open {big:,}-line log        first frame {b['first_frame_s']:.3f} s "
        f"(after the runner's own cold tail read, {b['runner_cold_tail_read_s']:.3f} s), "
        f"top {b['jump_to_top']:.3f} s, middle {b['jump_to_middle']:.3f} s, "
        f"memory +{b['memory_growth_mb']:.0f} MB, {b['lines_held']} lines held"
        "   target < 0.5 s, < 150 MB"
    )
    fi = results["follow_in_process"]
    assert isinstance(fi, dict)
    print(report_follow("follow firehose (daemon)   ", f))
    print(report_follow("follow, engine in process  ", fi))
    if args.logs:
        return 0
    d = results["dag_500"]
    assert isinstance(d, dict)
    print(
        f"DAG of 500 tasks            layout {d['layout_s'] * 1000:.0f} ms, first frame "
        f"{d['first_frame_s']:.3f} s, move+repaint {d['key_move_ms']:.1f} ms   target < 0.3 s"
    )
    models_compare = results["models_compare"]
    assert isinstance(models_compare, dict)
    print(tui_deploy.report(models_compare))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
