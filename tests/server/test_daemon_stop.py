"""What stopping the workspace daemon would cut short: the runs it executes, from its health."""

from __future__ import annotations

from shipdeck.model import EventKind, WorkspaceSpec
from shipdeck.runners import daemon


async def test_health_lists_the_runs_the_daemon_executes(managed: WorkspaceSpec) -> None:
    client = await daemon.attach(managed, announce=lambda _: None)
    try:
        assert (await client.info()).active_runs == []
        after = await client.last_seq()
        run = await client.start_run("slow")
        while True:  # until its task runs
            page = await client.wait_events(after, wait=5)
            after = page.last_seq
            if any(e.kind == EventKind.LOG and e.run_id == run.id for e in page.events):
                break
        info = await client.info()
        assert info.active_runs == [run.id]
        assert [r.id for r in await daemon.runs_in_progress(managed, info)] == [run.id]
        # A daemon from before health listed them: every run still going is counted.
        older = info.model_copy(update={"active_runs": None})
        assert [r.id for r in await daemon.runs_in_progress(managed, older)] == [run.id]
        await client.cancel(run.id)
        info = await client.info()
        assert info.active_runs == []
        assert await daemon.runs_in_progress(managed, info) == []
    finally:
        await client.close()
