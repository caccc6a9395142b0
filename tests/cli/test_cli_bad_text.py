"""Arguments that are not text (a non-UTF-8 byte: argv decodes it to a lone surrogate) are
refused in one line, and a store already holding such a param is readable again."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from tests.cli.conftest import Shipdeck

NOT_UTF8 = "\udcff"  # how Python's argv holds the byte 0xff; subprocess passes the byte back


@pytest.mark.parametrize("daemon", [False, True], ids=["in-process", "daemon"])
def test_a_param_value_that_is_not_utf8_is_refused_and_nothing_runs(
    shipdeck: Shipdeck, daemon: bool
) -> None:
    client = Shipdeck(shipdeck.root, daemon=daemon)
    try:
        done = client("run", "build", "-p", f"greeting=a{NOT_UTF8}")
        assert done.returncode == 2
        errors = [line for line in done.stderr.splitlines() if "started runner" not in line]
        assert errors == [
            "shipdeck: error: pipeline 'build' param 'greeting': value refused: "
            "it is not valid UTF-8 (byte 0xff at character 2)"
        ]
        assert client.json("runs") == []
    finally:
        if daemon:
            client("serve", "--stop", "--force")


def test_other_arguments_that_are_not_utf8_are_refused_before_anything_starts(
    shipdeck: Shipdeck,
) -> None:
    for words in (
        ["runs", "--pipeline", f"b{NOT_UTF8}"],
        ["runs", f"--pipeline=b{NOT_UTF8}"],
        ["show", NOT_UTF8],
        ["compare", "1", NOT_UTF8],
    ):
        done = shipdeck(*words)
        assert done.returncode == 2, words
        lines = done.stderr.splitlines()
        assert len(lines) == 1, done.stderr
        assert "refused: it is not valid UTF-8 (byte 0xff" in lines[0]
    assert not (shipdeck.root / ".shipdeck").exists()  # no store, no daemon was needed


def test_runs_and_show_read_a_store_that_holds_such_a_param(shipdeck_daemon: Shipdeck) -> None:
    """What a `-p` with the byte 0xff left in the store (json.dumps of the surrogate) before
    params were checked; the daemon lists and shows it, the byte replaced by U+FFFD."""
    first = Shipdeck(shipdeck_daemon.root)("run", "build")  # in process: creates the store
    assert first.returncode == 0, first.stderr
    db = sqlite3.connect(shipdeck_daemon.root / ".shipdeck" / "shipdeck.db", isolation_level=None)
    try:
        run_id = db.execute(
            "INSERT INTO runs (pipeline, status, params, trigger, user, jobs, created_at,"
            " tasks_total, tasks_done) VALUES ('build', 'succeeded', ?, 'cli', 'me', 1, ?, 0, 0)",
            (json.dumps({"greeting": NOT_UTF8, "fail": False}), time.time()),
        ).lastrowid
    finally:
        db.close()

    listed = shipdeck_daemon("runs")
    assert listed.returncode == 0, listed.stderr
    assert f"#{run_id}" in listed.stdout
    shown = shipdeck_daemon("show", str(run_id))
    assert shown.returncode == 0, shown.stderr
    assert "greeting=\ufffd" in shown.stdout
    assert shipdeck_daemon.json("runs")[0]["params"]["greeting"] == "\ufffd"


def test_run_numbers_no_run_can_have_are_input_errors(shipdeck: Shipdeck) -> None:
    for ref, line in (
        ("99999999999999999999", "too large, no id goes past 9007199254740992"),
        ("#99999999999999999999", "too large, no id goes past 9007199254740992"),
        ("²", "expected a run number, #N or 'last'"),  # isdigit() says yes, int() says no
    ):
        for command in ("show", "logs", "rerun"):
            done = shipdeck(command, ref)
            assert done.returncode == 2, (command, ref, done.stderr)
            assert done.stderr.splitlines() == [f"shipdeck: error: run reference {ref!r}: {line}"]


@pytest.mark.parametrize("daemon", [False, True], ids=["in-process", "daemon"])
def test_a_param_value_with_an_escape_sequence_is_refused_and_nothing_runs(
    shipdeck: Shipdeck, daemon: bool
) -> None:
    """The run view shows params: `\\x1b]0;...\\x07\\x1b[2J` there retitled and cleared the
    terminal of every operator who opened the run."""
    client = Shipdeck(shipdeck.root, daemon=daemon)
    try:
        done = client("run", "build", "-p", "greeting=a\x1b]0;pwned\x07\x1b[2J")
        assert done.returncode == 2
        errors = [line for line in done.stderr.splitlines() if "started runner" not in line]
        assert errors == [
            "shipdeck: error: pipeline 'build' param 'greeting': value refused: it contains the"
            " control character U+001B at character 2, which would drive the terminals that"
            " show it"
        ]
        assert client.json("runs") == []
    finally:
        if daemon:
            client("serve", "--stop", "--force")


def test_an_argument_with_an_escape_sequence_is_refused_and_not_echoed(
    shipdeck: Shipdeck,
) -> None:
    done = shipdeck("runs", "--pipeline", "b\x1b[2J")
    assert done.returncode == 2
    assert "\x1b" not in done.stderr
    assert done.stderr.strip() == (
        "shipdeck: error: argument 'b\\x1b[2J' refused: it contains the control character"
        " U+001B at character 2, which would drive the terminals that show it"
    )
