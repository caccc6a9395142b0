"""Memory of `shipdeck validate` on workspace files with one huge line.

Each case writes a shipdeck.toml holding one line of about SIZE bytes and runs
`shipdeck -C DIR validate` in its own process, reading that process's peak resident set size
with os.wait4. The reference is the same command on a small valid file, measured in the same
run: what Python and shipdeck's imports cost before any file is read. Reported per case:
peak RSS, and (peak - reference) / size, the bytes of memory each byte of the file costs.

Cases (every one ends in a problem, so the key scanner that locates problems runs):
- string:   `run = "aaa…"` then a bad `retries`,
- escapes:  `run = "\\"\\"…"` (an escape every two bytes) then a bad `retries`,
- literal:  `run = '''aaa…'''` then a bad `retries`,
- bad-value: `retries = "aaa…"`: the bad value itself is the huge line,
- long-key: an unknown key of SIZE bytes,
- many-items: `needs = [1, 1, 1, …]`: one problem per item.

Target: at most 10 bytes of memory per byte of the file (tomllib's own parse costs a few).
Prints a table (or JSON with --json) and exits 0: it measures, it does not judge.
    python bench/validate.py [--size 5000000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TARGET_BYTES_PER_BYTE = 10.0
TASK = '[pipelines.a.tasks.x]\nrun = "true"\n'
BAD_RETRIES = "retries = -1\n"
ESCAPE = '\\"'

CASES: dict[str, Callable[[int], str]] = {
    "string": lambda n: f'[pipelines.a.tasks.x]\nrun = "{"a" * n}"\n{BAD_RETRIES}',
    "escapes": lambda n: f'[pipelines.a.tasks.x]\nrun = "{ESCAPE * (n // 2)}"\n{BAD_RETRIES}',
    "literal": lambda n: f"[pipelines.a.tasks.x]\nrun = '''{'a' * n}'''\n{BAD_RETRIES}",
    "bad-value": lambda n: f'{TASK}retries = "{"a" * n}"\n',
    "long-key": lambda n: f"{TASK}{'k' * n} = 1\n",
    "many-items": lambda n: f"{TASK}needs = [{'1, ' * (n // 3)}]\n",
}


def peak_rss(directory: Path) -> tuple[int, int, str, float]:
    """(peak RSS in bytes, exit code, first line of stderr after the file name, wall seconds)
    of `shipdeck -C DIR validate`."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "shipdeck", "-C", str(directory), "validate"],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        first = err.read(300).decode("utf-8", "replace").partition("\n")[0]
    return (
        usage.ru_maxrss * 1024,
        process.returncode,
        first.partition(".toml:")[2],
        (time.perf_counter() - started),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--size", type=int, default=5_000_000, help="bytes in the huge line")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        reference_dir = root / "reference"
        reference_dir.mkdir()
        (reference_dir / "shipdeck.toml").write_text(TASK, encoding="utf-8")
        reference, code, _, _ = peak_rss(reference_dir)
        assert code == 0, "the reference file must validate"
        for name, make in CASES.items():
            directory = root / name
            directory.mkdir()
            text = make(args.size)
            (directory / "shipdeck.toml").write_text(text, encoding="utf-8")
            rss, code, first, seconds = peak_rss(directory)
            size = len(text.encode())
            results.append(
                {
                    "case": name,
                    "file_bytes": size,
                    "peak_rss": rss,
                    "bytes_per_byte": max(0, rss - reference) / size,
                    "seconds": seconds,
                    "exit": code,
                    "stderr": first[:70],
                }
            )
    if args.json:
        print(json.dumps({"reference_rss": reference, "cases": results}, indent=2))
        return
    print(f"reference (small valid file): peak RSS {reference / 2**20:.1f} MiB")
    print(f"{'case':<12} {'file':>8} {'peak RSS':>10} {'bytes/byte':>10} {'wall':>6}  exit  stderr")
    print("-" * 100)
    for r in results:
        print(
            f"{r['case']:<12} {int(r['file_bytes']) / 2**20:>6.1f}MB"  # type: ignore[call-overload]
            f" {int(r['peak_rss']) / 2**20:>8.1f}MB"  # type: ignore[call-overload]
            f" {r['bytes_per_byte']:>10.1f} {r['seconds']:>5.1f}s  {r['exit']:>4}  {r['stderr']}"
        )
    worst = max(float(r["bytes_per_byte"]) for r in results)  # type: ignore[arg-type]
    verdict = "met" if worst <= TARGET_BYTES_PER_BYTE else "MISSED"
    print(f"\ntarget <= {TARGET_BYTES_PER_BYTE:g} bytes of memory per byte of file: {verdict}")


if __name__ == "__main__":
    main()
