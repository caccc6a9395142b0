"""What every command handler gets: the parsed global options, the workspace, and a runner."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from shipdeck.errors import WorkspaceError
from shipdeck.model import WorkspaceSpec
from shipdeck.model.capabilities import Capability
from shipdeck.runners.protocol import Runner


@dataclass(eq=False)
class CliContext:
    args: argparse.Namespace
    out: TextIO = field(default_factory=lambda: sys.stdout)
    _file: Path | None = field(default=None, init=False)
    _workspace: WorkspaceSpec | None = field(default=None, init=False)
    _runner: Runner | None = field(default=None, init=False)
    _in_process: bool = field(default=False, init=False)

    @property
    def directory(self) -> Path:
        given: str | None = getattr(self.args, "directory", None)
        return Path(given) if given else Path.cwd()

    def workspace_file(self) -> Path:
        """The shipdeck.toml of -C DIR, or the nearest one up from the current directory."""
        if self._file is None:
            from shipdeck.workspace import find_workspace

            self._file = find_workspace(self.directory)
        return self._file

    def workspace(self) -> WorkspaceSpec:
        """The workspace of -C DIR, or found by walking up from the current directory."""
        if self._workspace is None:
            from shipdeck.workspace import load_workspace

            self._workspace = load_workspace(self.workspace_file())
        return self._workspace

    def workspace_place(self) -> WorkspaceSpec:
        """Where the workspace is, without loading its file (see `workspace_place`): for
        reaching or stopping its daemon, whatever state the file is in."""
        from shipdeck.workspace import workspace_place

        return workspace_place(self.workspace_file())

    @property
    def runner_specs(self) -> list[str]:
        """Every `--runner NAME|URL` given, in order."""
        specs: list[str] | str | None = getattr(self.args, "runner", None)
        if specs is None:
            return []
        return [specs] if isinstance(specs, str) else list(specs)

    @property
    def runner_spec(self) -> str | None:
        """The global `--runner NAME|URL`, if given; commands other than the TUI take one."""
        specs = self.runner_specs
        if len(specs) > 1:
            from shipdeck.errors import InvalidInput

            raise InvalidInput(
                f"--runner is given {len(specs)} times; only the TUI (shipdeck with no command)"
                " opens several runners"
            )
        return specs[0] if specs else None

    @property
    def needs_file(self) -> bool:
        """False for commands that read, cancel or stop but start nothing (their parser says
        `needs_file=False`): they work through the daemon's configuration, not the file's."""
        return bool(getattr(self.args, "needs_file", True))

    async def runner(self, *, lazily: bool = False) -> Runner:
        """`--runner` if given, else the workspace's runner daemon (started on demand;
        `lazily`: by the first request, see `attach_lazily`).

        A workspace file that does not load is reported, unless the command does not need the
        file and the daemon is running: it keeps the configuration it loaded before, so runs
        can still be listed, followed and cancelled while someone fixes the file."""
        if self._runner is None:
            self._runner = await self._open_runner(lazily)
            # A command's actions are refused here; the TUI hides and refuses them itself.
            command = getattr(self.args, "handler", None) is not None
            if command and getattr(self.args, "tui_read_only", False):
                from shipdeck.runners.read_only import ReadOnlyRunner

                self._runner = ReadOnlyRunner(self._runner)
        return self._runner

    async def _open_runner(self, lazily: bool) -> Runner:
        from shipdeck.runners.connect import connect, in_process

        if self.runner_spec:
            return await connect(None, self.runner_spec)
        try:
            workspace = self.workspace()
        except WorkspaceError as problems:
            if not self.needs_file:
                return await self.running_daemon(problems)
            raise
        runner = await connect(workspace, None, lazily=lazily)
        self._in_process = in_process()
        return runner

    async def runner_that(self, *needs: Capability) -> Runner:
        """`runner()`, refusing in one line (Unsupported, exit 2) when it cannot do one of
        `needs` at all. What a read-only runner refuses, it refuses itself (Refused)."""
        runner = await self.runner()
        if needs:
            declared = await runner.capabilities()
            for need in needs:
                if need not in declared.can:
                    from shipdeck.errors import Unsupported

                    raise Unsupported(declared.why_not(need, runner.name))
        return runner

    async def running_daemon(self, problems: WorkspaceError) -> Runner:
        """The daemon of a workspace whose file does not load, if it is running; else (and
        with no file at all, or in process) `problems` is raised: nothing starts on it."""
        from shipdeck.errors import Unavailable
        from shipdeck.runners.connect import in_process
        from shipdeck.runners.daemon import attach

        if in_process():
            raise problems
        try:
            place = self.workspace_place()
        except WorkspaceError:
            raise problems from None
        try:
            return await attach(place, start=False)
        except Unavailable:
            raise problems from None

    def warn_if_file_broken(self) -> None:
        """One line on stderr while the workspace file does not load: its runner keeps firing
        schedules and checks with the last file that did, and edits have no effect yet.
        (Over `--runner`, the file here is not the runner's: its /v1/health says it.)"""
        if self.runner_specs:
            return
        try:
            self.workspace()
        except WorkspaceError as error:
            problems = error.problems
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            print(
                f"shipdeck: warning: {problems[0]}{more}: the workspace file does not load;"
                " schedules, monitor and health checks keep running on the last good file",
                file=sys.stderr,
                flush=True,
            )

    @property
    def current_runner(self) -> Runner | None:
        """The runner `runner()` opened, if any (closed by `close()`)."""
        return self._runner

    @property
    def runs_in_process(self) -> bool:
        """True when pipelines execute inside this command (they end when it ends): the
        workspace's runner opened in process (SHIPDECK_IN_PROCESS=1), not a daemon's client."""
        return self._runner is not None and self._in_process

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.close()
            self._runner = None

    def print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)
