"""The engine's success seam for the registry: a task that `registers` a model creates a new
version of it, and a successful task of a service's pipeline snapshots the service's artifact."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shipdeck.engine.deploy.registry import Registry
from shipdeck.engine.events import EventFeed
from shipdeck.engine.runs.artifacts import ArtifactRefused, store_artifact
from shipdeck.engine.runs.output import params_path
from shipdeck.model import EventKind, Run, RunDetail, TaskSpec, WorkspaceSpec


@dataclass(eq=False)
class RegistrationHook:
    """Called by the engine after each task succeeds; raising fails the task with the message."""

    workspace: WorkspaceSpec
    registry: Registry
    run_detail: Callable[[str], RunDetail]
    feed: EventFeed

    async def __call__(self, run: Run, task: TaskSpec) -> None:
        if task.registers is not None:
            self._register(run, task)
        self._snapshot_service_artifacts(run)

    def _register(self, run: Run, task: TaskSpec) -> None:
        assert task.registers is not None
        model, relative = task.registers.model, task.registers.artifact
        try:
            sha256 = store_artifact(self.workspace.state_dir, self.workspace.root, relative)
        except FileNotFoundError:
            raise RuntimeError(
                f"registers model {model!r}: artifact {relative} not found"
                " (the task must write it before it exits)"
            ) from None
        except ArtifactRefused as error:
            raise RuntimeError(f"registers model {model!r}: {error}; not stored") from None
        except OSError as error:
            raise RuntimeError(
                f"registers model {model!r}: cannot store {relative}: {error.strerror or error}"
            ) from None
        version = self.registry.register(
            model,
            run_id=run.id,
            task=task.name,
            params=run.params,
            metrics=self.run_detail(run.id).final_metrics(),
            sha256=sha256,
            now=datetime.now(UTC),
        )
        self.feed.publish(EventKind.VERSION_REGISTERED, version, run_id=run.id, task=task.name)
        if task.registers.alias is not None:
            # Recorded as a move by the run's user: a promotion policy watching the alias
            # (`challenger`) finds the version through the moves, whoever made them.
            move = self.registry.set_alias(
                model,
                task.registers.alias,
                str(version.version),
                user=run.user,
                now=datetime.now(UTC),
            )
            self.feed.publish(EventKind.ALIAS_MOVED, move, run_id=run.id, task=task.name)

    def _snapshot_service_artifacts(self, run: Run) -> None:
        """Keep each artifact a service deploys from this pipeline, as of this task's success.

        Files older than the run were built by an earlier run and are left alone; the last
        task to succeed leaves the snapshot that `r<run id>` deploys. One that resolves outside
        the workspace fails the task that left it: a deploy of it would ship that file.
        """
        services: dict[str, list[str]] = {}
        for service in self.workspace.services.values():
            if service.pipeline == run.pipeline and service.artifact:
                services.setdefault(service.artifact, []).append(service.name)
        for relative, names in sorted(services.items()):
            source = self.workspace.root / relative
            if not _built_since(source, self._began(run)):
                continue
            try:
                sha256 = store_artifact(self.workspace.state_dir, self.workspace.root, relative)
            except ArtifactRefused as error:
                raise RuntimeError(f"service {', '.join(names)}: {error}; not stored") from None
            except OSError:
                continue  # removed or unreadable meanwhile: this run built nothing to deploy
            if self.registry.run_artifact(run.id, relative) != sha256:
                self.registry.record_run_artifact(run.id, relative, sha256)

    def _began(self, run: Run) -> float:
        """When the run's tasks began, on the file system's clock: the mtime of its params
        file. File times come from the kernel's coarse clock, which lags the one datetime.now()
        reads by up to a tick, so a file a task wrote milliseconds after `created_at` could
        look older than the run (seen: a fresh build's artifact left out)."""
        try:
            return params_path(self.workspace.state_dir / "logs", run.id).stat().st_mtime
        except OSError:
            return run.created_at.timestamp()


def _built_since(path: Path, moment: float) -> bool:
    """True when `path` is a file written since `moment`, or a symlink made since then (its
    target may be old: /etc/passwd linked in by the run must be seen, and refused)."""
    try:
        link = path.lstat()
        return path.is_file() and max(link.st_mtime, path.stat().st_mtime) >= moment
    except OSError:
        return False
