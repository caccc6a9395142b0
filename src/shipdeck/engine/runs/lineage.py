"""Recording a run's lineage as it executes, and reading it back.

The executor asks for the code version when the run starts and for each task's input digests
before the task's first attempt; both block (git, file reads), so they run in worker threads
and the event loop keeps scheduling other runs meanwhile. A task whose declared input is
missing fails before it runs, as a build fails on a missing dependency: a model trained
without the data its pipeline declares is not one to keep.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from shipdeck.engine.runs.code_version import capture_code
from shipdeck.engine.runs.inputs import InputProblem, InputsCancelled, digest_inputs
from shipdeck.engine.runs.store import Store, TaskLink
from shipdeck.formatting import format_bytes
from shipdeck.model import TaskRun, TaskSpec
from shipdeck.model.lineage import CodeVersion, InputFile, Lineage, ReusedCode


@dataclass
class LineageRecorder:
    root: Path
    state_dir: Path
    store: Store

    async def record_code(self, run_id: str) -> None:
        code = await asyncio.to_thread(capture_code, self.root, self.state_dir)
        if code is not None:
            self.store.record_code(run_id, code)

    async def record_inputs(
        self,
        run_id: str,
        spec: TaskSpec,
        note: Callable[[str], None],
        cancelled: asyncio.Future[None],
    ) -> str | None:
        """Digest and record the task's declared inputs; the reason the task fails when one
        cannot be read, None otherwise (also when `cancelled` resolved meanwhile: the caller
        sees that itself)."""
        loop = asyncio.get_running_loop()
        stop = threading.Event()

        def stop_hashing(_: object) -> None:
            stop.set()

        def note_soon(text: str) -> None:  # called from the worker thread
            loop.call_soon_threadsafe(note, text)

        cancelled.add_done_callback(stop_hashing)
        try:
            digested = await asyncio.to_thread(
                digest_inputs,
                self.root,
                self.store.path,
                spec.name,
                spec.inputs,
                stop,
                note_soon,
            )
        except InputProblem as problem:
            return str(problem)
        except InputsCancelled:
            return None
        finally:
            stop.set()  # also when this coroutine itself is cancelled: the thread ends soon
            cancelled.remove_done_callback(stop_hashing)
        self.store.record_inputs(run_id, digested.files)
        kept = len(digested.files) - digested.hashed
        total = sum(item.size for item in digested.files)
        note(
            f"inputs: {len(digested.files)} file{'' if len(digested.files) == 1 else 's'},"
            f" {format_bytes(total)} ({digested.hashed} hashed, {kept} unchanged since last hashed)"
        )
        return None

    def lineage(self, run_id: str, tasks: list[TaskRun], task: str | None = None) -> Lineage:
        """The run's code and its tasks' inputs; a task kept from an earlier run brings that
        run's inputs (and, when it differs, its code). With `task`: only what that task
        produced came from, its inputs and those of the tasks it needs, transitively."""
        links = [TaskLink.of(t) for t in tasks]
        runs = {run_id} | _origins(links)
        found = _assemble(run_id, links, self.store.codes(runs), self.store.inputs(runs), task)
        return found or Lineage()

    def lineages(self, wanted: Sequence[tuple[str, str | None]]) -> list[Lineage | None]:
        """`lineage(run_id, its tasks, task)` for each (run_id, task), None where nothing
        was recorded; a few queries whatever their number (a model's 1,000 versions)."""
        run_ids = {run_id for run_id, _ in wanted}
        links = self.store.task_links(run_ids)
        runs = run_ids.union(*(_origins(listed) for listed in links.values()))
        codes, inputs = self.store.codes(runs), self.store.inputs(runs)
        return [
            _assemble(run_id, links.get(run_id, []), codes, inputs, task) for run_id, task in wanted
        ]


def _origins(links: list[TaskLink]) -> set[str]:
    return {link.reused_from for link in links if link.reused_from is not None}


def _assemble(
    run_id: str,
    links: list[TaskLink],
    codes: dict[str, CodeVersion],
    inputs: dict[str, list[InputFile]],
    task: str | None,
) -> Lineage | None:
    """The lineage of one run (or of what its `task` built), None when nothing was recorded."""
    kept = {link.name: link.reused_from for link in links if link.reused_from is not None}
    code = codes.get(run_id)
    if code is None and run_id not in inputs and not kept:
        return None
    found = [item for item in inputs.get(run_id, []) if item.task not in kept]
    reused_code: list[ReusedCode] = []
    for origin in sorted(set(kept.values()), key=int):  # the engine's ids: run numbers
        found.extend(
            item.model_copy(update={"reused_from": origin})
            for item in inputs.get(origin, [])
            if kept.get(item.task) == origin
        )
        if _identity(codes.get(origin)) != _identity(code):
            reused_code.append(ReusedCode(run_id=origin, code=codes.get(origin)))
    if kept:
        order = {link.name: index for index, link in enumerate(links)}
        found.sort(key=lambda item: (order.get(item.task, len(order)), item.path))
    lineage = Lineage(code=code, inputs=found, reused_code=reused_code)
    if task is not None:
        lineage = lineage.for_task(task, {link.name: link.needs for link in links})
    return lineage if lineage.recorded else None


def _identity(code: CodeVersion | None) -> tuple[str, bool | None, str | None] | None:
    return None if code is None else code.identity
