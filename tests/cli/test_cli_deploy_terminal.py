"""`shipdeck deploy` on the operator's terminal: the deploy script's escape sequences cannot drive
it (retitle, clear, move the cursor), its colours still show, as in `shipdeck logs`."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from tests.cli.conftest import Shipdeck

PRINTED = r"before\033]0;pwned\007\033[2J\033[31mred\033[0m\033[?1049hafter\n"
DRIVES_THE_TERMINAL = (b"\x1b]", b"\x07", b"\x1b[2J", b"\x1b[?1049h")


def on_terminal(shipdeck: Shipdeck, *args: str, no_color: bool = False) -> bytes:
    """What `shipdeck ARGS` writes to a pseudo-terminal."""
    master, slave = pty.openpty()
    env = shipdeck.env()
    if no_color:
        env["NO_COLOR"] = "1"
    process = subprocess.Popen(
        [sys.executable, "-m", "shipdeck", "-C", str(shipdeck.root), *args],
        stdout=slave,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(slave)
    output = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the program closed its side
            break
        if not data:
            break
        output += data
    assert process.wait(timeout=30) == 0
    os.close(master)
    return output


def test_a_deploy_on_a_terminal_shows_its_script_without_its_escapes(shipdeck: Shipdeck) -> None:
    """`shipdeck deploy` prints the deploy run's output as it happens: the same rule."""
    path = shipdeck.root / "shipdeck.toml"
    deploy = f"printf '{PRINTED}'".replace("\\", "\\\\")
    path.write_text(
        path.read_text()
        + "\n[pipelines.box.tasks.pack]\n"
        + 'run = "mkdir -p dist && echo app > dist/app.txt"\n'
        + '[services.web]\npipeline = "box"\nartifact = "dist/app.txt"\n'
        + f'environments = ["dev"]\ndeploy = "{deploy}"\n'
    )
    assert shipdeck("run", "box").returncode == 0
    shown = on_terminal(shipdeck, "deploy", "web", "latest", "--env", "dev")
    assert b"deploy | before\x1b[31mred\x1b[0mafter" in shown
    for sequence in DRIVES_THE_TERMINAL:
        assert sequence not in shown, sequence
