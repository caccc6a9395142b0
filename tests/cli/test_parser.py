"""A bare `shipdeck` (the TUI) parses its options without building every command's parser;
anything else gets the full parser, with the same one-line errors."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from shipdeck.cli.main import build_parser, tui_args


def test_global_options_alone_open_the_tui() -> None:
    args = tui_args(["-C", "ws", "--theme", "runs", "--read-only", "--runner", "far"])
    assert args is not None
    assert (args.directory, args.theme, args.tui_read_only, args.runner) == (
        "ws",
        "runs",  # an option's value, not the command of that name
        True,
        ["far"],
    )
    assert getattr(args, "handler", None) is None
    several = tui_args(["--runner", "a", "--runner", "b"])
    assert several is not None and several.runner == ["a", "b"]
    full = build_parser().parse_args(["-C", "ws", "--theme", "runs", "--read-only"])
    assert (full.directory, full.theme, full.tui_read_only) == ("ws", "runs", True)


def test_a_command_or_help_takes_the_full_parser() -> None:
    assert tui_args(["runs"]) is None
    assert tui_args(["-C", "ws", "runs", "--limit", "1"]) is None
    assert tui_args(["--help"]) is None
    assert tui_args(["-C", "ws", "-h"]) is None
    assert tui_args(["--no-such-option"]) is None


def test_bad_global_options_are_one_line_and_exit_2() -> None:
    for words, message in (
        (["-C"], "argument -C: expected one argument"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "shipdeck", *words], capture_output=True, text=True, check=False
        )
        assert done.returncode == 2
        assert done.stderr.strip().splitlines() == [
            f"shipdeck: error: {message} (see shipdeck --help)"
        ]


def test_global_options_are_taken_after_the_command_too() -> None:
    parse = build_parser().parse_args
    assert parse(["runs", "-C", "ws"]).directory == "ws"
    assert parse(["-C", "before", "runs"]).directory == "before"  # not reset by the command
    assert parse(["-C", "before", "runs", "-C", "after"]).directory == "after"
    models = parse(["models", "-C", "ws"])
    assert (models.directory, models.name) == ("ws", None)  # not taken for a model's name
    serve = parse(["serve", "-C", "ws", "--read-only", "--listen", "127.0.0.1:0"])
    assert (serve.directory, serve.read_only) == ("ws", True)  # serve's own --read-only
    assert not hasattr(serve, "tui_read_only") or serve.tui_read_only is False
    ls = parse(["runner", "ls", "--runner", "far", "-C", "ws"])
    assert (ls.runner, ls.directory) == (["far"], "ws")
    demo = parse(["demo", "--read-only", "--theme", "shipdeck-light"])
    assert (demo.tui_read_only, demo.theme, demo.words) == (True, "shipdeck-light", [])


def test_a_command_finds_the_workspace_of_c_given_after_it(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "shipdeck.toml").write_text('[pipelines.p.tasks.t]\nrun = "true"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for words in (["runs", "-C", "../ws"], ["models", "-C", "../ws"], ["validate", "-C", "../ws"]):
        done = subprocess.run(
            [sys.executable, "-m", "shipdeck", *words],
            capture_output=True,
            text=True,
            check=False,
            cwd=elsewhere,
        )
        assert done.returncode == 0, (words, done.stderr)


def _commands(parser: argparse.ArgumentParser, path: str = "shipdeck") -> Iterator[tuple[str, str]]:
    """(`shipdeck CMD [ACTION]`, the help it is listed with) for every command and action."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield f"{path} {name}", helps[name]
                yield from _commands(sub, f"{path} {name}")


def test_every_command_and_action_is_listed_with_its_help() -> None:
    listed = dict(_commands(build_parser()))
    assert len(listed) > 30
    bare = [command for command, text in listed.items() if not text or "\n" in text]
    assert bare == []
    assert listed["shipdeck gc"] == "delete old runs, their logs and unused artifacts"
    assert listed["shipdeck alerts ack"] == "acknowledge an alert (recorded, with who)"
    assert listed["shipdeck schedules pause"] == "stop it firing (recorded, with who)"


def test_a_command_help_shows_its_description_as_one_paragraph() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shipdeck", "alerts", "--help"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    description = (
        "List the alerts monitors opened (open ones first), or acknowledge one with a note"
        " (recorded with who and when). See docs/monitoring.md."
    )
    assert description in done.stdout.splitlines()
    assert (
        "    ack              acknowledge an alert (recorded, with who)" in done.stdout.splitlines()
    )
