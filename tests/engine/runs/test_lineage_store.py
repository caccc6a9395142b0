"""Lineage in the run history: it survives a killed owner, a kill never leaves a wrong digest
behind (in a run or in the cache), and a store from before lineage is upgraded in place."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import random
import signal
import sqlite3
import time
from pathlib import Path

from shipdeck.engine.runs.inputs import DigestCache, FileState
from shipdeck.engine.runs.store import SCHEMA_VERSION, Store
from shipdeck.model import RunStatus, TaskStatus
from tests.engine.conftest import Engines, Owner, eventually, start_owner, task, workspace
from tests.engine.legacy_store import mark_legacy, runs_version
from tests.git_repo import GitRepo

HOUR_AGO = time.time() - 3600


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_lineage_recorded_before_the_owner_was_killed_is_kept(
    tmp_path: Path, engines: Engines, owners: list[Owner]
) -> None:
    repo = GitRepo.init(tmp_path / "ws")
    data = repo.root / "train.csv"
    data.write_text("a,b\n")
    head = repo.commit()
    spec = workspace(repo.root, task("train", "touch started; sleep 30", inputs=("train.csv",)))
    owner = await start_owner(spec, owners)
    await eventually(lambda: (repo.root / "started").exists())
    owner.process.send_signal(signal.SIGKILL)
    await owner.process.wait()

    engine = engines.open(spec)
    detail = engine.run_detail(owner.run_id)
    assert detail.run.status == RunStatus.INTERRUPTED
    assert detail.tasks[0].status == TaskStatus.INTERRUPTED
    assert detail.lineage.code is not None and detail.lineage.code.commit == head
    assert [(i.path, i.sha256) for i in detail.lineage.inputs] == [("train.csv", digest(data))]


async def test_a_kill_at_any_moment_never_leaves_a_wrong_digest(
    tmp_path: Path, engines: Engines, owners: list[Owner]
) -> None:
    """Kill the owner at random moments while it hashes, change the files, and check that
    every digest recorded (in runs and in the cache) is the digest of what the file holds."""
    root = tmp_path / "ws"
    root.mkdir()
    files = [root / f"part{i}.bin" for i in range(4)]
    spec = workspace(root, task("train", "true", inputs=("part*.bin",)))
    rng = random.Random(14)
    kept = 0
    for round_ in range(8):
        expected: dict[str, str] = {}
        for path in files:
            # Sparse: tens of MiB to hash (about a tenth of a second each), nothing on disk.
            header, size = rng.randbytes(64), rng.randint(8, 64) << 20
            with path.open("wb") as handle:
                handle.write(header)
                handle.truncate(size)
            os.utime(path, (HOUR_AGO, HOUR_AGO))
            expected[path.name] = hashlib.sha256(header + bytes(size - 64)).hexdigest()
        owner = await start_owner(spec, owners)
        await asyncio.sleep(rng.uniform(0.0, 0.5))
        with contextlib.suppress(ProcessLookupError):  # it may have finished already
            owner.process.send_signal(signal.SIGKILL)
        await owner.process.wait()
        engine = engines.open(spec)
        recorded = engine.run_detail(owner.run_id).lineage.inputs
        kept += bool(recorded)
        assert all(item.sha256 == expected[item.path] for item in recorded), round_
        assert len(recorded) in (0, len(files))  # one transaction: all or nothing
        # A cache row of an earlier round stays (its key no longer matches); one whose key
        # matches the file as it is now must hold the file's digest.
        for path in files:
            state = FileState.of(path.stat())
            answer = DigestCache(root / ".shipdeck" / "shipdeck.db")
            try:
                cached = answer.lookup(path.name, state)
            finally:
                answer.close()
            assert cached in (None, expected[path.name]), round_
        await engine.close()
    print(f"runs whose digests were recorded before the process ended: {kept}/8")


def test_a_store_from_before_lineage_is_upgraded_and_its_runs_have_none(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shipdeck.db"
    store = Store(path)
    store.close()
    with sqlite3.connect(path) as db:
        for table in ("run_code", "task_inputs", "input_digests"):
            db.execute(f"DROP TABLE {table}")
        db.execute(
            "INSERT INTO runs (pipeline, status, params, trigger, user, jobs, created_at)"
            " VALUES ('p', 'succeeded', '{}', 'cli', 'me', 1, 0)"
        )
        mark_legacy(db, 2)
    store = Store(path)
    try:
        assert store.codes(["1"]) == {} and store.inputs(["1"]) == {}
        assert store.get_run("1") is not None
    finally:
        store.close()
    assert runs_version(path) == SCHEMA_VERSION
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert {"run_code", "task_inputs", "input_digests"} <= tables
