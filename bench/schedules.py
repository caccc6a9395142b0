"""Scheduler overhead with 1,000 schedules and triggers, against references measured here.

A workspace of N pipelines (a quarter each: cron `schedule` in one of four time zones,
`every`, `on_success` after one of the others, `on_change` on one data file) and a workspace
of one pipeline with one `every` (the reference). Interleaved and repeated, it times:

- an idle look (`Scheduler.tick()` when nothing is due): what the runner pays once a second,
  as a share of one CPU, and as a ratio to the one-trigger workspace's look;
- a look that fires one slot (the run's start and its fire record in one transaction)
  against `Engine.start_run` of the same pipeline (reference: a run started by hand);
- `schedules()` (the list `shipdeck schedules` prints) for all N;
- loading the workspace file with the N triggers against the same file without them
  (validating cron expressions and time zones).

It measures, it does not judge.
    python bench/schedules.py [--count 1000] [--repeat 20] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from shipdeck.model import Run
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.workspace import load_workspace

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo")


def workspace_text(count: int, triggers: bool = True) -> str:
    parts = []
    for i in range(count):
        kind = i % 4
        lines = [f"[pipelines.p{i}]"]
        if triggers:
            if kind == 0:
                zone = ZONES[(i // 4) % len(ZONES)]
                lines += [f'schedule = "{i % 60} {i % 24} * * 1-5"', f'timezone = "{zone}"']
            elif kind == 1:
                lines.append(f'every = "{3600 + 7 * i}s"')  # slots that rarely coincide
            elif kind == 2:
                lines.append(f'on_success = ["p{i - 1}"]')
            else:
                lines.append(f'on_change = ["data/f{i}.csv"]')
        lines += [f"[pipelines.p{i}.tasks.t]", 'run = "true"', ""]
        parts.append("\n".join(lines))
    return "\n".join(parts)


class Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0  # a Sunday, 15:06 UTC: nothing of the above is due

    def __call__(self) -> float:
        return self.now


def write_workspace(root: Path, text: str, count: int) -> None:
    root.mkdir(parents=True)
    (root / "data").mkdir()
    for i in range(3, count, 4):
        (root / "data" / f"f{i}.csv").write_text(f"a\n{i}\n")
    (root / "shipdeck.toml").write_text(text)


async def open_workspace(root: Path, text: str, count: int) -> tuple[LocalRunner, Any, Clock]:
    write_workspace(root, text, count)
    runner = await open_local_runner(load_workspace(root), user="bench@host")
    clock = Clock()
    scheduler = runner.start_scheduling(clock=clock)
    await scheduler.tick()  # arms every trigger (the on_change ones hash their files)
    return runner, scheduler, clock


async def timed(work: Any) -> float:
    started = time.perf_counter()
    await work()
    return time.perf_counter() - started


async def measure(count: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="shipdeck-bench-") as tmp:
        base = Path(tmp)
        big, big_scheduler, big_clock = await open_workspace(
            base / "big", workspace_text(count), count
        )
        one, one_scheduler, one_clock = await open_workspace(
            base / "one", workspace_text(4).split("[pipelines.p2]")[0], 0
        )
        rows: dict[str, list[float]] = {
            "idle look, 1 trigger (reference)": [],
            f"idle look, {count:,} triggers": [],
            "start_run by hand (reference)": [],
            f"a look that fires one slot, {count:,} triggers": [],
            f"schedules() listing {count:,}": [],
            f"load shipdeck.toml, {count:,} pipelines without triggers (reference)": [],
            f"load shipdeck.toml, {count:,} pipelines with triggers": [],
        }
        names = list(rows)
        plain_file = base / "plain.toml"
        plain_file.write_text(workspace_text(count, triggers=False))
        # Idle looks first, with no run in flight (runs' processes would time-share the loop).
        for _ in range(repeat):
            for clock in (big_clock, one_clock):
                clock.now += 1
            rows[names[0]].append(await timed(one_scheduler.tick))
            rows[names[1]].append(await timed(big_scheduler.tick))
        every = next(t for t in _triggers(big) if t.name == "p1.every")
        for _ in range(repeat):
            by_hand: list[Run] = []

            async def start() -> None:
                by_hand.append(await big.start_run("p1"))  # noqa: B023

            rows[names[2]].append(await timed(start))
            await big.wait_run(by_hand[0].id)
            # To just before p1's next slot (what else is due by then fires, untimed, and the
            # runs their successes start), then to the slot: the timed look fires p1 alone.
            slot = big_scheduler._rule(every).next_after(big_clock.now)
            big_clock.now = slot - 1
            while settling := await big_scheduler.tick():  # and what their successes start
                for run in settling:
                    await big.wait_run(run.id)
            big_clock.now = slot
            fired: list[Run] = []

            async def fire() -> None:
                fired.extend(await big_scheduler.tick())  # noqa: B023

            took = await timed(fire)
            assert "p1" in [run.pipeline for run in fired], "p1 did not fire"
            if len(fired) == 1:  # another trigger's slot in the same second: not this sample
                rows[names[3]].append(took)
            for run in fired:
                await big.wait_run(run.id)
            for run in await big_scheduler.tick():  # p2, after p1 succeeded: not timed
                await big.wait_run(run.id)
        for _ in range(repeat):
            rows[names[4]].append(await timed(big.schedules))

            async def load_plain() -> None:
                load_workspace(plain_file)

            async def load_big() -> None:
                load_workspace(base / "big" / "shipdeck.toml")

            rows[names[5]].append(await timed(load_plain))
            rows[names[6]].append(await timed(load_big))
        await big.close()
        await one.close()
    medians = {name: statistics.median(values) for name, values in rows.items()}
    return {
        "count": count,
        "repeat": repeat,
        "rows": {
            name: {"median": medians[name], "min": min(values)} for name, values in rows.items()
        },
        "idle_ratio": medians[names[1]] / medians[names[0]],
        "idle_cpu_share": medians[names[1]] / 1.0,
        "fire_ratio": medians[names[3]] / medians[names[2]],
        "fire_extra": medians[names[3]] - medians[names[1]],
        "load_ratio": medians[names[6]] / medians[names[5]],
    }


def _triggers(runner: LocalRunner) -> list[Any]:
    from shipdeck.engine.automation.schedules import triggers_of

    return triggers_of(runner.workspace)


def show(result: dict[str, Any]) -> str:
    lines = [
        f"scheduler with {result['count']:,} schedules and triggers, {result['repeat']} repeats",
        f"{'':62}{'median':>10}{'min':>10}",
    ]
    for name, figures in result["rows"].items():
        lines.append(f"{name:62}{_ms(figures['median']):>10}{_ms(figures['min']):>10}")
    lines += [
        f"idle look: {result['idle_ratio']:.1f}x the one-trigger look;"
        f" {result['idle_cpu_share'] * 100:.2f}% of one CPU at one look a second",
        f"a look that fires: {result['fire_ratio']:.1f}x start_run by hand; the fire adds"
        f" {_ms(result['fire_extra'])} to an idle look (start_run by hand:"
        f" {_ms(result['rows'][list(result['rows'])[2]]['median'])})",
        f"loading: {result['load_ratio']:.2f}x the same file without triggers",
    ]
    return "\n".join(lines)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(measure(args.count, args.repeat))
    print(json.dumps(result, indent=2) if args.json else show(result))


if __name__ == "__main__":
    main()
