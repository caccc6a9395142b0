"""Entry point: `shipdeck` and `python -m shipdeck`."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import NoReturn

from shipdeck import __version__, startup
from shipdeck.cli.context import CliContext
from shipdeck.errors import ShipdeckError, WorkspaceError

COMMAND_MODULES = [
    "runs",
    "validate",
    "demo",
    "serve",
    "runner_cmd",
    "deploy",
    "models",
    "drift",
    "schedules",
]

Handler = Callable[[argparse.Namespace, CliContext], Awaitable[int]]


class Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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
    parser.add_argument(
        "-C",
        dest="directory",
        metavar="DIR",
        help="use the workspace in DIR instead of searching upwards from the current directory",
    )
    parser.add_argument(
        "--runner",
        metavar="NAME|URL",
        action="append",
        help="send the command to this runner (a name from the config file, or a URL); "
        "the TUI takes it more than once",
    )
    parser.add_argument(
        "--read-only",
        dest="tui_read_only",
        action="store_true",
        help="TUI: hide and refuse every action (rerun, cancel, promote, roll back, ...)",
    )
    parser.add_argument("--theme", metavar="NAME", help="TUI: colour theme (see docs/tui.md)")
    return parser


def build_parser() -> Parser:
    parser = _global_parser()
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"shipdeck.cli.{name}")
        module.register(sub)
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


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
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
