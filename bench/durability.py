"""Durability benchmark: `kill -9` the workspace daemon at random points, count what was lost.

Each trial makes a throw-away workspace whose pipeline runs TASKS tasks at once. Each task
prints numbered lines fast on stdout, a line on stderr every 50, a `::metric seq=N step=N`
line and a $SHIPDECK_METRICS JSON line every 10, and after each line appends its number to
a witness file of its own (so the witness lists only lines the task had fully written).
The daemon is started as the CLI starts it (`shipdeck serve --daemon`, through
`daemon.attach`), the run started, and the daemon killed with SIGKILL after a random delay.
Then, by turns:

- `wait`: the tasks are left to finish (they outlive the daemon), then a client starts a
  new daemon, whose crash recovery catches the store up;
- `restart`: a new daemon is started at once; its recovery kills the tasks mid-output.

Lost = lines in a witness file missing from the task's log as the runner serves it, plus
metrics (both kinds) for those lines missing from the run's metrics; duplicates are counted
too. The target is 0 of both in every trial.

    python bench/durability.py [--trials 20] [--seed N] [--lines 3000] [--json]

Prints a line per trial and the totals, and always exits 0: it measures, it does not judge.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

TASKS = 5
LINES = 3000
PAUSE = 0.1
"""Seconds each task sleeps every 100 lines, so a run lasts about 3 s: a daemon restarted at
once (it boots in about a second) finds the tasks still printing."""
KILL_WITHIN = 1.5
"""The kill comes after a delay drawn uniformly from [0, KILL_WITHIN) seconds."""

SPEW = """
import json, os, sys, time
task = os.environ["SHIPDECK_TASK"]
lines, pause = int(sys.argv[1]), float(sys.argv[2])
metrics = os.open(os.environ["SHIPDECK_METRICS"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
witness = os.open(task + ".witness", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
for i in range(lines):
    os.write(1, b"line %s %d\\n" % (task.encode(), i))
    if i % 10 == 0:
        os.write(1, b"::metric seq=%d step=%d\\n" % (i, i))
        os.write(metrics, json.dumps({"key": "json", "value": i, "step": i}).encode() + b"\\n")
    if i % 50 == 0:
        os.write(2, b"err %s %d\\n" % (task.encode(), i))
    os.write(witness, b"%d\\n" % i)
    if i % 100 == 99:
        time.sleep(pause)
"""


@dataclass
class Trial:
    mode: str
    kill_after: float
    written: int
    """Lines the tasks had fully written (their witness files), all tasks together."""
    lost_lines: int
    lost_metrics: int
    duplicates: int
    status: str
    seconds: float


def write_workspace(root: Path, lines: int, pause: float) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "spew.py").write_text(SPEW)
    toml = ["[pipelines.spew]"]
    for index in range(TASKS):
        toml += [f"[pipelines.spew.tasks.t{index}]", f'run = "python3 spew.py {lines} {pause}"']
    (root / "shipdeck.toml").write_text("\n".join(toml) + "\n")


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return True
    return stat[stat.rindex(b")") + 2 :].split()[0] in (b"Z", b"X")


def _task_processes(run_id: str, root: Path) -> int:
    """Processes still carrying the run's markers (the tasks of a dead daemon)."""
    markers = {b"SHIPDECK_RUN_ID=" + run_id.encode(), b"SHIPDECK_WORKSPACE=" + os.fsencode(root)}
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if markers <= set((entry / "environ").read_bytes().split(b"\0")):
                    count += 1
    return count


async def _wait_for(check: object, within: float) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        await asyncio.sleep(0.02)


async def trial(root: Path, *, mode: str, kill_after: float, lines: int, pause: float) -> Trial:
    """One trial in a new workspace at `root`; the daemons it starts are stopped."""
    from shipdeck.runners import daemon
    from shipdeck.workspace import load_workspace

    started = time.monotonic()
    write_workspace(root, lines, pause)
    workspace = load_workspace(root)
    try:
        client = await daemon.attach(workspace, announce=lambda _: None)
        try:
            pid = (await client.info()).pid
            run = await client.start_run("spew", jobs=TASKS)
            await asyncio.sleep(kill_after)
            os.kill(pid, signal.SIGKILL)
            await _wait_for(lambda: _gone(pid), 10)
        finally:
            await client.close()
        if mode == "wait":
            await asyncio.sleep(0.2)  # a task forked just before the kill reaches its exec
            await _wait_for(lambda: _task_processes(run.id, root) == 0, 60)
        client = await daemon.attach(workspace, announce=lambda _: None)
        try:
            final = await client.wait_run(run.id)
            counts = await _count(client, root, run.id, lines)
        finally:
            await client.close()
    finally:
        with contextlib.suppress(Exception):
            await daemon.stop(workspace)
    written, lost_lines, lost_metrics, duplicates = counts
    return Trial(
        mode=mode,
        kill_after=kill_after,
        written=written,
        lost_lines=lost_lines,
        lost_metrics=lost_metrics,
        duplicates=duplicates,
        status=final.status.value,
        seconds=time.monotonic() - started,
    )


async def _count(client: object, root: Path, run_id: str, lines: int) -> tuple[int, int, int, int]:
    from shipdeck.runners.remote import RemoteRunner

    assert isinstance(client, RemoteRunner)
    detail = await client.run(run_id)
    metrics = Counter((m.task, m.key, m.step) for m in detail.metrics)
    written = lost_lines = lost_metrics = duplicates = 0
    duplicates += sum(count - 1 for count in metrics.values())
    for index in range(TASKS):
        task = f"t{index}"
        witness = root / f"{task}.witness"
        done = [int(n) for n in witness.read_text().split()] if witness.exists() else []
        logged: Counter[str] = Counter()
        start = 0
        while True:
            chunk = await client.read_log(run_id, task, start=start, limit=10_000)
            logged.update(f"{line.stream.value} {line.text}" for line in chunk.lines)
            start = chunk.start + len(chunk.lines)
            if not chunk.lines or start >= chunk.total:
                break
        duplicates += sum(count - 1 for text, count in logged.items() if text[:3] != "sys")
        written += len(done)
        for i in done:
            wanted = [f"out line {task} {i}"]
            if i % 10 == 0:
                wanted.append(f"out ::metric seq={i} step={i}")
                lost_metrics += ((task, "seq", i) not in metrics) + (
                    (task, "json", i) not in metrics
                )
            if i % 50 == 0:
                wanted.append(f"err err {task} {i}")
            lost_lines += sum(text not in logged for text in wanted)
    return written, lost_lines, lost_metrics, duplicates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--lines", type=int, default=LINES, help=f"lines per task ({LINES})")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    base = Path(tempfile.mkdtemp(prefix="shipdeck-durability-"))
    trials: list[Trial] = []
    try:
        for number in range(args.trials):
            mode = ("wait", "restart")[number % 2]
            kill_after = round(rng.uniform(0, KILL_WITHIN), 3)
            result = asyncio.run(
                trial(
                    base / str(number),
                    mode=mode,
                    kill_after=kill_after,
                    lines=args.lines,
                    pause=PAUSE,
                )
            )
            trials.append(result)
            if not args.json:
                print(
                    f"trial {number + 1:2d} {mode:<7} kill after {kill_after:.3f}s: "
                    f"{result.written:6d} lines written, lost {result.lost_lines} lines "
                    f"{result.lost_metrics} metrics, {result.duplicates} duplicates, "
                    f"run {result.status} ({result.seconds:.1f}s)",
                    flush=True,
                )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    totals = {
        "seed": seed,
        "trials": len(trials),
        "written": sum(t.written for t in trials),
        "lost_lines": sum(t.lost_lines for t in trials),
        "lost_metrics": sum(t.lost_metrics for t in trials),
        "duplicates": sum(t.duplicates for t in trials),
        "trials_with_loss": sum(1 for t in trials if t.lost_lines or t.lost_metrics),
    }
    if args.json:
        print(json.dumps({"totals": totals, "trials": [asdict(t) for t in trials]}, indent=2))
    else:
        print(
            f"\n{totals['trials']} trials (seed {seed}): {totals['written']} lines written, "
            f"lost {totals['lost_lines']} lines and {totals['lost_metrics']} metrics "
            f"({totals['trials_with_loss']} trials with a loss), "
            f"{totals['duplicates']} duplicates"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
