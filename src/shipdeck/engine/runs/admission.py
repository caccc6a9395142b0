"""Pipeline `concurrency`: a run waits, queued, until it has a slot.

A run of a pipeline declared with `concurrency = N` starts once fewer than N runs of that
pipeline are ahead of it: running, or queued and started before it (first started, first
served). The count comes from the store, so runs that other processes sharing the workspace
started count too; a run whose owner died is interrupted on the way (it holds no slot).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from shipdeck.engine.runs.persist import Persister
from shipdeck.engine.runs.store import Store
from shipdeck.model import Run

POLL = 0.25
"""How often a queued run looks again when the runs ahead belong to other processes."""

IsGone = Callable[[str, str | None], bool]
"""(run id, owner) -> True when that run no longer holds a slot (its owner died)."""


class Admission:
    def __init__(self, store: Store, persister: Persister, is_gone: IsGone) -> None:
        self._store = store
        self._persister = persister
        self._is_gone = is_gone
        self._wake: asyncio.Future[None] | None = None

    def ahead(self, run: Run) -> list[str]:
        """Ids of the runs that hold a slot before `run`, oldest first."""
        self._persister.flush()
        rows = self._store.active_runs_ahead(run.pipeline, run.id)
        return [run_id for run_id, owner in rows if not self._is_gone(run_id, owner)]

    async def wait_turn(self, run: Run, limit: Callable[[], int | None]) -> None:
        """Return once fewer than `limit()` runs of the pipeline are ahead of `run`. The limit
        is read at every look: raising it in shipdeck.toml lets queued runs start."""
        while True:
            # Taken before looking, so a run finishing in between still wakes this one.
            wake = self._next_wake()
            allowed = limit()
            if allowed is None or len(self.ahead(run)) < allowed:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(wake), POLL)

    def notify(self) -> None:
        """A run of this process finished: queued runs look again now, not at the next poll."""
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)
        self._wake = None

    def _next_wake(self) -> asyncio.Future[None]:
        if self._wake is None or self._wake.done():
            self._wake = asyncio.get_running_loop().create_future()
        return self._wake
