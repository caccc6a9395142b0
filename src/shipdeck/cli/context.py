"""What every command handler gets: the parsed global options, the workspace, and a runner."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from shipdeck.model import WorkspaceSpec
from shipdeck.runners.protocol import Runner


class CliContext:
    def __init__(self, args: argparse.Namespace, out: TextIO | None = None) -> None:
        self.args = args
        self.out = out if out is not None else sys.stdout
        self._workspace: WorkspaceSpec | None = None
        self._runner: Runner | None = None

    @property
    def directory(self) -> Path:
        given: str | None = getattr(self.args, "directory", None)
        return Path(given) if given else Path.cwd()

    def workspace(self) -> WorkspaceSpec:
        """The workspace of -C DIR, or found by walking up from the current directory."""
        if self._workspace is None:
            from shipdeck.workspace import find_workspace, load_workspace

            self._workspace = load_workspace(find_workspace(self.directory))
        return self._workspace

    @property
    def runner_spec(self) -> str | None:
        """The global `--runner NAME|URL`, if given."""
        spec: str | None = getattr(self.args, "runner", None)
        return spec

    async def runner(self, *, lazily: bool = False) -> Runner:
        """`--runner` if given, else the workspace's runner daemon (started on demand;
        `lazily`: by the first request, see `attach_lazily`)."""
        if self._runner is None:
            from shipdeck.runners.connect import connect

            workspace = None if self.runner_spec else self.workspace()
            self._runner = await connect(workspace, self.runner_spec, lazily=lazily)
        return self._runner

    @property
    def current_runner(self) -> Runner | None:
        """The runner `runner()` opened, if any (closed by `close()`)."""
        return self._runner

    @property
    def runs_in_process(self) -> bool:
        """True when pipelines execute inside this command (they end when it ends)."""
        from shipdeck.runners.local import LocalRunner

        return isinstance(self._runner, LocalRunner)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.close()
            self._runner = None

    def print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)
