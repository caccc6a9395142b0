"""Run one shard of the unit tests: test modules are dealt round-robin by sorted name.

SHARD (1-based) and SHARDS come from the task's env in shipdeck.toml.
"""

import os
import sys
import time
import unittest

from common import APP_DIR, fail, metric


def shard_modules(shard, shards):
    names = sorted(
        name[:-3]
        for name in os.listdir(os.path.join(APP_DIR, "tests"))
        if name.startswith("test_") and name.endswith(".py")
    )
    return [f"tests.{name}" for index, name in enumerate(names) if index % shards == shard - 1]


def main():
    shard = int(os.environ.get("SHARD", "1"))
    shards = int(os.environ.get("SHARDS", "1"))
    if not 1 <= shard <= shards:
        fail(f"SHARD={shard} is outside 1..{shards}")
    modules = shard_modules(shard, shards)
    print(f"shard {shard}/{shards}: {', '.join(modules)}", flush=True)
    sys.path.insert(0, os.path.abspath(APP_DIR))
    sys.dont_write_bytecode = True
    started = time.perf_counter()
    suite = unittest.defaultTestLoader.loadTestsFromNames(modules)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    sys.stdout.flush()
    metric("tests", result.testsRun)
    metric("test_failures", len(result.failures) + len(result.errors))
    metric("test_seconds", round(time.perf_counter() - started, 4))
    if not result.wasSuccessful():
        fail(f"shard {shard}/{shards}: tests failed")


if __name__ == "__main__":
    main()
