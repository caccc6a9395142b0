"""docs/openapi.json is the schema the server serves; regenerate with `shipdeck serve --openapi`."""

from __future__ import annotations

import json
from pathlib import Path

from shipdeck.server.openapi import openapi_schema, openapi_text

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_exported_schema_is_current() -> None:
    assert DOC.read_text() == openapi_text(), (
        "docs/openapi.json is stale: run `shipdeck serve --openapi > docs/openapi.json`"
    )


def test_schema_declares_bearer_auth_and_every_area() -> None:
    schema = openapi_schema()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    tags = {tag for op in schema["paths"].values() for o in op.values() for tag in o["tags"]}
    assert tags == {
        "meta",
        "pipelines",
        "runs",
        "events",
        "models",
        "deployments",
        "schedules",
        "monitors",
    }
    assert json.loads(DOC.read_text())["info"]["title"] == "shipdeck runner"
