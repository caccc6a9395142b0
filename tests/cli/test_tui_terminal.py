"""The real `shipdeck` executable opening the TUI in an 80x24 pseudo-terminal, as an operator
over SSH gets it: attached to the workspace daemon, first frame with data, `q` to leave."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from tests.cli.conftest import Shipdeck

SHIPDECK = Path(sys.executable).parent / "shipdeck"
LEAVE_ALTERNATE_SCREEN = b"\x1b[?1049l"


class Terminal:
    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.process = subprocess.Popen(
            command, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
        )
        os.close(slave)
        self.screen = b""

    def wait_for(self, *texts: bytes, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not all(text in self.screen for text in texts):
            if time.monotonic() > deadline:
                tail = self.screen[-600:].decode(errors="replace")
                raise AssertionError(f"never drew {texts!r}; last output: {tail!r}")
            if not self.read(0.2):
                assert self.process.poll() is None, f"exited with {self.process.returncode}"

    def read(self, wait: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], wait)
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the program closed its side
            return False
        self.screen += data
        return bool(data)

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def wait_exit(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self.read(0.1)
        while self.read(0.05):  # what it wrote on the way out
            pass
        return self.process.wait(timeout=1)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


def test_shipdeck_opens_on_the_daemon_and_quits_cleanly(shipdeck_daemon: Shipdeck) -> None:
    failed = shipdeck_daemon("run", "build", "-p", "fail=true")
    assert failed.returncode == 1, failed.stderr
    terminal = Terminal(
        [str(SHIPDECK), "-C", str(shipdeck_daemon.root)], terminal_env(shipdeck_daemon)
    )
    try:
        # The header's link state, the failure (newest first) and the never-run pipeline.
        terminal.wait_for(b"live", b"Failures", b"test: exit 3", b"never run")
        terminal.press(b"q")
        assert terminal.wait_exit() == 0
        assert LEAVE_ALTERNATE_SCREEN in terminal.screen  # the shell's screen is given back
        assert b"Traceback" not in terminal.screen
    finally:
        terminal.close()


def terminal_env(shipdeck: Shipdeck) -> dict[str, str]:
    env = shipdeck.env()
    env["TERM"] = "xterm-256color"
    env["SHIPDECK_CONFIG"] = os.devnull
    return env


def test_shipdeck_starts_a_daemon_that_is_not_running_and_draws_its_data(
    shipdeck_daemon: Shipdeck,
) -> None:
    """After an idle exit: the daemon boots while the TUI builds its screens."""
    assert shipdeck_daemon("runner", "status").returncode == 1  # nothing running yet
    terminal = Terminal(
        [str(SHIPDECK), "-C", str(shipdeck_daemon.root)], terminal_env(shipdeck_daemon)
    )
    try:
        terminal.wait_for(b"live", b"Pipelines", b"never run")
        terminal.press(b"q")
        assert terminal.wait_exit() == 0
    finally:
        terminal.close()
    assert shipdeck_daemon("runner", "status").returncode == 0  # it outlives the TUI


def test_a_daemon_that_cannot_start_is_shown_with_its_reason(shipdeck_daemon: Shipdeck) -> None:
    env = terminal_env(shipdeck_daemon)
    env["SHIPDECK_IDLE_EXIT"] = "soon"  # the daemon refuses to start on it
    terminal = Terminal([str(SHIPDECK), "-C", str(shipdeck_daemon.root)], env)
    try:
        terminal.wait_for(b"offline", b"Loading", b"failed", b"SHIPDECK_IDLE_EXIT")
        terminal.press(b"q")
        assert terminal.wait_exit() == 0
        assert b"Traceback" not in terminal.screen
    finally:
        terminal.close()


def test_a_broken_file_does_not_lock_the_operator_out_of_a_running_daemon(
    shipdeck_daemon: Shipdeck,
) -> None:
    """Someone is half-way through editing shipdeck.toml: the TUI still opens on the daemon
    (its last good configuration), says what is wrong with the file, and starts nothing."""
    assert shipdeck_daemon("runs").returncode == 0  # the daemon is up
    path = shipdeck_daemon.root / "shipdeck.toml"
    path.write_text(path.read_text() + "garbage = = 1\n")
    terminal = Terminal(
        [str(SHIPDECK), "-C", str(shipdeck_daemon.root)], terminal_env(shipdeck_daemon)
    )
    try:
        terminal.wait_for(b"live", b"never run", b"does not load", b"invalid TOML")
        terminal.press(b"q")
        assert terminal.wait_exit() == 0
        assert b"Traceback" not in terminal.screen
    finally:
        terminal.close()


def test_leaving_the_demo_stops_its_daemon(tmp_path: Path) -> None:
    """The demo's drift monitor keeps a daemon busy for ever (a daemon with schedules does
    not idle out): quitting `shipdeck demo` must leave nothing running in the background."""
    root = tmp_path / "demo"
    demo = Shipdeck(root, daemon=True)
    terminal = Terminal([str(SHIPDECK), "demo", str(root)], terminal_env(demo))
    try:
        terminal.wait_for(b"live", b"Pipelines")
        assert demo("runner", "status").returncode == 0  # the demo's daemon is up
        terminal.press(b"q")
        code = terminal.wait_exit()
        assert code == 0, terminal.screen[-800:].decode(errors="replace")
        assert b"stopped the demo's runner" in terminal.screen
    finally:
        terminal.close()
        demo("serve", "--stop", "--force")
    assert demo("runner", "status").returncode == 1
