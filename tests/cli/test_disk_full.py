"""A full disk, for real: the workspace on a tiny tmpfs mounted in a private mount namespace
(`unshare`; root, or a user namespace, may mount there). Reads that must first write what a
run left pending, and the start of an in-process engine, say what is wrong in one line naming
the store file; once space is freed nothing was lost."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# The task prints nothing: a line it printed could not be logged on the full disk, and that
# fails the task (a matter for the log writer, not for this test).
WORKSPACE = """
[pipelines.wait]
[pipelines.wait.tasks.hold]
run = "while [ ! -e {go} ]; do sleep 0.05; done"
"""

SCENARIO = r"""
set -u
shipdeck() { "$PYTHON" -m shipdeck "$@"; }
step() {  # step NAME COMMAND...: its exit code, stdout and stderr, kept outside the tmpfs
    name=$1; shift
    "$@" > "$OUT/$name.out" 2> "$OUT/$name.err"; echo $? > "$OUT/$name.rc"
}
mount -t tmpfs -o size=4m tmpfs "$DISK" || exit 77
cp "$OUT/shipdeck.toml" "$DISK/"
cd "$DISK"
step start shipdeck runs
shipdeck run wait > "$OUT/run.out" 2> "$OUT/run.err" &
client=$!
for _ in $(seq 200); do
    shipdeck runs --json 2>/dev/null | grep -q '"running"' && break
    sleep 0.05
done
head -c 64M /dev/zero > fill 2>/dev/null
touch "$OUT/go"  # the task ends: the daemon has its end to write, and no space to write it
sleep 1
step runs shipdeck runs
step show shipdeck show last
SHIPDECK_IN_PROCESS=1 step in_process shipdeck runs
rm fill
step after shipdeck runs --json
wait $client
shipdeck serve --stop --force > /dev/null 2>&1
exit 0
"""


def lines(out: Path, name: str) -> tuple[int, list[str]]:
    return int((out / f"{name}.rc").read_text()), (out / f"{name}.err").read_text().splitlines()


def test_a_full_disk_is_one_line_naming_the_store_and_loses_nothing(tmp_path: Path) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux)")
    disk, out = tmp_path / "disk", tmp_path / "out"
    disk.mkdir()
    out.mkdir()
    (out / "shipdeck.toml").write_text(textwrap.dedent(WORKSPACE.format(go=out / "go")))
    namespace = ["unshare", "--mount"] + ([] if os.geteuid() == 0 else ["--map-root-user"])
    env = {**os.environ, "PYTHON": sys.executable, "DISK": str(disk), "OUT": str(out)}
    env.pop("SHIPDECK_IN_PROCESS", None)  # the workspace daemon, as an operator has it
    done = subprocess.run(
        [*namespace, "bash", "-c", SCENARIO], env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0 or not (out / "start.rc").exists():
        pytest.skip(f"cannot mount a tmpfs in a private namespace here: {done.stderr.strip()}")
    assert lines(out, "start")[0] == 0

    store = disk / ".shipdeck" / "shipdeck.db"
    full = f"shipdeck: error: the run history {store}: database or disk is full"
    for name in ("runs", "show", "in_process"):
        code, errors = lines(out, name)
        assert code == 3, (name, errors)
        assert errors == [f"{full} (the disk is full; free some space on it)"], name

    # Space freed: the run's end, held back while the disk was full, is there.
    assert lines(out, "after")[0] == 0
    after = (out / "after.out").read_text()
    assert '"status": "succeeded"' in after, after
