"""Engine benchmark: a 200-task no-op DAG through shipdeck versus `make`, same parallelism.

The DAG has LAYERS layers of WIDTH tasks; task i of a layer needs tasks i and (i+1) % WIDTH
of the layer before. Every task runs `true`. The same graph is written as a Makefile (phony
targets, recipe `true`) and run with `make -j JOBS`. Measured in one process, interleaved,
REPEAT times each after one warm-up; medians are compared:

- shipdeck CLI: `shipdeck -C DIR run dag --jobs JOBS --json` as a subprocess (what a user
  types; includes interpreter start-up and opening the store),
- shipdeck in process: `start_run` + `wait_run` on a local runner opened beforehand,
- make: `make -j JOBS -s -f Makefile`,
- CLI start-up only: `shipdeck -C DIR runs --limit 1 --json`, the CLI's fixed cost (start
  Python, import, open the store) that the first row pays once per run.

Prints a table (or JSON with --json) and always exits 0: it measures, it does not judge.
    python bench/engine.py [--repeat 5] [--jobs 2] [--json] [--profile 25]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

LAYERS = 20
WIDTH = 10
TARGET_RATIO = 2.0


def task_name(layer: int, index: int) -> str:
    return f"t{layer:02d}_{index}"


def dag_needs(layers: int, width: int) -> dict[str, list[str]]:
    """Every task with the tasks it needs, layer by layer."""
    needs: dict[str, list[str]] = {}
    for layer in range(layers):
        for i in range(width):
            before = [] if layer == 0 else [(i, layer - 1), ((i + 1) % width, layer - 1)]
            needs[task_name(layer, i)] = [task_name(lay, j) for j, lay in before]
    return needs


def write_workspace(root: Path, needs: dict[str, list[str]]) -> None:
    lines = ["[pipelines.dag]", 'description = "no-op DAG for the engine benchmark"', ""]
    for name, deps in needs.items():
        lines.append(f"[pipelines.dag.tasks.{name}]")
        lines.append('run = "true"')
        if deps:
            lines.append("needs = [" + ", ".join(f'"{d}"' for d in deps) + "]")
        lines.append("")
    (root / "shipdeck.toml").write_text("\n".join(lines))


def write_makefile(root: Path, needs: dict[str, list[str]], width: int) -> None:
    last_layer = list(needs)[-width:]
    lines = [f".PHONY: all {' '.join(needs)}", f"all: {' '.join(last_layer)}", ""]
    for name, deps in needs.items():
        lines.append(f"{name}: {' '.join(deps)}".rstrip())
        lines.append("\ttrue")
    (root / "Makefile").write_text("\n".join(lines) + "\n")


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its finished children so far."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(action: Callable[[], None]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of `action`; CPU time is less disturbed by a busy machine."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    action()
    return time.perf_counter() - wall, cpu_seconds() - cpu


def run_make(root: Path, jobs: int) -> None:
    subprocess.run(
        ["make", f"-j{jobs}", "-s", "-f", "Makefile"],
        cwd=root,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def run_cli(root: Path, jobs: int, tasks: int) -> None:
    command = [sys.executable, "-m", "shipdeck", "-C", str(root), "run", "dag"]
    result = subprocess.run(
        [*command, "--jobs", str(jobs), "--json"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"shipdeck run failed ({result.returncode}): {result.stderr.strip()}")
    detail = json.loads(result.stdout)
    succeeded = sum(1 for task in detail["tasks"] if task["status"] == "succeeded")
    if succeeded != tasks:
        raise RuntimeError(f"shipdeck ran {succeeded}/{tasks} tasks successfully")


def run_cli_startup(root: Path) -> None:
    """The CLI's fixed cost: start Python, import shipdeck, open the store, list one run."""
    command = [sys.executable, "-m", "shipdeck", "-C", str(root), "runs", "--limit", "1"]
    subprocess.run([*command, "--json"], check=True, stdout=subprocess.DEVNULL)


class InProcess:
    """A local runner opened once; each measurement is one run of the DAG through it."""

    def __init__(self, root: Path, jobs: int, tasks: int) -> None:
        from shipdeck.runners.local import open_local_runner
        from shipdeck.workspace import load_workspace

        self.jobs = jobs
        self.tasks = tasks
        self.loop = asyncio.new_event_loop()
        self.runner = self.loop.run_until_complete(open_local_runner(load_workspace(root)))

    async def _run_once(self) -> None:
        run = await self.runner.start_run("dag", jobs=self.jobs, trigger="bench")
        finished = await self.runner.wait_run(run.id)
        if finished.status != "succeeded" or finished.tasks_done != self.tasks:
            raise RuntimeError(f"in-process run #{run.id} ended {finished.status}")

    def run(self) -> None:
        self.loop.run_until_complete(self._run_once())

    def close(self) -> None:
        self.loop.run_until_complete(self.runner.close())
        self.loop.close()


def summarize(samples: list[float]) -> dict[str, Any]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "samples": samples,
    }


