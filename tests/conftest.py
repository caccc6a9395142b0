"""Suite-wide defaults.

Commands started by tests run pipelines in-process unless a test asks for the daemon
explicitly: a daemon left behind by a test would outlive the suite.
"""

from __future__ import annotations

import os

os.environ.setdefault("SHIPDECK_IN_PROCESS", "1")
# The user config of whoever runs the suite (its runners, keymap, theme) stays out of the tests;
# tests that need one point SHIPDECK_CONFIG at their own file.
os.environ.setdefault("SHIPDECK_CONFIG", os.devnull + ".shipdeck-tests-have-no-config.toml")
