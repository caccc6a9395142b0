"""Content-addressed artifact storage: .shipdeck/artifacts/<sha256>, written once, never changed."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

_CHUNK = 1 << 20


def artifacts_dir(state_dir: Path) -> Path:
    return state_dir / "artifacts"


def artifact_path(state_dir: Path, sha256: str) -> Path:
    return artifacts_dir(state_dir) / sha256


def store_artifact(state_dir: Path, source: Path) -> str:
    """Copy `source` into the store (hashing while copying) and return its sha256.

    The copy goes to a temporary name and is renamed into place, so a crash never leaves a
    partial file under a digest name. Raises OSError when `source` cannot be read.
    """
    directory = artifacts_dir(state_dir)
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    temporary = directory / f".incoming-{os.getpid()}-{id(digest)}"
    try:
        with source.open("rb") as reader, temporary.open("wb") as writer:
            while chunk := reader.read(_CHUNK):
                digest.update(chunk)
                writer.write(chunk)
            writer.flush()
            os.fsync(writer.fileno())
        sha256 = digest.hexdigest()
        final = directory / sha256
        if final.exists():
            temporary.unlink()
        else:
            temporary.chmod(0o444)
            temporary.rename(final)
        return sha256
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
