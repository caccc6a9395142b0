"""Where a runner listens and who may talk to it: addresses, sockets, tokens.

The Unix socket is bound under a umask so it is never reachable by others, not even briefly;
file permissions are its auth. TCP needs a bearer token unless explicitly made insecure on a
loopback address.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import stat
from dataclasses import dataclass
from pathlib import Path

from shipdeck.errors import Conflict, InvalidInput, Refused

UNIX_PATH_MAX = 107
"""sun_path holds 108 bytes including the terminating NUL on Linux."""


@dataclass(frozen=True)
class Listen:
    """`unix:PATH` or `HOST:PORT` (IPv6 hosts in brackets: `[::1]:8000`)."""

    path: Path | None = None
    host: str = ""
    port: int = 0

    @property
    def is_unix(self) -> bool:
        return self.path is not None

    def display(self) -> str:
        if self.path is not None:
            return f"unix:{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_listen(text: str) -> Listen:
    if text.startswith("unix:"):
        path = text[len("unix:") :]
        if not path:
            raise InvalidInput("--listen unix:PATH needs a path")
        return Listen(path=Path(path).absolute())
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise InvalidInput(f"--listen expects unix:PATH or HOST:PORT, got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        port = int(port_text)
    except ValueError:
        raise InvalidInput(f"--listen: port must be a number, got {port_text!r}") from None
    if not 0 <= port <= 65535:
        raise InvalidInput(f"--listen: port must be 0-65535, got {port}")
    return Listen(host=host, port=port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_policy(listen: Listen, token: str | None, insecure: bool) -> None:
    """Refuse listeners that would let strangers drive the runner."""
    if listen.is_unix or token is not None:
        return
    if not insecure:
        raise Refused(
            f"listening on {listen.display()} needs --token-file "
            "(or --insecure, for a loopback address only)"
        )
    if not is_loopback(listen.host):
        raise Refused(f"--insecure is only allowed on a loopback address, not {listen.host}")


def socket_is_live(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(str(path))
    except OSError:
        return False
    else:
        return True
    finally:
        probe.close()


def bind_unix(path: Path) -> socket.socket:
    if len(os.fsencode(path)) > UNIX_PATH_MAX:
        raise InvalidInput(
            f"socket path {path} is longer than {UNIX_PATH_MAX} bytes; choose a shorter one"
        )
    if path.exists() or path.is_symlink():
        if not stat.S_ISSOCK(path.lstat().st_mode):
            raise Refused(f"{path} exists and is not a socket; not replacing it")
        if socket_is_live(path):
            raise Conflict(f"a runner is already listening on {path}")
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o177)
    try:
        sock.bind(str(path))
    except OSError as error:
        sock.close()
        raise InvalidInput(f"cannot listen on {path}: {error.strerror}") from None
    finally:
        os.umask(previous)
    path.chmod(0o600)
    sock.listen(128)
    sock.setblocking(False)
    return sock


def bind_tcp(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, backlog=128, reuse_port=False)
    except OSError as error:
        raise InvalidInput(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.setblocking(False)
    return sock


def bind(listen: Listen) -> socket.socket:
    if listen.path is not None:
        return bind_unix(listen.path)
    return bind_tcp(listen.host, listen.port)


def bound_url(listen: Listen, sock: socket.socket, tls: bool) -> str:
    """The URL clients use for what `sock` is bound to (the real port when 0 was asked)."""
    if listen.path is not None:
        return f"unix:{listen.path}"
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}"


def remove_socket(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
