"""One cockpit: inside a workspace the TUI opens its runner together with the configured ones,
unless `--runner` (repeatable) or `[tui] runners = "workspace"` narrows it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shipdeck.cli.context import CliContext
from shipdeck.cli.main import tui_args
from shipdeck.cli.tui_cmd import tui_runners
from shipdeck.runners.protocol import Runner

RUNNERS = """
[[runners]]
name = "build-1"
url = "http://127.0.0.1:1"

[[runners]]
name = "needs-token"
url = "http://127.0.0.1:2"
token_env = "SHIPDECK_TEST_TOKEN_THAT_IS_NOT_SET"
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "shipdeck.toml").write_text('[pipelines.p.tasks.t]\nrun = "true"\n')
    return root


def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    monkeypatch.setenv("SHIPDECK_CONFIG", str(path))


async def _open(*argv: str) -> tuple[list[Runner], list[str]]:
    args = tui_args(list(argv))
    assert args is not None
    ctx = CliContext(args)
    runners, warnings = await tui_runners(ctx)
    for runner in runners:
        await runner.close()
    return runners, warnings


async def test_workspace_runner_opens_beside_the_configured_ones(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(tmp_path, monkeypatch, RUNNERS)
    runners, warnings = await _open("-C", str(workspace))
    assert [runner.name for runner in runners] == ["local", "build-1"]
    # A runner whose token is missing is left out with one line, not a closed cockpit.
    assert len(warnings) == 1 and warnings[0].startswith("runner needs-token left out: ")


async def test_config_or_runner_flags_narrow_it(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(tmp_path, monkeypatch, '[tui]\nrunners = "workspace"\n' + RUNNERS)
    runners, _ = await _open("-C", str(workspace))
    assert [runner.name for runner in runners] == ["local"]
    _config(tmp_path, monkeypatch, RUNNERS)
    runners, _ = await _open("--runner", "build-1", "--runner", "http://127.0.0.1:3")
    assert [runner.name for runner in runners] == ["build-1", "http://127.0.0.1:3"]


def test_commands_take_one_runner(workspace: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shipdeck", "--runner", "a", "--runner", "b", "runs"],
        capture_output=True,
        text=True,
        cwd=workspace,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "shipdeck: error: --runner is given 2 times; only the TUI (shipdeck with no command)"
        " opens several runners"
    )
