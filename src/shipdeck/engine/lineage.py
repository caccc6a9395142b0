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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shipdeck.engine.code_version import capture_code
from shipdeck.engine.inputs import InputProblem, InputsCancelled, digest_inputs
from shipdeck.engine.store import Store
from shipdeck.model import TaskRun, TaskSpec
from shipdeck.model.lineage import CodeVersion, Lineage, ReusedCode, size_text


@dataclass
class LineageRecorder:
    root: Path
    state_dir: Path
    store: Store

    async def record_code(self, run_id: int) -> None:
        code = await asyncio.to_thread(capture_code, self.root, self.state_dir)
        if code is not None:
            self.store.record_code(run_id, code)

    async def record_inputs(
        self,
        run_id: int,
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
            f" {size_text(total)} ({digested.hashed} hashed, {kept} unchanged since last hashed)"
        )
        return None

    def lineage(self, run_id: int, tasks: list[TaskRun], task: str | None = None) -> Lineage:
        """The run's code and its tasks' inputs; a task kept from an earlier run brings that
        run's inputs (and, when it differs, its code). With `task`: only what that task
        produced came from, its inputs and those of the tasks it needs, transitively."""
        if task is not None:
            return self.lineage(run_id, tasks).for_task(task, {t.name: t.needs for t in tasks})
        own = [t.name for t in tasks if t.reused_from is None]
        inputs = self.store.inputs(run_id, own)
        kept: dict[int, list[str]] = {}
        for kept_task in tasks:
            if kept_task.reused_from is not None:
                kept.setdefault(kept_task.reused_from, []).append(kept_task.name)
        code = self.store.code(run_id)
        reused_code: list[ReusedCode] = []
        for origin, names in kept.items():
            inputs.extend(
                item.model_copy(update={"reused_from": origin})
                for item in self.store.inputs(origin, names)
            )
            origin_code = self.store.code(origin)
            if _identity(origin_code) != _identity(code):
                reused_code.append(ReusedCode(run_id=origin, code=origin_code))
        order = {task.name: index for index, task in enumerate(tasks)}
        inputs.sort(key=lambda item: (order.get(item.task, len(order)), item.path))
        return Lineage(code=code, inputs=inputs, reused_code=reused_code)


def _identity(code: CodeVersion | None) -> tuple[str, bool | None, str | None] | None:
    return None if code is None else code.identity
