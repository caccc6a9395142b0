"""Ids of runs and model versions: opaque strings, whatever runner made them."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator


def _id_text(value: object) -> object:
    """A JSON number read as its digits: causes stored, and servers answering, from before
    ids were strings wrote `12`, not `"12"`."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Id = Annotated[str, BeforeValidator(_id_text)]
"""An opaque id: a run's (`"12"` for the embedded engine, a Prefect flow-run UUID, an MLflow
run id) or a model version's (`"3"`). Carried as it is; only its runner reads meaning into it."""


def run_label(run_id: str) -> str:
    """How a person reads a run known only by its id: `#12` for a run number, any other id
    as it is. A Run carries its own `label` (a runner may choose another)."""
    return f"#{run_id}" if run_id.isascii() and run_id.isdigit() else run_id


def version_label(version: str) -> str:
    """How a person reads a model version: `v3`."""
    return f"v{version}"
