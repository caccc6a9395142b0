"""Writes history-v6.db beside this file: a run history as shipdeck wrote it before every part
kept its schema version in the meta table (runs at `PRAGMA user_version` 6, ledger and
schedules at 1), with rows in every table, through the stores' own methods.

Run it with that shipdeck's sources (commit d923298) first on the path:
    git archive d923298 src | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old/src .venv/bin/python tests/engine/data/make_history_v6.py
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from shipdeck.engine.automation.schedule_store import Fire, ScheduleStore
from shipdeck.engine.deploy.deploy_store import ActionRecord, DeployStore
from shipdeck.engine.deploy.ledger import Ledger
from shipdeck.engine.deploy.registry import Registry
from shipdeck.engine.runs.inputs import DigestCache, FileState
from shipdeck.engine.runs.store import OutputCursor, Store, TaskRow
from shipdeck.model import (
    DeployAction,
    GateResult,
    Metric,
    Outcome,
    Run,
    RunCause,
    RunStatus,
    TaskRun,
    TaskStatus,
    TriggerKind,
)
from shipdeck.model.lineage import CodeVersion, InputFile

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
OUT = Path(__file__).resolve().parent / "history-v6.db"


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0.timestamp() + seconds, UTC)


def record_fire(db: sqlite3.Connection, run_id: int, *, fire: Fire) -> None:
    ScheduleStore.record(db, fire, run_id)


def write(path: Path) -> None:
    store = Store(path)
    store.reserve_seq_block(1000)
    schedules = ScheduleStore(path)
    schedules.arm("train.every", "every 3600", T0.timestamp(), T0.timestamp())
    for number in range(1, 4):
        run = Run(
            id=0,
            pipeline="train",
            status=RunStatus.SUCCEEDED if number != 2 else RunStatus.FAILED,
            params={"lr": 0.1 * number, "tag": f"t{number}"},
            trigger="schedule" if number == 3 else "cli",
            user="ops@host",
            created_at=at(number * 600),
            started_at=at(number * 600 + 1),
            finished_at=at(number * 600 + 90),
            tasks_total=2,
            tasks_done=2,
            cause=RunCause(kind=TriggerKind.EVERY, schedule="train.every", due_at=at(1800))
            if number == 3
            else None,
        )
        tasks = [
            TaskRow(
                TaskRun(
                    run_id=0,
                    name=name,
                    status=TaskStatus.SUCCEEDED,
                    attempts=1,
                    exit_code=0,
                    started_at=at(number * 600 + 1),
                    finished_at=at(number * 600 + 60),
                    needs=[] if name == "prepare" else ["prepare"],
                ),
                position,
            )
            for position, name in enumerate(("prepare", "fit"))
        ]
        if number == 3:
            fire = Fire("train.every", "2026-11-02T09:30", "train", at(1800).timestamp(), 1800.0)
            run_id = store.insert_run(run, "owner-1", tasks, claim=partial(record_fire, fire=fire))
        else:
            run_id = store.insert_run(run, "owner-1", tasks)
        store.write(
            metrics=[
                Metric(
                    run_id=run_id,
                    task="fit",
                    key="auc",
                    value=0.8 + number / 100,
                    step=s,
                    ts=at(number * 600 + 30 + s),
                )
                for s in range(3)
            ],
            outputs=[OutputCursor(run_id, "fit", 120, 4, 64, 3)],
        )
        store.record_code(
            run_id,
            CodeVersion(
                commit="ab" * 20,
                short="abababa",
                branch="main",
                dirty=number == 2,
                changed_files=number - 1,
            ),
        )
        store.record_inputs(
            run_id,
            [
                InputFile(
                    task="prepare", path="data/train.csv", sha256="cd" * 32, size=2048, mtime=at(0)
                )
            ],
        )
    schedules.pause("train.every", "ops@host", at(2000).timestamp(), "holiday")
    schedules.resume("train.every", "ops@host", at(2100).timestamp(), "back", ["train.every"])
    schedules.arm("train.every", "every 3600", at(2100).timestamp(), at(2100).timestamp())
    schedules.arm(
        "ingest.on_change", "data/*.csv", at(2100).timestamp(), 0.0, {"data/train.csv": "cd" * 32}
    )
    schedules.pause("ingest", "ops@host", at(2200).timestamp(), "source down")
    schedules.close()
    digests = DigestCache(path)
    digests.remember("data/train.csv", FileState(2048, 1, 2, "3:4"), "cd" * 32)
    digests.close()

    ledger = Ledger(path)
    registry = Registry(ledger)
    registry.register(
        "churn",
        run_id=1,
        task="fit",
        params={"lr": 0.1},
        metrics={"auc": 0.81},
        sha256="ef" * 32,
        now=at(700),
    )
    registry.register(
        "churn",
        run_id=3,
        task="fit",
        params={"lr": 0.3},
        metrics={"auc": 0.83},
        sha256="01" * 32,
        now=at(1900),
    )
    registry.set_alias("churn", "champion", "v2", user="ops@host", now=at(1950))
    registry.record_run_artifact(3, "out/model.json", "01" * 32)
    deploys = DeployStore(ledger)
    record = ActionRecord(
        service="churn",
        env="staging",
        action=DeployAction.DEPLOY,
        from_revision=None,
        to_revision="v2",
        user="ops@host",
        reason="first deploy",
        gates=[GateResult(gate="metric:auc >= 0.8", passed=True, reason="auc 0.83 >= 0.8")],
        forced=False,
    )
    entry = deploys.claim(
        record, expect=None, owner="owner-1", owner_alive=lambda _: True, now=at(2000)
    )
    deploys.attach_run(entry.id, 3)
    deploys.finish(entry, Outcome.SUCCEEDED, "", health="healthy", now=at(2050))
    promote = ActionRecord(
        service="churn",
        env="prod",
        action=DeployAction.PROMOTE,
        from_revision=None,
        to_revision="v2",
        user="ops@host",
        reason="in flight",
        gates=[],
        forced=False,
    )
    deploys.claim(promote, expect=None, owner="owner-1", owner_alive=lambda _: True, now=at(2060))
    ledger.close()
    store.close()


def main() -> None:
    OUT.unlink(missing_ok=True)
    write(OUT)
    with sqlite3.connect(OUT) as db:  # one self-contained file: no -wal beside it
        db.execute("PRAGMA journal_mode = DELETE")
        db.execute("PRAGMA page_size = 512")  # a small file to keep in git
        db.execute("VACUUM")
    print(OUT, OUT.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
