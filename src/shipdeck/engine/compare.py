"""Side-by-side comparison: the pure function lives in `shipdeck.model.compare`, so runner
kinds that may not import the engine (MLflow, Prefect) compare the same way."""

from __future__ import annotations

from shipdeck.model.compare import compare, metric_direction

__all__ = ["compare", "metric_direction"]
