"""What tasks inherit from the runner's environment: never shipdeck's credentials."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from shipdeck.engine.runs.task_env import inherited_environment, with_shipdeck_on_path
from shipdeck.model import RunStatus, TaskEnvSpec
from tests.engine.conftest import Engines, log_texts, task, workspace

SHOW_ENV = "env | sort"


def _config(path: Path, *token_envs: str) -> Path:
    entries = [
        f'[[runners]]\nname = "r{i}"\nurl = "http://127.0.0.1:{8000 + i}"\ntoken_env = "{name}"\n'
        for i, name in enumerate(token_envs)
    ]
    path.write_text("\n".join(entries))
    return path


def _env_of(lines: list[str]) -> dict[str, str]:
    return dict(line.split("=", 1) for line in lines if "=" in line)


@pytest.fixture
def credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A runner environment holding shipdeck's credentials and settings, and a user config
    naming a runner whose token is in $BUILD_RUNNER_TOKEN."""
    config = _config(tmp_path / "config.toml", "BUILD_RUNNER_TOKEN")
    monkeypatch.setenv("SHIPDECK_CONFIG", str(config))
    monkeypatch.setenv("SHIPDECK_TOKEN", "url-runner-token-1")
    monkeypatch.setenv("BUILD_RUNNER_TOKEN", "named-runner-token-2")
    monkeypatch.setenv("SHIPDECK_IDLE_EXIT", "7")
    monkeypatch.setenv("PLAIN_SETTING", "visible")
    return config


async def test_tasks_never_see_shipdecks_credentials(
    tmp_path: Path, engines: Engines, credentials: Path
) -> None:
    spec = workspace(tmp_path, task("show", SHOW_ENV, env={"OWN": "mine"}))
    engine = engines.open(spec)
    run = await engine.wait_run(engine.start_run("p", {}).id)
    assert run.status == RunStatus.SUCCEEDED
    lines = log_texts(engine, run.id, "show")
    text = "\n".join(lines)
    assert "url-runner-token-1" not in text
    assert "named-runner-token-2" not in text
    env = _env_of(lines)
    assert env["PLAIN_SETTING"] == "visible"
    assert env["OWN"] == "mine"
    assert "PATH" in env and "HOME" in env
    # SHIPDECK_* only as the executor sets them: SHIPDECK_CONFIG, _IDLE_EXIT, ... stay out.
    assert sorted(name for name in env if name.startswith("SHIPDECK_")) == [
        "SHIPDECK_ATTEMPT",
        "SHIPDECK_METRICS",
        "SHIPDECK_PARAMS",
        "SHIPDECK_PIPELINE",
        "SHIPDECK_RUN_ID",
        "SHIPDECK_TASK",
        "SHIPDECK_WORKSPACE",
    ]


async def test_a_runner_configured_later_keeps_its_token_from_the_next_run(
    tmp_path: Path, engines: Engines, credentials: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPLOY_TOKEN", "added-later-3")
    engine = engines.open(workspace(tmp_path, task("show", SHOW_ENV)))
    first = await engine.wait_run(engine.start_run("p", {}).id)
    assert _env_of(log_texts(engine, first.id, "show"))["DEPLOY_TOKEN"] == "added-later-3"
    _config(credentials, "BUILD_RUNNER_TOKEN", "DEPLOY_TOKEN")
    second = await engine.wait_run(engine.start_run("p", {}).id)
    assert "added-later-3" not in "\n".join(log_texts(engine, second.id, "show"))


async def test_pass_and_secret_narrow_what_tasks_inherit(
    tmp_path: Path, engines: Engines, credentials: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "ci")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-4")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    spec = workspace(tmp_path, task("show", SHOW_ENV, env={"OWN": "mine"})).model_copy(
        update={
            "task_env": TaskEnvSpec(
                passthrough=("AWS_*", "BUILD_RUNNER_TOKEN"), secret=("*_SECRET_*",)
            )
        }
    )
    engine = engines.open(spec)
    run = await engine.wait_run(engine.start_run("p", {}).id)
    env = _env_of(log_texts(engine, run.id, "show"))
    assert env["AWS_PROFILE"] == "ci"
    assert env["LC_ALL"] == "C.UTF-8" and "PATH" in env and "HOME" in env  # the base
    assert env["OWN"] == "mine"  # the task's own env is not inherited: always there
    assert "PLAIN_SETTING" not in env  # not passed
    assert "AWS_SECRET_ACCESS_KEY" not in env  # secret wins over pass
    assert "BUILD_RUNNER_TOKEN" not in env  # a credential, even when passed


def _break(config: Path) -> None:
    config.write_text(
        'runners = [{ name = "a", url = "http://h:1", token_env = "BUILD_RUNNER_TOKEN" }]\n'
        "this line is not TOML\n"
    )


async def test_a_broken_config_still_keeps_its_tokens_back(
    tmp_path: Path, engines: Engines, credentials: Path
) -> None:
    _break(credentials)
    engine = engines.open(workspace(tmp_path, task("show", SHOW_ENV)))
    run = await engine.wait_run(engine.start_run("p", {}).id)
    text = "\n".join(log_texts(engine, run.id, "show"))
    assert "PLAIN_SETTING=visible" in text
    assert "named-runner-token-2" not in text


def test_the_filter_on_its_own() -> None:
    environ = {
        b"PATH": b"/bin",
        b"SHIPDECK_TOKEN": b"t",
        b"shipdeck_lower": b"x",
        b"MY_TOKEN": b"m",
        b"DB_PASSWORD": b"p",
        b"OTHER": b"o",
    }
    everything = inherited_environment(environ, TaskEnvSpec(), {"MY_TOKEN"})
    assert everything == {b"PATH": b"/bin", b"DB_PASSWORD": b"p", b"OTHER": b"o"}
    secret = inherited_environment(environ, TaskEnvSpec(secret=("*_PASSWORD",)), set())
    assert b"DB_PASSWORD" not in secret and b"MY_TOKEN" in secret
    narrow = inherited_environment(environ, TaskEnvSpec(passthrough=()), set())
    assert narrow == {b"PATH": b"/bin"}


async def test_tasks_find_the_runners_own_shipdeck(
    tmp_path: Path, engines: Engines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A monitor's `shipdeck drift ...` works when the runner's virtualenv is not activated."""
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "shipdeck").is_file()  # the test runs from the installed checkout
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    engine = engines.open(workspace(tmp_path, task("which", "command -v shipdeck")))
    run = await engine.wait_run(engine.start_run("p", {}).id)
    assert run.status == RunStatus.SUCCEEDED
    assert log_texts(engine, run.id, "which") == [str(bin_dir / "shipdeck")]


def test_shipdecks_directory_goes_last_on_path_and_only_once(tmp_path: Path) -> None:
    (tmp_path / "shipdeck").write_text("#!/bin/sh\n")
    here = os.fsencode(tmp_path)
    assert with_shipdeck_on_path({b"PATH": b"/bin"}, tmp_path) == {b"PATH": b"/bin:" + here}
    already = {b"PATH": here + b":/bin"}
    assert with_shipdeck_on_path(already, tmp_path) == already
    assert with_shipdeck_on_path({}, tmp_path) == {b"PATH": here}
    elsewhere = tmp_path / "no-shipdeck-here"
    elsewhere.mkdir()
    assert with_shipdeck_on_path({b"PATH": b"/bin"}, elsewhere) == {b"PATH": b"/bin"}
