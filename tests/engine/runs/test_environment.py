"""What a task sees: environment, params (never spliced into the command), cwd."""

from __future__ import annotations

import json
from pathlib import Path

from shipdeck.model import RunStatus
from tests.engine.conftest import Engines, log_texts, task, workspace


async def test_param_values_are_never_interpolated(tmp_path: Path, engines: Engines) -> None:
    hostile = "$(touch pwned); echo x `touch pwned2` && touch pwned3"
    spec = workspace(
        tmp_path,
        task("a", 'printf "%s" "$SHIPDECK_PARAM_MSG" > received.txt'),
        params={"msg": "hello"},
    )
    engine = engines.open(spec)
    run = await engine.wait_run(engine.start_run("p", {"msg": hostile}).id)
    assert run.status == RunStatus.SUCCEEDED
    assert (tmp_path / "received.txt").read_text() == hostile
    assert not any((tmp_path / name).exists() for name in ("pwned", "pwned2", "pwned3"))


async def test_task_environment(tmp_path: Path, engines: Engines) -> None:
    show = (
        "echo run=$SHIPDECK_RUN_ID pipeline=$SHIPDECK_PIPELINE task=$SHIPDECK_TASK"
        " attempt=$SHIPDECK_ATTEMPT ws=$SHIPDECK_WORKSPACE own=$OWN"
        " lr=$SHIPDECK_PARAM_LEARNING_RATE fast=$SHIPDECK_PARAM_FAST_MODE"
        ' epochs=$SHIPDECK_PARAM_EPOCHS; cat "$SHIPDECK_PARAMS"; echo "$SHIPDECK_METRICS"'
    )
    spec = workspace(
        tmp_path,
        task("show", show, env={"OWN": "mine", "SHIPDECK_TASK": "spoofed"}),
        name="train",
        params={"learning-rate": 0.1, "fast.mode": True, "epochs": 3},
    )
    engine = engines.open(spec)
    run = await engine.wait_run(engine.start_run("train", dict(spec.pipelines["train"].params)).id)
    lines = log_texts(engine, run.id, "show")
    assert lines[0] == (
        f"run={run.id} pipeline=train task=show attempt=1 ws={tmp_path} own=mine"
        " lr=0.1 fast=true epochs=3"
    )
    params = json.loads("\n".join(lines[1:-1]))
    assert params == {"learning-rate": 0.1, "fast.mode": True, "epochs": 3}
    metrics_file = Path(lines[-1])
    assert metrics_file.parent.parent == tmp_path / ".shipdeck" / "logs"
    assert metrics_file.name == "show.metrics.jsonl"


async def test_output_lines_keep_order_streams_and_odd_bytes(
    tmp_path: Path, engines: Engines
) -> None:
    command = (
        "echo out1; echo err1 >&2; printf 'bad \\377 byte\\n'; printf 'crlf\\r\\n';"
        " printf 'no newline at end'"
    )
    engine = engines.open(workspace(tmp_path, task("a", command)))
    run = await engine.wait_run(engine.start_run("p", {}).id)
    lines = engine.read_log(run.id, "a").lines
    by_stream = {(line.stream.value, line.text) for line in lines}
    assert by_stream == {
        ("out", "out1"),
        ("err", "err1"),
        ("out", "bad \ufffd byte"),
        ("out", "crlf"),
        ("out", "no newline at end"),
    }
    assert [line.n for line in lines] == list(range(5))


async def test_a_very_long_line_is_kept(tmp_path: Path, engines: Engines) -> None:
    command = "python3 -c \"print('x' * 300000); print('end')\""
    engine = engines.open(workspace(tmp_path, task("a", command)))
    run = await engine.wait_run(engine.start_run("p", {}).id)
    assert run.status == RunStatus.SUCCEEDED
    assert [len(text) for text in log_texts(engine, run.id, "a")] == [300000, 3]


async def test_writing_to_dev_stderr_keeps_what_was_written_before(
    tmp_path: Path, engines: Engines
) -> None:
    # A common idiom reopens the task's own stderr: on a pipe that appends, on a plain file it
    # would truncate what was captured so far.
    command = "echo one >&2; echo two > /dev/stderr; echo three > /dev/stdout; echo four"
    engine = engines.open(workspace(tmp_path, task("a", command)))
    run = await engine.wait_run(engine.start_run("p", {}).id)
    assert sorted(log_texts(engine, run.id, "a")) == ["four", "one", "three", "two"]
