"""kill -9 of the workspace daemon loses nothing the tasks wrote: a few trials of
bench/durability.py (which runs many, at random points)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.durability import trial

# While the tasks are being spawned, and twice mid-output: once left to finish after the
# kill, once killed by the recovering daemon while they print.
TRIALS = [("wait", 0.05), ("restart", 0.6), ("wait", 1.0)]


@pytest.mark.timeout(90)
async def test_kill_9_of_the_daemon_loses_no_line_and_no_metric(tmp_path: Path) -> None:
    results = []
    for number, (mode, kill_after) in enumerate(TRIALS):
        result = await trial(
            tmp_path / str(number), mode=mode, kill_after=kill_after, lines=2000, pause=0.1
        )
        results.append(result)
    lost = [(r.lost_lines, r.lost_metrics, r.duplicates) for r in results]
    assert lost == [(0, 0, 0)] * len(TRIALS), results
    assert results[1].written > 0
    # The tasks outlived the daemon: left alone, each of them printed all its lines. Killed
    # while spawning, the daemon may have started only some of them (on a loaded machine,
    # fewer than five in 50 ms): each one it started finished.
    assert results[0].written > 0 and results[0].written % 2000 == 0, results[0]
    assert results[2].written == 5 * 2000
