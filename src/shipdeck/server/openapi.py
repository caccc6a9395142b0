"""The API schema as a stable JSON document (served at /v1/openapi.json, kept in docs/)."""

from __future__ import annotations

import json
from typing import Any

from shipdeck.server.app import create_app


def openapi_schema() -> dict[str, Any]:
    return create_app(None).openapi()


def openapi_text() -> str:
    return json.dumps(openapi_schema(), indent=2, sort_keys=True) + "\n"
