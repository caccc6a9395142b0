"""Deployments and the model registry: targets, gates, claims, the ledger, and the automatic
half (scheduled health checks, promotion policies). Built on the run engine (engine/runs)."""
