"""Declared inputs: digested when the task starts, through a cache that skips unchanged files;
a missing one fails the task before it runs. Real files, real engine runs."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from pathlib import Path

from shipdeck.engine import Engine
from shipdeck.model import RerunMode, RunStatus, TaskStatus
from shipdeck.model.lineage import InputFile
from tests.engine.conftest import Engines, eventually, log_texts, task, workspace

HOUR_AGO = time.time() - 3600


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def data(root: Path, name: str, text: str, *, settled: bool = True) -> Path:
    """A data file; `settled` dates it an hour back (a file modified within seconds of being
    hashed is not cached: see engine/runs/inputs.py)."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if settled:
        os.utime(path, (HOUR_AGO, HOUR_AGO))
    return path


async def run(engine: Engine) -> int:
    done = await engine.wait_run(engine.start_run("p", {}).id)
    return done.id


def inputs(engine: Engine, run_id: str) -> list[InputFile]:
    return engine.run_detail(run_id).lineage.inputs


def summary(engine: Engine, run_id: str, name: str) -> str:
    return next(t for t in log_texts(engine, run_id, name) if t.startswith("inputs: "))


async def test_digests_of_files_and_globs_are_recorded_per_task(
    tmp_path: Path, engines: Engines
) -> None:
    train = data(tmp_path, "data/train.csv", "a,b\n1,2\n")
    part1 = data(tmp_path, "data/p1.parquet", "one")
    part2 = data(tmp_path, "data/sub/p2.parquet", "two")
    spec = workspace(
        tmp_path,
        task("prepare", "true", inputs=("data/train.csv",)),
        task("train", "true", "prepare", inputs=("data/**/*.parquet", "data/train.csv")),
    )
    engine = engines.open(spec)
    run_id = await run(engine)
    recorded = [(i.task, i.path, i.sha256, i.size) for i in inputs(engine, run_id)]
    assert recorded == [
        ("prepare", "data/train.csv", sha256(train), 8),
        ("train", "data/p1.parquet", sha256(part1), 3),
        ("train", "data/sub/p2.parquet", sha256(part2), 3),
        ("train", "data/train.csv", sha256(train), 8),
    ]
    first = inputs(engine, run_id)[0]
    assert abs(first.mtime.timestamp() - HOUR_AGO) < 1
    lineage = engine.run_detail(run_id).lineage
    assert lineage.files() == {
        "data/train.csv": sha256(train),
        "data/p1.parquet": sha256(part1),
        "data/sub/p2.parquet": sha256(part2),
    }
    assert lineage.summary().startswith("data ") and "(3 inputs)" in lineage.summary()


async def test_the_digest_is_what_the_task_found_when_it_started(
    tmp_path: Path, engines: Engines
) -> None:
    # `prepare` writes the file `train` reads: its digest is of prepare's output.
    spec = workspace(
        tmp_path,
        task("prepare", "mkdir -p data && echo fresh > data/train.csv"),
        task("train", "echo changed-after >> data/train.csv", "prepare", inputs=("data/*.csv",)),
    )
    engine = engines.open(spec)
    run_id = await run(engine)
    (recorded,) = inputs(engine, run_id)
    assert recorded.sha256 == hashlib.sha256(b"fresh\n").hexdigest()
    assert (tmp_path / "data/train.csv").read_text() == "fresh\nchanged-after\n"


async def test_a_missing_input_fails_the_task_before_it_runs(
    tmp_path: Path, engines: Engines
) -> None:
    spec = workspace(
        tmp_path,
        task("train", "touch ran", inputs=("data/train.csv",), retries=2),
        task("evaluate", "true", "train"),
    )
    engine = engines.open(spec)
    run_id = await run(engine)
    detail = engine.run_detail(run_id)
    train, evaluate = detail.tasks
    assert detail.run.status == RunStatus.FAILED
    assert train.status == TaskStatus.FAILED and train.attempts == 1 and train.exit_code is None
    assert train.reason == "input data/train.csv not found (the task declares it in inputs)"
    assert log_texts(engine, run_id, "train")[-1].endswith(train.reason)
    assert evaluate.status == TaskStatus.SKIPPED
    assert not (tmp_path / "ran").exists()
    assert detail.lineage.inputs == []


async def test_a_glob_matching_nothing_and_a_directory_fail_with_what_to_do(
    tmp_path: Path, engines: Engines
) -> None:
    (tmp_path / "data/images").mkdir(parents=True)
    spec = workspace(
        tmp_path,
        task("a", "true", inputs=("data/*.parquet",)),
        task("b", "true", inputs=("data/images",)),
    )
    engine = engines.open(spec)
    run_id = await run(engine)
    reasons = {t.name: t.reason for t in engine.run_detail(run_id).tasks}
    assert reasons == {
        "a": "input data/*.parquet: no file matches it",
        "b": "input data/images is a directory: declare the files in it, like data/images/**",
    }


async def test_an_unreadable_input_fails_the_task_naming_it(
    tmp_path: Path, engines: Engines
) -> None:
    if os.geteuid() == 0:
        # root reads any file: make it a FIFO instead, which is no regular file either.
        os.mkfifo(tmp_path / "secret.csv")
        expected = "input secret.csv is not a regular file"
    else:
        data(tmp_path, "secret.csv", "x").chmod(0)
        expected = "input secret.csv cannot be read: Permission denied"
    engine = engines.open(workspace(tmp_path, task("a", "true", inputs=("secret.csv",))))
    run_id = await run(engine)
    (only,) = engine.run_detail(run_id).tasks
    assert only.status == TaskStatus.FAILED and only.reason == expected


