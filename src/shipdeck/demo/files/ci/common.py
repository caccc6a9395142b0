"""Helpers shared by the CI scripts: params from shipdeck, metrics back to it."""

import json
import os
import re
import sys

APP_DIR = "app"
PACKAGE = "shorturl"
BUILD_DIR = os.path.join("build", PACKAGE)
DIST_DIR = "dist"
VERSION_PATTERN = re.compile(r"^[0-9]+(\.[0-9]+){1,3}([.+-][0-9A-Za-z.]+)?$")


def param(name, default):
    """A run param: from the JSON file shipdeck writes, else its env var, else `default`."""
    path = os.environ.get("SHIPDECK_PARAMS")
    if path:
        with open(path, encoding="utf-8") as handle:
            params = json.load(handle)
        if name in params:
            return params[name]
    return os.environ.get("SHIPDECK_PARAM_" + name.upper(), default)


def version():
    value = str(param("version", "0.0.0"))
    if not VERSION_PATTERN.match(value):
        fail(f"param version={value!r} is not a version like 1.4.0 or 2.0.0-rc.1")
    return value


def metric(key, value, step=None):
    suffix = "" if step is None else f" step={step}"
    print(f"::metric {key}={value}{suffix}", flush=True)


def fail(message):
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(1)
