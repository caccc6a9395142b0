"""User config: runners added and removed with other entries and unknown sections kept."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from shipdeck.config import (
    RunnerEntry,
    add_runner,
    config_path,
    find_runner,
    load_runners,
    remove_runner,
    runner_token,
)
from shipdeck.errors import Conflict, InvalidInput, NotFound, Refused
from shipdeck.model import WorkspaceSpec
from shipdeck.runners import daemon
from shipdeck.runners.connect import connect, open_remote
from shipdeck.runners.local import LocalRunner

EXISTING = """
theme = "nord"

[[runners]]
name = "build-1"
url = "https://build-1.example:8750"
token_env = "BUILD1_TOKEN"
read_only = true

[keys]
quit = "q"
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "conf" / "config.toml"
    monkeypatch.setenv("SHIPDECK_CONFIG", str(path))
    return path


def test_path_follows_xdg_and_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SHIPDECK_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() == tmp_path / "xdg" / "shipdeck" / "config.toml"
    monkeypatch.setenv("SHIPDECK_CONFIG", str(tmp_path / "other.toml"))
    assert config_path() == tmp_path / "other.toml"


def test_add_and_remove_keep_everything_else(config: Path) -> None:
    config.parent.mkdir(parents=True)
    config.write_text(EXISTING)
    config.chmod(0o640)
    add_runner(RunnerEntry(name="gpu", url="unix:/run/gpu.sock"))
    add_runner(RunnerEntry(name="ci", url="http://127.0.0.1:9000", token_file="~/.ci-token"))
    data = tomllib.loads(config.read_text())
    assert data["theme"] == "nord" and data["keys"] == {"quit": "q"}
    assert [r["name"] for r in data["runners"]] == ["build-1", "gpu", "ci"]
    assert data["runners"][1] == {"name": "gpu", "url": "unix:/run/gpu.sock"}
    assert config.stat().st_mode & 0o777 == 0o640  # the user's mode survives rewrites
    assert find_runner("build-1").read_only

    remove_runner("gpu")
    data = tomllib.loads(config.read_text())
    assert [r["name"] for r in data["runners"]] == ["build-1", "ci"]
    assert data["runners"][0]["token_env"] == "BUILD1_TOKEN"
    assert data["keys"] == {"quit": "q"}


