"""Pipelines as declared in the workspace file: a DAG of tasks."""

from __future__ import annotations

from pydantic import Field

from shipdeck.model.frozen import FrozenModel
from shipdeck.model.triggers import PipelineTriggers

ParamValue = str | int | float | bool


class RegisterSpec(FrozenModel):
    """A task that registers a model version when it succeeds."""

    model: str
    artifact: str
    alias: str | None = None
    """An alias the new version gets (`challenger`: its service's promotion policy looks)."""


class TaskSpec(FrozenModel):
    """One task: a shell command with its dependencies and execution policy."""

    name: str
    run: str
    needs: tuple[str, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    timeout: float | None = None
    """Seconds before the task's whole process group is killed; None means no limit."""
    retries: int = 0
    retry_delay: float = 0.0
    """Seconds to wait between a failed attempt and the next one."""
    registers: RegisterSpec | None = None
    inputs: tuple[str, ...] = ()
    """Files the task reads, relative to the workspace root (globs allowed): digested when it
    starts, so its run records the data it used."""


class PipelineSpec(FrozenModel):
    """A named DAG of tasks with parameters and their defaults."""

    name: str
    description: str = ""
    params: dict[str, ParamValue] = Field(default_factory=dict)
    concurrency: int | None = None
    """At most this many runs of the pipeline execute at once (None: no limit); later runs
    wait as queued, first started first."""
    tasks: dict[str, TaskSpec] = Field(default_factory=dict)
    """Tasks in declaration order (the workspace loader guarantees the DAG is acyclic)."""
    triggers: PipelineTriggers = Field(default_factory=PipelineTriggers)
    """What starts it by itself: a schedule, an interval, other pipelines, changed files."""

    def topological_order(self) -> list[str]:
        """Task names so that every task comes after all of its needs (stable by declaration)."""
        order: list[str] = []
        placed: set[str] = set()
        remaining = list(self.tasks)
        while remaining:
            progressed = False
            for name in list(remaining):
                if all(need in placed for need in self.tasks[name].needs):
                    order.append(name)
                    placed.add(name)
                    remaining.remove(name)
                    progressed = True
            if not progressed:
                raise ValueError(f"pipeline {self.name!r} has a dependency cycle")
        return order

    def depths(self) -> dict[str, int]:
        """Longest distance from a root for each task: the column of a layered DAG drawing."""
        depth: dict[str, int] = {}
        for name in self.topological_order():
            needs = self.tasks[name].needs
            depth[name] = 1 + max((depth[n] for n in needs), default=-1)
        return depth

    def downstream(self, roots: set[str]) -> set[str]:
        """The given tasks and everything that (transitively) needs them."""
        result = set(roots)
        for name in self.topological_order():
            if any(need in result for need in self.tasks[name].needs):
                result.add(name)
        return result

    def upstream(self, task: str) -> set[str]:
        """Every task `task` needs, directly or through others."""
        found: set[str] = set()
        waiting = list(self.tasks[task].needs)
        while waiting:
            name = waiting.pop()
            if name not in found and name in self.tasks:
                found.add(name)
                waiting.extend(self.tasks[name].needs)
        return found
