"""Drive the real `shipdeck` executable in a subprocess against a workspace in tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

WORKSPACE = """
[pipelines.build]
description = "A small build"
params = { greeting = "hello", fail = false }

[pipelines.build.tasks.compile]
run = "echo compiling; echo \\"greeting=$SHIPDECK_PARAM_GREETING\\"; echo '::metric size=42'"

[pipelines.build.tasks.test]
run = "echo testing; if [ \\"$SHIPDECK_PARAM_FAIL\\" = true ]; then echo boom >&2; exit 3; fi"
needs = ["compile"]

[pipelines.build.tasks.package]
run = "echo packaging"
needs = ["test"]

[pipelines.slow]
[pipelines.slow.tasks.sleep]
run = "echo started; sleep 30"
"""


class Shipdeck:
    """`shipdeck -C root ...` as a subprocess; pipelines run in the command unless `daemon`."""

    def __init__(self, root: Path, *, daemon: bool = False) -> None:
        self.root = root
        self.daemon = daemon

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("NO_COLOR", None)
        env["COLUMNS"] = "120"
        if self.daemon:
            env.pop("SHIPDECK_IN_PROCESS", None)
        else:
            env["SHIPDECK_IN_PROCESS"] = "1"
        return env

    def __call__(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shipdeck", "-C", str(self.root), *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=cwd,
            env=self.env(),
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "shipdeck", "-C", str(self.root), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(),
        )

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.returncode in (0, 1), result.stderr
        return json.loads(result.stdout)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            time.sleep(0.05)


@pytest.fixture
def shipdeck(tmp_path: Path) -> Shipdeck:
    (tmp_path / "shipdeck.toml").write_text(textwrap.dedent(WORKSPACE))
    return Shipdeck(tmp_path)


@pytest.fixture
def shipdeck_daemon(tmp_path: Path) -> Iterator[Shipdeck]:
    """Commands attach to the workspace's runner daemon, which is stopped afterwards."""
    (tmp_path / "shipdeck.toml").write_text(textwrap.dedent(WORKSPACE))
    client = Shipdeck(tmp_path, daemon=True)
    yield client
    client("serve", "--stop", "--force")  # whatever a failed test left running
