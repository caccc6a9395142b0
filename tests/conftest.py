"""Suite-wide defaults.

Commands started by tests run pipelines in-process unless a test asks for the daemon
explicitly: a daemon left behind by a test would outlive the suite.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("SHIPDECK_IN_PROCESS", "1")
# The user config of whoever runs the suite (its runners, keymap, theme) stays out of the tests;
# tests that need one point SHIPDECK_CONFIG at their own file.
os.environ.setdefault("SHIPDECK_CONFIG", os.devnull + ".shipdeck-tests-have-no-config.toml")


# Under pytest-xdist (`make test` runs the suite on several workers), the tests of one real
# external server share a worker, so each server starts once per session, not once per worker.
SERVER_GROUPS = {"mlflow": "tests/mlflow/", "prefect": "tests/prefect/"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        where = item.path.as_posix()
        for group, folder in SERVER_GROUPS.items():
            if f"/{folder}" in where:
                item.add_marker(pytest.mark.xdist_group(group))
