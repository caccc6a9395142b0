"""What lineage costs: hashing declared inputs, the digest cache, and git at run start.

Measured in one run, each against a reference taken in the same run on the same machine:

- hash: `digest_inputs` on one file of SIZE bytes, cache cold (the file's first digest),
  against coreutils `sha256sum` on the same file and against only reading it (both with the
  file in the page cache, as a task that just wrote it leaves it). Ratio to sha256sum: how
  far our streamed hashing is from the system's tool.
- cached: `digest_inputs` on the same, unchanged file with the cache warm, against one
  `os.stat` of it: what an unchanged 10 GB training set costs each run.
- many: a glob over FILES small files, cold then cached, per file.
- run start: wall time of an engine run of one `true` task, median of REPEAT, in a plain
  directory (git says "not a repository"), a clean git repository, and one with DIRTY changed
  files (git status + git diff digest); ratio to the plain directory.

Prints a table (or JSON with --json) and exits 0: it measures, it does not judge.
    python bench/lineage.py [--size 536870912] [--files 1000] [--dirty 200] [--repeat 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from shipdeck.engine import Engine
from shipdeck.engine.runs.inputs import digest_inputs
from shipdeck.engine.runs.store import Store
from shipdeck.model import PipelineSpec, TaskSpec, WorkspaceSpec

HOUR = 3600.0
GIT = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


def timed(action: object) -> float:
    assert callable(action)
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def settle(path: Path) -> None:
    """Date the file an hour back: the cache keeps only files not modified seconds ago."""
    past = time.time() - HOUR
    os.utime(path, (past, past))


def write_file(path: Path, size: int) -> None:
    block = os.urandom(1 << 20)
    with path.open("wb") as handle:
        for _ in range(size >> 20):
            handle.write(block)
    settle(path)


def digest(root: Path, pattern: str) -> tuple[float, int]:
    """Seconds to digest the files `pattern` names, and how many were read in full."""
    stop = threading.Event()
    started = time.perf_counter()
    result = digest_inputs(root, root / "state.db", "t", [pattern], stop, lambda _: None)
    return time.perf_counter() - started, result.hashed


def read_only(path: Path) -> None:
    buffer = bytearray(1 << 20)
    with path.open("rb", buffering=0) as handle:
        while handle.readinto(buffer):
            pass


def bench_hashing(root: Path, size: int) -> dict[str, float]:
    big = root / "big.bin"
    write_file(big, size)
    read_only(big)  # into the page cache, for every contender alike
    read_s = timed(lambda: read_only(big))
    sha256sum_s = timed(
        lambda: subprocess.run(["sha256sum", str(big)], check=True, stdout=subprocess.DEVNULL)
    )
    cold_s, hashed = digest(root, "big.bin")
    assert hashed == 1
    cached_s, hashed = digest(root, "big.bin")
    assert hashed == 0
    stat_s = min(timed(lambda: big.stat()) for _ in range(100))
    mib = size / (1 << 20)
    return {
        "size_mib": mib,
        "read_s": read_s,
        "sha256sum_s": sha256sum_s,
        "ours_s": cold_s,
        "ours_mib_s": mib / cold_s,
        "ratio_to_sha256sum": cold_s / sha256sum_s,
        "cached_ms": cached_s * 1000,
        "stat_us": stat_s * 1e6,
    }


def bench_many(root: Path, files: int) -> dict[str, float]:
    folder = root / "many"
    folder.mkdir()
    for index in range(files):
        path = folder / f"part-{index:05d}.csv"
        path.write_bytes(os.urandom(4096))
        settle(path)
    cold_s, _ = digest(root, "many/*.csv")
    cached_s, hashed = digest(root, "many/*.csv")
    assert hashed == 0
    return {
        "files": files,
        "cold_us_per_file": cold_s / files * 1e6,
        "cached_us_per_file": cached_s / files * 1e6,
    }


def git(root: Path, *args: str) -> None:
    env = {**os.environ, **GIT}
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def run_times(root: Path, repeat: int) -> list[float]:
    spec = PipelineSpec(name="p", tasks={"a": TaskSpec(name="a", run="true")})
    workspace = WorkspaceSpec(root=root, file=root / "shipdeck.toml", pipelines={"p": spec})

    async def main() -> list[float]:
        engine = Engine(workspace)
        times = []
        try:
            for _ in range(repeat + 1):
                started = time.perf_counter()
                await engine.wait_run(engine.start_run("p", {}).id)
                times.append(time.perf_counter() - started)
        finally:
            await engine.close()
        return times[1:]  # the first pays for imports and the store's creation

    return asyncio.run(main())


def bench_run_start(root: Path, repeat: int, dirty: int) -> dict[str, float]:
    plain = root / "plain"
    plain.mkdir()
    clean = root / "clean"
    clean.mkdir()
    git(clean, "init", "-q")
    for index in range(dirty):
        (clean / f"module_{index}.py").write_text(f"VALUE = {index}\n" * 50)
    git(clean, "add", "-A")
    git(clean, "commit", "-q", "-m", "bench")
    dirty_repo = root / "dirty"
    subprocess.run(["cp", "-a", str(clean), str(dirty_repo)], check=True)
    for index in range(dirty):
        (dirty_repo / f"module_{index}.py").write_text(f"VALUE = {index + 1}\n" * 50)
    medians = {
        name: statistics.median(run_times(where, repeat))
        for name, where in (("plain", plain), ("clean", clean), ("dirty", dirty_repo))
    }
    return {
        "plain_ms": medians["plain"] * 1000,
        "clean_git_ms": medians["clean"] * 1000,
        "dirty_git_ms": medians["dirty"] * 1000,
        "dirty_files": dirty,
        "clean_ratio": medians["clean"] / medians["plain"],
        "dirty_ratio": medians["dirty"] / medians["plain"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512 << 20)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--dirty", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shipdeck-bench-lineage-") as tmp:
        root = Path(tmp)
        Store(root / "state.db").close()  # the digest cache's table
        results = {
            "hash": bench_hashing(root, args.size),
            "many": bench_many(root, args.files),
            "run_start": bench_run_start(root, args.repeat, args.dirty),
            "load_average": os.getloadavg()[0],
        }
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
        return 0
    h, m, r = results["hash"], results["many"], results["run_start"]
    print(f"hash {h['size_mib']:.0f} MiB (page cache): read {h['read_s']:.2f}s,")
    print(f"  sha256sum {h['sha256sum_s']:.2f}s, ours {h['ours_s']:.2f}s")
    print(f"  ({h['ours_mib_s']:.0f} MiB/s, {h['ratio_to_sha256sum']:.2f}x sha256sum)")
    print(f"cached, unchanged: {h['cached_ms']:.2f} ms (one stat: {h['stat_us']:.1f} us)")
    print(
        f"{m['files']:.0f} files of 4 KiB: {m['cold_us_per_file']:.0f} us/file cold,"
        f" {m['cached_us_per_file']:.0f} us/file cached"
    )
    print(
        f"run of one task: plain {r['plain_ms']:.1f} ms, clean git {r['clean_git_ms']:.1f} ms"
        f" ({r['clean_ratio']:.2f}x), {r['dirty_files']:.0f} dirty files"
        f" {r['dirty_git_ms']:.1f} ms ({r['dirty_ratio']:.2f}x)"
    )
    print(f"load average {results['load_average']:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