def test_new_config_file_is_private(config: Path) -> None:
    add_runner(RunnerEntry(name="a", url="http://localhost:1"))
    assert config.stat().st_mode & 0o777 == 0o600
    assert [entry.name for entry in load_runners()] == ["a"]
    assert load_runners(config.parent / "missing.toml") == []


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (RunnerEntry(name="bad name", url="http://x:1"), "runner name 'bad name'"),
        (RunnerEntry(name="a", url="ftp://x"), "must be http(s)://HOST:PORT or unix:PATH"),
        (RunnerEntry(name="a", url="unix:"), "unix:PATH needs a path"),
        (
            RunnerEntry(name="a", url="http://x:1", token_env="T", token_file="f"),
            "not both",
        ),
    ],
)
def test_bad_entries_are_refused_and_nothing_is_written(
    config: Path, entry: RunnerEntry, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        add_runner(entry)
    assert not config.exists()


def test_duplicates_and_unknown_names(config: Path) -> None:
    add_runner(RunnerEntry(name="a", url="http://localhost:1"))
    before = config.read_text()
    with pytest.raises(Conflict, match="already exists"):
        add_runner(RunnerEntry(name="a", url="http://localhost:2"))
    with pytest.raises(NotFound, match=r"no runner named 'zz' .*known: a"):
        remove_runner("zz")
    assert config.read_text() == before


def test_broken_config_is_one_line_naming_the_file(config: Path) -> None:
    config.parent.mkdir(parents=True)
    config.write_text("[[runners]]\nname = 'a'\nurl = \n")
    with pytest.raises(InvalidInput) as raised:
        load_runners()
    assert str(raised.value).startswith(f"{config}:3: invalid TOML: ")
    assert "\n" not in str(raised.value)
    config.write_text("[[runners]]\nname = 'a'\n")
    with pytest.raises(InvalidInput, match="runners #1: needs a string 'url'"):
        load_runners()


def test_tokens_from_env_and_private_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_TOKEN", "abc")
    assert runner_token(RunnerEntry(name="a", url="http://h:1", token_env="MY_TOKEN")) == "abc"
    monkeypatch.delenv("MY_TOKEN")
    with pytest.raises(InvalidInput, match=r"\$MY_TOKEN, which is not set"):
        runner_token(RunnerEntry(name="a", url="http://h:1", token_env="MY_TOKEN"))
    token_file = tmp_path / "token"
    token_file.write_text("xyz\n")
    token_file.chmod(0o600)
    entry = RunnerEntry(name="a", url="http://h:1", token_file=str(token_file))
    assert runner_token(entry) == "xyz"
    token_file.chmod(0o644)
    with pytest.raises(Refused, match="mode 0644"):
        runner_token(entry)


async def test_connect_by_name_url_or_nothing(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_runner(RunnerEntry(name="ro", url="http://127.0.0.1:1", read_only=True))
    named = open_remote("ro")
    assert named.name == "ro" and named.read_only
    await named.close()
    monkeypatch.setenv("SHIPDECK_TOKEN", "t")
    by_url = await connect(None, "http://127.0.0.1:1")
    assert by_url.name == "http://127.0.0.1:1"
    await by_url.close()
    with pytest.raises(NotFound, match="no runner named 'nope'"):
        await connect(None, "nope")
    with pytest.raises(Exception, match="no workspace here"):
        await connect(None, None)


async def test_connect_in_process_when_asked(
    workspace: WorkspaceSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPDECK_IN_PROCESS", "1")
    runner = await connect(workspace, None)
    try:
        assert isinstance(runner, LocalRunner)
        assert not daemon.socket_path(workspace).exists()
    finally:
        await runner.close()


def test_problems_name_file_line_and_option(config: Path) -> None:
    config.parent.mkdir(parents=True)
    config.write_text(
        '[[runners]]\nname = "a"\nurl = "http://h:1"\n\n'
        '[[runners]]\nname = "b"\nurl = "http://h:2"\nread-only = true\n'
    )
    with pytest.raises(InvalidInput) as raised:
        load_runners()
    assert str(raised.value) == f"{config}:8: runner 'b': read-only: unknown option"
    config.write_text('[[runners]]\nname = "a"\nkind = "mlfow"\nurl = "http://h:1"\n')
    with pytest.raises(InvalidInput, match=r":3: runner 'a': kind: unknown runner kind 'mlfow'"):
        load_runners()


def test_the_tui_form_of_the_docs_no_longer_breaks_runner_commands(
    config: Path, tmp_path: Path
) -> None:
    """docs/tui.md showed `[runners.prod] read_only = true`; with it `shipdeck runner ls` and
    `shipdeck` outside a workspace failed ("'runners' must be an array of tables")."""
    config.parent.mkdir(parents=True)
    config.write_text('[tui]\ntheme = "shipdeck-light"\n\n[runners.prod]\nread_only = true\n')
    from shipdeck.config import read_settings
    from shipdeck.tui.config import load_config

    tui = load_config(config)
    assert tui.read_only_runners == {"prod"} and tui.theme == "shipdeck-light"
    assert len(tui.problems) == 1 and "[[runners]]" in tui.problems[0]
    assert tui.problems[0].startswith(f"{config}:4: ")
    loaded = read_settings(config)
    assert loaded.settings.runners == () and loaded.legacy_read_only == {"prod"}
    result = subprocess.run(
        [sys.executable, "-m", "shipdeck", "runner", "ls"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "[[runners]]" in result.stderr and f"{config}:4:" in result.stderr


def test_runner_add_checks_the_kind(config: Path, tmp_path: Path) -> None:
    def shipdeck(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shipdeck", "runner", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
        )

    result = shipdeck("add", "lab", "http://127.0.0.1:5000", "--kind", "nope")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "shipdeck: error: runner 'lab': kind: unknown runner kind 'nope'"
        " (kinds: mlflow, prefect, shipdeck)"
    )
    assert not config.exists()
    result = shipdeck("add", "lab", "http://127.0.0.1:5000", "--kind", "shipdeck")
    assert result.returncode == 0, result.stderr
    assert [entry.name for entry in load_runners()] == ["lab"]