async def test_an_unchanged_file_is_not_read_again(tmp_path: Path, engines: Engines) -> None:
    path = data(tmp_path, "big.bin", "x" * 100_000)
    engine = engines.open(workspace(tmp_path, task("a", "true", inputs=("big.bin",))))
    first = await run(engine)
    second = await run(engine)
    assert "(1 hashed, 0 unchanged since last hashed)" in summary(engine, first, "a")
    assert "(0 hashed, 1 unchanged since last hashed)" in summary(engine, second, "a")
    assert inputs(engine, first)[0].sha256 == inputs(engine, second)[0].sha256 == sha256(path)


async def test_a_rewrite_that_keeps_size_and_mtime_is_still_seen(
    tmp_path: Path, engines: Engines
) -> None:
    # Same size, mtime put back (as `cp -p` or rsync do): the ctime gives it away.
    path = data(tmp_path, "train.csv", "aaaa")
    engine = engines.open(workspace(tmp_path, task("a", "true", inputs=("train.csv",))))
    first = await run(engine)
    path.write_text("bbbb")
    os.utime(path, (HOUR_AGO, HOUR_AGO))
    second = await run(engine)
    assert inputs(engine, first)[0].sha256 != inputs(engine, second)[0].sha256 == sha256(path)
    assert "(1 hashed" in summary(engine, second, "a")


async def test_a_replaced_file_with_the_same_size_and_times_is_seen(
    tmp_path: Path, engines: Engines
) -> None:
    path = data(tmp_path, "train.csv", "aaaa")
    engine = engines.open(workspace(tmp_path, task("a", "true", inputs=("train.csv",))))
    first = await run(engine)
    replacement = data(tmp_path, "next.csv", "cccc")
    replacement.replace(path)  # a new inode under the old name
    second = await run(engine)
    assert inputs(engine, second)[0].sha256 == sha256(path) != inputs(engine, first)[0].sha256


async def test_a_file_modified_just_now_is_hashed_again_next_time(
    tmp_path: Path, engines: Engines
) -> None:
    data(tmp_path, "fresh.csv", "1,2", settled=False)
    engine = engines.open(workspace(tmp_path, task("a", "true", inputs=("fresh.csv",))))
    await run(engine)
    second = await run(engine)
    assert "(1 hashed, 0 unchanged" in summary(engine, second, "a")


async def test_a_rerun_keeps_the_inputs_of_the_tasks_it_keeps(
    tmp_path: Path, engines: Engines
) -> None:
    data(tmp_path, "raw.csv", "raw")
    data(tmp_path, "labels.csv", "v1")
    spec = workspace(
        tmp_path,
        task("prepare", "true", inputs=("raw.csv",)),
        task("train", "true", "prepare", inputs=("labels.csv",)),
    )
    engine = engines.open(spec)
    first = await run(engine)
    labels = data(tmp_path, "labels.csv", "v2")
    rerun = await engine.wait_run(engine.rerun(first, RerunMode.FROM, from_task="train").id)
    recorded = {(i.task, i.reused_from, i.sha256) for i in inputs(engine, rerun.id)}
    assert recorded == {
        ("prepare", first, sha256(tmp_path / "raw.csv")),
        ("train", None, sha256(labels)),
    }


async def test_what_a_task_built_came_from_its_own_and_upstream_inputs_only(
    tmp_path: Path, engines: Engines
) -> None:
    for name in ("raw.csv", "labels.csv", "holdout.csv", "other.csv"):
        data(tmp_path, name, name)
    spec = workspace(
        tmp_path,
        task("prepare", "true", inputs=("raw.csv",)),
        task("side", "true", inputs=("other.csv",)),
        task("train", "true", "prepare", inputs=("labels.csv",)),
        task("report", "true", "train", inputs=("holdout.csv",)),
    )
    engine = engines.open(spec)
    run_id = await run(engine)
    built = engine.run_lineage(run_id, "train")
    assert sorted(built.files()) == ["labels.csv", "raw.csv"]
    assert sorted(engine.run_lineage(run_id).files()) == [
        "holdout.csv",
        "labels.csv",
        "other.csv",
        "raw.csv",
    ]


async def test_cancelling_while_a_large_input_is_hashed_stops_the_hashing(
    tmp_path: Path, engines: Engines
) -> None:
    big = tmp_path / "huge.bin"
    with big.open("wb") as handle:  # sparse: 64 GiB on paper, nothing on disk
        handle.truncate(64 << 30)
    os.utime(big, (HOUR_AGO, HOUR_AGO))
    engine = engines.open(workspace(tmp_path, task("a", "touch ran", inputs=("huge.bin",))))
    started = engine.start_run("p", {})

    def hashing() -> bool:
        texts = log_texts(engine, started.id, "a")
        return any(text.startswith("hashing input huge.bin") for text in texts)

    await eventually(hashing, within=20)
    cancelled = await asyncio.wait_for(engine.cancel(started.id), 30)
    (only,) = engine.run_detail(started.id).tasks
    assert cancelled.status == RunStatus.CANCELLED and only.status == TaskStatus.CANCELLED
    assert not (tmp_path / "ran").exists()
    # Stopped part-way: no digest was recorded, no summary written.
    assert engine.run_detail(started.id).lineage.inputs == []
    assert not any(t.startswith("inputs: ") for t in log_texts(engine, started.id, "a"))