def measure(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    needs = dag_needs(args.layers, args.width)
    tasks = len(needs)
    write_workspace(root, needs)
    write_makefile(root, needs, args.width)
    methods: dict[str, Callable[[], None]] = {
        "make": lambda: run_make(root, args.jobs),
        "shipdeck_cli": lambda: run_cli(root, args.jobs, tasks),
        "shipdeck_cli_startup": lambda: run_cli_startup(root),
    }
    in_process: InProcess | None = None
    try:
        in_process = InProcess(root, args.jobs, tasks)
        methods["shipdeck_inprocess"] = in_process.run
    except ImportError as error:
        print(f"note: in-process measurement skipped: {error}", file=sys.stderr)
    samples: dict[str, list[float]] = {name: [] for name in methods}
    cpu: dict[str, list[float]] = {name: [] for name in methods}
    errors: dict[str, str] = {}
    try:
        for round_number in range(args.repeat + 1):  # round 0 warms up caches and the store
            for name, action in methods.items():
                if name in errors:
                    continue
                try:
                    seconds, cpu_used = timed(action)
                except (RuntimeError, subprocess.CalledProcessError, OSError) as error:
                    errors[name] = str(error)
                    continue
                if round_number > 0:
                    samples[name].append(seconds)
                    cpu[name].append(cpu_used)
        if args.profile and in_process is not None and "shipdeck_inprocess" not in errors:
            profile_in_process(in_process, args.profile)
    finally:
        if in_process is not None:
            in_process.close()
    report: dict[str, Any] = {
        "tasks": tasks,
        "layers": args.layers,
        "width": args.width,
        "jobs": args.jobs,
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "target_ratio": TARGET_RATIO,
        "errors": errors,
        "seconds": {name: summarize(s) for name, s in samples.items() if s},
        "cpu_seconds": {name: statistics.median(c) for name, c in cpu.items() if c},
        "load_average": os.getloadavg(),
    }
    make = report["seconds"].get("make")
    for name in ("shipdeck_cli", "shipdeck_inprocess"):
        ours = report["seconds"].get(name)
        if make and ours:
            ours["ratio_to_make"] = ours["median"] / make["median"]
            ours["overhead_ms_per_task"] = (ours["median"] - make["median"]) / tasks * 1000
    cli, startup = (
        report["seconds"].get("shipdeck_cli"),
        report["seconds"].get("shipdeck_cli_startup"),
    )
    if make and cli and startup:
        report["cli_without_startup_ratio"] = (cli["median"] - startup["median"]) / make["median"]
    return report


def profile_in_process(in_process: InProcess, top: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    in_process.run()
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    print(text.getvalue(), file=sys.stderr)


def print_table(report: dict[str, Any]) -> None:
    load = ", ".join(f"{value:.1f}" for value in report["load_average"])
    print(
        f"engine benchmark: {report['tasks']} no-op tasks "
        f"({report['layers']} layers x {report['width']}, 2 needs each), "
        f"jobs={report['jobs']}, median of {report['repeat']}, "
        f"{report['cpus']} CPUs, load average {load}"
    )
    print()
    header = (
        f"{'runner':<22}{'median':>9}{'min':>9}{'max':>9}{'ratio':>8}"
        f"{'ms/task over make':>19}{'CPU':>9}"
    )
    print(header)
    print("-" * len(header))
    labels = {
        "make": "make -j (reference)",
        "shipdeck_cli": "shipdeck run (CLI)",
        "shipdeck_inprocess": "shipdeck in-process",
        "shipdeck_cli_startup": "CLI start-up only",
    }
    for name, label in labels.items():
        row = report["seconds"].get(name)
        if row is None:
            print(f"{label:<22}  failed: {report['errors'].get(name, 'not measured')}")
            continue
        ratio = f"{row['ratio_to_make']:.2f}" if "ratio_to_make" in row else "-"
        overhead = f"{row['overhead_ms_per_task']:.2f}" if "overhead_ms_per_task" in row else "-"
        print(
            f"{label:<22}{row['median']:>8.3f}s{row['min']:>8.3f}s{row['max']:>8.3f}s"
            f"{ratio:>8}{overhead:>19}{report['cpu_seconds'][name]:>8.3f}s"
        )
    print()
    for name, label in (("shipdeck_cli", "shipdeck CLI"), ("shipdeck_inprocess", "in-process")):
        row = report["seconds"].get(name, {})
        if "ratio_to_make" in row:
            verdict = "met" if row["ratio_to_make"] <= report["target_ratio"] else "MISSED"
            print(
                f"target {label} / make <= {report['target_ratio']:.1f}: {verdict} "
                f"({row['ratio_to_make']:.2f})"
            )
    if "cli_without_startup_ratio" in report:
        print(
            "shipdeck CLI minus its start-up cost / make: "
            f"{report['cli_without_startup_ratio']:.2f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="measured runs of each (5)")
    parser.add_argument("--jobs", type=int, default=2, help="parallelism for both (2)")
    parser.add_argument("--layers", type=int, default=LAYERS, help=f"DAG depth ({LAYERS})")
    parser.add_argument("--width", type=int, default=WIDTH, help=f"tasks per layer ({WIDTH})")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="cProfile one in-process run"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspace")
    args = parser.parse_args()
    if shutil.which("make") is None:
        print("note: make is not installed; only shipdeck is measured", file=sys.stderr)
    root = Path(tempfile.mkdtemp(prefix="shipdeck-bench-"))
    try:
        report = measure(args, root)
    finally:
        # The CLI rows attach to (and so start) the workspace's runner daemon: stop it.
        subprocess.run(
            [sys.executable, "-m", "shipdeck", "-C", str(root), "serve", "--stop"],
            capture_output=True,
            check=False,
        )
        if args.keep:
            print(f"workspace kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
