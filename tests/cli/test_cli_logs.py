"""`shipdeck logs` of a task that prints terminal control sequences, through a real daemon:
on a terminal only colours get through, into a pipe only text, `--raw` as printed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.cli.conftest import Shipdeck
from tests.cli.test_cli_runs import one_line_error
from tests.cli.test_tui_terminal import SHIPDECK, Terminal, terminal_env

HOSTILE = r"""
import sys
out = sys.stdout.buffer
out.write(b"\x1b]0;pwned title\x07\x1b[2J\x1b[H\x1b[?1049h\x1bc")
out.write(b"\x1b[31mFAILED\x1b[0m test_x \x1b[8mhidden\x1b[0m \x1b[5mblink\x1b[0m\n")
out.write(b"progress 10%\rprogress \x1b[32m100%\n")
out.write(b"bell\x07 \xc2\x9b2J c1 \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ end\n")
out.flush()
"""

WORKSPACE = """
[pipelines.hostile]
[pipelines.hostile.tasks.print]
run = "python3 hostile.py"
"""

TEXT = ["FAILED test_x hidden blink", "progress 100%", "bell  c1 link end"]
DRIVES_A_TERMINAL = [b"\x1b]", b"\x1b[2J", b"\x1b[H", b"\x1b[?1049h", b"\x1bc", b"\x07", b"\x9b"]


@pytest.fixture
def hostile(shipdeck_daemon: Shipdeck) -> Shipdeck:
    (shipdeck_daemon.root / "shipdeck.toml").write_text(WORKSPACE)
    (shipdeck_daemon.root / "hostile.py").write_text(HOSTILE)
    result = shipdeck_daemon("run", "hostile")
    assert result.returncode == 0, result.stderr
    return shipdeck_daemon


def logs_bytes(shipdeck: Shipdeck, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "shipdeck", "-C", str(shipdeck.root), "logs", "last", *args],
        capture_output=True,
        env=shipdeck.env(),
        timeout=60,
    )


def test_on_a_terminal_only_safe_colours_reach_it(hostile: Shipdeck) -> None:
    terminal = Terminal(
        [str(SHIPDECK), "-C", str(hostile.root), "logs", "last"], terminal_env(hostile)
    )
    try:
        assert terminal.wait_exit() == 0
    finally:
        terminal.close()
    written = terminal.screen
    for sequence in DRIVES_A_TERMINAL:
        assert sequence not in written
    assert b"\x1b[8m" not in written and b"\x1b[5m" not in written  # no hidden text, no blink
    assert b"\x1b[31mFAILED\x1b[0m test_x" in written  # red FAILED stays red
    assert b"progress \x1b[32m100%\x1b[0m" in written  # and a colour left on is reset
    plain = written.replace(b"\x1b[31m", b"").replace(b"\x1b[32m", b"").replace(b"\x1b[0m", b"")
    assert plain.decode().splitlines() == TEXT


def test_into_a_pipe_plain_text_and_raw_as_printed(hostile: Shipdeck) -> None:
    piped = logs_bytes(hostile)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.decode().splitlines() == TEXT  # what grep sees is what was shown

    raw = logs_bytes(hostile, "--raw")
    assert raw.returncode == 0, raw.stderr
    log = next((hostile.root / ".shipdeck" / "logs").glob("*/print.log")).read_bytes()
    printed = [line[27:] for line in log.split(b"\n")[:-1]]
    assert raw.stdout.split(b"\n")[:-1] == printed
    assert b"\x1b]0;pwned title\x07" in raw.stdout


def test_raw_on_a_terminal_is_refused(hostile: Shipdeck) -> None:
    terminal = Terminal(
        [str(SHIPDECK), "-C", str(hostile.root), "logs", "last", "--raw"], terminal_env(hostile)
    )
    try:
        assert terminal.wait_exit() == 2
    finally:
        terminal.close()
    assert b"pwned" not in terminal.screen
    message = one_line_error(terminal.screen.decode())
    assert "--raw" in message and "not a terminal" in message
