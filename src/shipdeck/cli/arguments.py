"""What the commands' parsers share: adding a command with its handler and its help, and the
options several commands take in the same form."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeAlias

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
    help: str | None = None,
    usage: str | None = None,
) -> argparse.ArgumentParser:
    """The parser of command (or action) `name`, which `handler` runs.

    The handler's docstring is the command's help: its first paragraph the line listed by
    `shipdeck --help` (or by the command's --help, for an action), the paragraphs after it
    the description its own --help shows. `help` instead, where one handler serves several
    actions. `needs_file=False` for a command that reads, cancels or stops but starts
    nothing: it works through the daemon while the workspace file does not load (see
    `CliContext.needs_file`)."""
    description = None
    if help is None:
        first, _, rest = (handler.__doc__ or "").strip().partition("\n\n")
        help, description = _one_line(first), _one_line(rest) or None
    parser = sub.add_parser(name, help=help, description=description, usage=usage)
    parser.set_defaults(handler=handler, needs_file=needs_file)
    return parser


def _one_line(text: str) -> str:
    """A docstring's paragraphs as argparse takes help text (it wraps them itself)."""
    return " ".join(text.split())


def positive_int(text: str) -> int:
    """An option's count (`--limit`, `--jobs`): 1 or more, else argparse's one-line error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_json_option(parser: argparse._ActionsContainer, help: str | None = None) -> None:
    """`--json`: the command prints its result as JSON instead of text."""
    parser.add_argument("--json", action="store_true", help=help)
