"""An owner whose process died is dead, even when a copy of its lock's descriptor lives on in
another process (a child forked at the moment it was killed, before its exec)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from shipdeck.engine.runs.owners import OwnerLock, owner_alive

OWNER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from shipdeck.engine.runs.owners import OwnerLock

    lock = OwnerLock(Path(sys.argv[1]))
    child = os.fork()
    if child == 0:  # never execs: keeps the lock's descriptor, as a stuck fork would
        time.sleep(60)
        os._exit(0)
    print(lock.name, child, flush=True)
    time.sleep(60)
    """
)


def test_a_killed_owner_is_dead_though_a_forked_child_holds_its_lock(tmp_path: Path) -> None:
    owners = tmp_path / "owners"
    process = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(owners)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    name, child = process.stdout.readline().split()
    try:
        assert owner_alive(owners, name)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        assert not owner_alive(owners, name)
    finally:
        os.kill(int(child), signal.SIGKILL)
        process.wait(timeout=10)


def test_an_owner_alive_is_alive_and_a_released_one_is_not(tmp_path: Path) -> None:
    lock = OwnerLock(tmp_path)
    assert owner_alive(tmp_path, lock.name)
    lock.release()
    assert not owner_alive(tmp_path, lock.name)
    assert not owner_alive(tmp_path, None)
