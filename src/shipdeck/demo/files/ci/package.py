"""Package build/ into dist/<name>-<version>.tar.gz (reproducible) with a .sha256 beside it."""

import gzip
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile

from common import BUILD_DIR, DIST_DIR, PACKAGE, fail, metric, version


def deterministic(info):
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o755 if info.isdir() else 0o644
    return info


def archive_bytes(release):
    buffer = io.BytesIO()
    # Nested rather than parenthesized `with`: the demo runs on any python3, not only 3.10+.
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped:  # noqa: SIM117
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for directory, subdirs, files in os.walk(BUILD_DIR):
                subdirs.sort()
                for name in sorted(files):
                    path = os.path.join(directory, name)
                    arcname = os.path.join(
                        f"{PACKAGE}-{release}", os.path.relpath(path, os.path.dirname(BUILD_DIR))
                    )
                    tar.add(path, arcname=arcname, filter=deterministic)
    return buffer.getvalue()


def write_atomically(path, data):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def smoke_test(archive, release):
    """Unpack the archive somewhere else and import the package from it."""
    with tempfile.TemporaryDirectory() as scratch:
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(scratch, filter="data")
            else:  # Python < 3.11.4: the archive is our own, just written
                tar.extractall(scratch)
        root = os.path.join(scratch, f"{PACKAGE}-{release}")
        probe = f"import {PACKAGE}; print({PACKAGE}.__version__)"
        found = subprocess.run(
            [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=False
        )
    if found.returncode != 0 or found.stdout.strip() != release:
        fail(f"smoke test: import from {archive} gave {found.stdout.strip()!r} {found.stderr}")
    print(f"smoke test: {PACKAGE}.__version__ == {release!r}")


def main():
    release = version()
    if not os.path.isdir(BUILD_DIR):
        fail(f"{BUILD_DIR}/ is missing: run the build task first")
    os.makedirs(DIST_DIR, exist_ok=True)
    data = archive_bytes(release)
    archive = os.path.join(DIST_DIR, f"{PACKAGE}-{release}.tar.gz")
    digest = hashlib.sha256(data).hexdigest()
    write_atomically(archive, data)
    write_atomically(archive + ".sha256", f"{digest}  {os.path.basename(archive)}\n".encode())
    # A fixed name too: the `api` service deploys this file (snapshotted per run by shipdeck).
    write_atomically(os.path.join(DIST_DIR, f"{PACKAGE}.tar.gz"), data)
    print(f"wrote {archive} ({len(data)} bytes)")
    print(f"sha256 {digest}")
    smoke_test(archive, release)
    metric("archive_bytes", len(data))


if __name__ == "__main__":
    main()
