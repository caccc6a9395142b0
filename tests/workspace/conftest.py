"""Workspace files written into a temporary directory that is also the current directory."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from shipdeck.errors import WorkspaceError
from shipdeck.workspace import load_workspace

WriteWorkspace = Callable[[str], Path]
Problems = Callable[[str], list[str]]


@pytest.fixture
def write_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WriteWorkspace:
    """Write dedented TOML to ./shipdeck.toml (cwd is tmp_path, so errors say `shipdeck.toml:N`)."""
    monkeypatch.chdir(tmp_path)

    def write(text: str) -> Path:
        path = tmp_path / "shipdeck.toml"
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


@pytest.fixture
def problems(write_workspace: WriteWorkspace) -> Problems:
    """The problem lines loading the given TOML raises (fails the test if it loads)."""

    def load(text: str) -> list[str]:
        path = write_workspace(text)
        with pytest.raises(WorkspaceError) as caught:
            load_workspace(path)
        assert str(caught.value) == "\n".join(caught.value.problems)
        return caught.value.problems

    return load
