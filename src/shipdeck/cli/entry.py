"""The `shipdeck` executable (and `python -m shipdeck`): the collector is paused before
anything heavy is imported, and resumed once the process is ready (see shipdeck.startup)."""

from __future__ import annotations

from shipdeck import startup


def main() -> int:
    startup.pause()
    from shipdeck.cli.main import main as run

    return run()
