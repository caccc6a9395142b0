"""What the commands' parsers share: adding a command with its handler, and the options
several commands take in the same form."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from shipdeck.cli.context import CliContext

Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What `register(sub)` adds its commands to (and a command its actions)."""

Handler = Callable[[argparse.Namespace, "CliContext"], Awaitable[int]]


def add_command(
    sub: Subcommands,
    name: str,
    handler: Handler,
    *,
    needs_file: bool = True,
    **parser_options: Any,
) -> argparse.ArgumentParser:
    """The parser of command (or action) `name`, which `handler` runs. `needs_file=False`
    for one that reads, cancels or stops but starts nothing: it works through the daemon
    while the workspace file does not load (see `CliContext.needs_file`). `parser_options`
    go to argparse (help, description, usage)."""
    parser = sub.add_parser(name, **parser_options)
    parser.set_defaults(handler=handler, needs_file=needs_file)
    return parser


def add_json_option(parser: argparse._ActionsContainer, help: str | None = None) -> None:
    """`--json`: the command prints its result as JSON instead of text."""
    parser.add_argument("--json", action="store_true", help=help)
