"""Build: copy the package to build/, stamp its version, byte-compile it reproducibly."""

import os
import py_compile
import shutil

from common import APP_DIR, BUILD_DIR, PACKAGE, metric, version


def main():
    release = version()
    if os.path.isdir(BUILD_DIR):
        shutil.rmtree(BUILD_DIR)
    shutil.copytree(
        os.path.join(APP_DIR, PACKAGE),
        BUILD_DIR,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    init = os.path.join(BUILD_DIR, "__init__.py")
    with open(init, encoding="utf-8") as handle:
        source = handle.read()
    stamped = source.replace('__version__ = "0.0.0+dev"', f'__version__ = "{release}"')
    if stamped == source:
        raise SystemExit(f"error: no __version__ placeholder in {init}")
    with open(init, "w", encoding="utf-8") as handle:
        handle.write(stamped)
    modules = sorted(name for name in os.listdir(BUILD_DIR) if name.endswith(".py"))
    for name in modules:
        path = os.path.join(BUILD_DIR, name)
        # Hash-checked .pyc files do not embed a timestamp, so the archive is reproducible.
        py_compile.compile(
            path,
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
        )
        print(f"compiled {path}")
    metric("modules", len(modules))
    print(f"built {PACKAGE} {release} in {BUILD_DIR}/")


if __name__ == "__main__":
    main()
