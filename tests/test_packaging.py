"""The real wheel: built from the repository, installed into a fresh venv, and used from there.

Only a wheel shows what a `pip install .` user gets: an editable install or a checkout reads
files straight from the repository, so a data file the build leaves out goes unnoticed there.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "shipdeck"
BUNDLED_THEMES = {"shipdeck-dark", "shipdeck-light", "shipdeck-high-contrast"}

# What the build needs from the repository (pyproject.toml names README.md as the readme).
_BUILD_INPUTS = ("pyproject.toml", "README.md", "MANIFEST.in", "LICENSE", "src", "themes")


def _repository_files() -> list[str]:
    """The repository's files as a clone would have them: tracked or new, never ignored."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("needs a git checkout (and git) to tell the repository's files from litter")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [name for name in listed.split("\0") if name and (ROOT / name).exists()]


# Printed by the installed copy: where it was imported from and what the loader finds.
_PROBE = """
import json, shipdeck
from shipdeck.tui.themes import bundled_themes_dir, load_themes
folder = bundled_themes_dir()
themes, problems = load_themes(folder)
print(json.dumps({"package": shipdeck.__file__, "folder": str(folder),
                  "names": [theme.name for theme in themes], "problems": problems}))
"""


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"{args} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _setuptools_is_recent() -> bool:
    """Whether this environment's setuptools reads pyproject.toml's `license = "MIT"` (77+)."""
    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    return major >= 77


def _build_wheel(tmp_path: Path) -> Path:
    """A wheel built from a copy of the build inputs (the build writes build/ and egg-info)."""
    source = tmp_path / "source"
    for name in _repository_files():
        if name.split("/", 1)[0] not in _BUILD_INPUTS:
            continue
        path, copy = ROOT / name, source / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            copy.symlink_to(path.readlink())
        else:
            shutil.copy2(path, copy)
    out = tmp_path / "dist"
    args = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out)]
    if _setuptools_is_recent():
        args.append("--no-build-isolation")
    # Otherwise pip builds in an isolated environment with the setuptools that
    # [build-system] asks for, from the indexes pip is configured with.
    done = subprocess.run(
        [*args, str(source)], capture_output=True, text=True, timeout=240, check=False
    )
    if done.returncode != 0 and "No matching distribution found for setuptools" in done.stderr:
        pytest.skip("cannot build a wheel: no setuptools>=77 installed or reachable by pip")
    assert done.returncode == 0, f"pip wheel failed:\n{done.stdout}\n{done.stderr}"
    (wheel,) = out.glob("shipdeck-*.whl")
    return wheel


def _fresh_venv(tmp_path: Path, wheel: Path) -> Path:
    """A new venv holding only the wheel; the dependencies come from this environment."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    purelib = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            cwd=tmp_path,
        ).strip()
    )
    # A .pth line puts this environment's site-packages after the venv's own, so the
    # installed wheel wins; .pth files in that folder (the editable install's) are not read.
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib"), *site.getsitepackages()}
    (purelib / "outer-site-packages.pth").write_text("\n".join(sorted(ours)) + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    _run([*pip, "install", "--no-deps", "--no-index", str(wheel)], cwd=tmp_path)
    return python


@pytest.mark.timeout(600)
def test_the_wheel_ships_themes_styles_and_demo_files(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        shipped_themes = {
            name: archive.read(name) for name in names if name.startswith("shipdeck/themes/")
        }

    # The bundled themes: the top-level themes/ files, byte for byte, inside the package.
    top_level = {f"shipdeck/themes/{p.name}": p.read_bytes() for p in (ROOT / "themes").glob("*")}
    assert {p.rsplit("/", 1)[1] for p in top_level} >= {f"{n}.toml" for n in BUNDLED_THEMES}
    assert shipped_themes == top_level

    # The package data already declared in pyproject.toml.
    styles = {
        f"shipdeck/{name.removeprefix('src/shipdeck/')}"
        for name in _repository_files()
        if name.startswith("src/shipdeck/tui/") and name.endswith(".tcss")
    }
    assert styles, "no .tcss files found in the source tree"
    assert styles <= names, f"missing from the wheel: {sorted(styles - names)}"
    demo = {
        f"shipdeck/{name.removeprefix('src/shipdeck/')}"
        for name in _repository_files()
        if name.startswith("src/shipdeck/demo/files/")
    }
    assert any(Path(p).name.startswith(".") for p in demo), "expected dotfiles among demo files"
    assert demo <= names, f"missing from the wheel: {sorted(demo - names)}"
    assert "shipdeck/py.typed" in names

    # The installed copy, run from outside the repository, finds all three bundled themes.
    python = _fresh_venv(tmp_path, wheel)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    report = json.loads(_run([str(python), "-c", _PROBE], cwd=tmp_path, env=env))
    venv = tmp_path / "venv"
    assert Path(report["package"]).is_relative_to(venv), report
    assert Path(report["folder"]).is_relative_to(venv), report
    assert set(report["names"]) >= BUNDLED_THEMES, report
    assert report["problems"] == [], report
