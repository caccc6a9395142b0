"""Suite-wide defaults.

Commands started by tests run pipelines in-process unless a test asks for the daemon
explicitly: a daemon left behind by a test would outlive the suite.
"""

from __future__ import annotations

import os

os.environ.setdefault("SHIPDECK_IN_PROCESS", "1")
