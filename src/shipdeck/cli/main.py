"""Entry point: `shipdeck` and `python -m shipdeck`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from shipdeck import __version__, startup
from shipdeck.cli.arguments import Handler
from shipdeck.cli.context import CliContext
from shipdeck.errors import InvalidInput, ShipdeckError, WorkspaceError
from shipdeck.model.text import escaped, text_problem

COMMAND_MODULES = [
    "runs",
    "validate",
    "demo",
    "serve",
    "runner_cmd",
    "deploy",
    "models",
    "drift",
    "gc",
    "schedules",
    "monitors",
    "alerts",
]


class Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def add_subparsers(self, **kwargs: Any) -> argparse._SubParsersAction[Parser]:  # type: ignore[override]
        kwargs.setdefault("parser_class", Parser)
        commands: argparse._SubParsersAction[Parser] = super().add_subparsers(**kwargs)
        self.commands = commands
        return commands

    commands: argparse._SubParsersAction[Parser] | None = None
    """The sub-commands' parsers, once `add_subparsers` made them."""


GLOBAL_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (
        ("-C",),
        {
            "dest": "directory",
            "metavar": "DIR",
            "help": "use the workspace in DIR instead of searching upwards from the current "
            "directory",
        },
    ),
    (
        ("--runner",),
        {
            "metavar": "NAME|URL",
            "action": "append",
            "help": "send the command to this runner (a name from the config file, or a URL); "
            "the TUI takes it more than once",
        },
    ),
    (
        ("--read-only",),
        {
            "dest": "tui_read_only",
            "action": "store_true",
            "help": "refuse every action (run, rerun, cancel, promote, roll back, pause, ...);"
            " the TUI hides them",
        },
    ),
    (("--theme",), {"metavar": "NAME", "help": "TUI: colour theme (see docs/tui.md)"}),
]
"""Options every command takes, before its name or after it (`shipdeck runs -C DIR`)."""


def tui_args(words: list[str]) -> argparse.Namespace | None:
    """The options of a bare `shipdeck` (the TUI), parsed without building every command's
    parser (their modules and options cost ~50 ms of the TUI's start); None when `words`
    name a command or ask for help."""
    if "-h" in words or "--help" in words:
        return None
    parser = _global_parser()
    args, rest = parser.parse_known_args(words)
    return None if rest else args


def _global_parser() -> Parser:
    parser = Parser(
        prog="shipdeck",
        description="Operate pipelines and deployments from the terminal.",
    )
    parser.add_argument("--version", action="version", version=f"shipdeck {__version__}")
    for flags, options in GLOBAL_OPTIONS:
        parser.add_argument(*flags, **options)
    return parser


def _take_global_options(parser: Parser) -> None:
    """Let every command (and sub-command) take the global options after its name too.

    Not given there, they leave what was given before the name alone (SUPPRESS); an option a
    command defines itself (`serve --read-only`) keeps the command's meaning."""
    if parser.commands is None:
        return
    for command in parser.commands.choices.values():
        for flags, options in GLOBAL_OPTIONS:
            if str(options["help"]).startswith("TUI:"):  # taken, but not listed as the command's
                options = {**options, "help": argparse.SUPPRESS}
            with contextlib.suppress(argparse.ArgumentError):  # the command's own option
                command.add_argument(*flags, **options, default=argparse.SUPPRESS)
        _take_global_options(command)


def build_parser() -> Parser:
    parser = _global_parser()
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"shipdeck.cli.{name}")
        module.register(sub)
    _take_global_options(parser)
    return parser


_LOCATED = re.compile(r".+?:\d+: ")
"""A problem in the workspace file, `file:line: key: message` (editors jump to those)."""


def report(error: ShipdeckError) -> int:
    """The error on stderr: each located workspace problem as it is, anything else (a missing
    workspace, an unreadable file included) as `shipdeck: error: ...`."""
    problems = error.problems if isinstance(error, WorkspaceError) else [str(error)]
    for problem in problems:
        located = isinstance(error, WorkspaceError) and _LOCATED.match(problem)
        print(problem if located else f"shipdeck: error: {problem}", file=sys.stderr)
    return error.exit_code


async def dispatch(handler: Handler, args: argparse.Namespace) -> int:
    ctx = CliContext(args)
    try:
        return await handler(args, ctx)
    finally:
        await ctx.close()


LOCAL_FILE_OPTIONS = frozenset({"--token-file", "--tls-cert", "--tls-key"})
"""Options naming files only this process opens: any bytes the file system takes will do."""


def check_text(words: Sequence[str]) -> None:
    """Refuse an argument that is not text (a non-UTF-8 byte arrives as a lone surrogate):
    it would reach the runner, the store and every client's JSON. -p values are left to the
    params check that every way of starting a run shares (see coerce_param)."""
    previous = ""
    for word in words:
        problem = text_problem(word)
        option = word.partition("=")[0] if word.startswith("--") else previous
        params = option == "-p" or (word.startswith("-p") and not word.startswith("--"))
        if problem is not None and option not in LOCAL_FILE_OPTIONS and not params:
            shown = escaped(
                word.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            )
            raise InvalidInput(f"argument '{shown}' refused: {problem}")
        previous = word


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        check_text(words)
    except ShipdeckError as error:
        return report(error)
    args = tui_args(words) or build_parser().parse_args(words)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        from shipdeck.cli.tui_cmd import tui_command

        handler = tui_command  # the TUI resumes garbage collection after its first frame
    elif not getattr(args, "resumes_collection", False):
        startup.resume()
    try:
        return asyncio.run(dispatch(handler, args))
    except ShipdeckError as error:
        return report(error)
    except KeyboardInterrupt:
        print("shipdeck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
