"""What changed in an MLflow server since the last look: the runner's events, by polling.

One look is three small requests whatever the server holds: the first page of experiments,
the newest 100 runs of those experiments, the first page of registered models (with their
aliases and shipdeck's alias records, which MLflow returns with the model). The first look
only takes note; later looks report runs that appeared or changed (status, end, latest
metrics), versions registered and alias moves (shipdeck's own records, and moves noticed
outside shipdeck). A run that changes while older than the newest 100 is not noticed until a
front end asks for it: this is polling's price, documented in docs/mlflow.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shipdeck.runners.mlflow import alias_log
from shipdeck.runners.mlflow.alias_log import AliasRecord
from shipdeck.runners.mlflow.api import PAGE, MlflowApi, MlflowRun, ModelVersion, RegisteredModel


@dataclass(frozen=True)
class Changes:
    runs: list[MlflowRun] = field(default_factory=list)
    """Runs new or changed since the last look, oldest first."""
    versions: list[ModelVersion] = field(default_factory=list)
    """Versions registered since the last look (the newest of each model)."""
    aliases: list[AliasRecord] = field(default_factory=list)
    """Alias moves since the last look, oldest first."""

    def __bool__(self) -> bool:
        return bool(self.runs or self.versions or self.aliases)


def _run_signature(run: MlflowRun) -> tuple[object, ...]:
    return (run.info.status, run.info.end_time, tuple(sorted(run.metrics.items())))


def _alias_key(record: AliasRecord) -> tuple[object, ...]:
    return (record.key, record.alias, record.from_version, record.to_version, record.outside)


class Watcher:
    def __init__(self) -> None:
        self._runs: dict[str, tuple[object, ...]] | None = None
        self._latest: dict[str, int] = {}
        self._moves: dict[str, set[tuple[object, ...]]] = {}

    async def look(self, api: MlflowApi) -> Changes:
        experiments = (await api.experiments()).items
        ids = [experiment.experiment_id for experiment in experiments]
        runs: list[MlflowRun] = (await api.runs(ids, max_results=PAGE)).items if ids else []
        models: list[RegisteredModel] = (await api.registered_models()).items
        first = self._runs is None
        changed_runs = self._runs_changed(runs)
        versions, moves = self._registry_changed(models, first)
        if first:
            return Changes()
        return Changes(changed_runs, versions, moves)

    def _runs_changed(self, runs: list[MlflowRun]) -> list[MlflowRun]:
        before = self._runs or {}
        now = {run.info.run_id: _run_signature(run) for run in runs}
        # Keep what older looks saw of runs now beyond the newest page: they left the window,
        # they did not change.
        self._runs = {**before, **now}
        changed = [run for run in runs if before.get(run.info.run_id) != now[run.info.run_id]]
        return list(reversed(changed))

    def _registry_changed(
        self, models: list[RegisteredModel], first: bool
    ) -> tuple[list[ModelVersion], list[AliasRecord]]:
        versions: list[ModelVersion] = []
        moves: list[AliasRecord] = []
        for model in models:
            numbers = [int(v.version) for v in model.latest_versions if v.version.isdigit()]
            latest = max(numbers, default=0)
            if latest > self._latest.get(model.name, 0) and not first:
                versions.extend(v for v in model.latest_versions if v.version == str(latest))
            self._latest[model.name] = latest
            seen = self._moves.setdefault(model.name, set())
            history = alias_log.history(model)
            fresh = [record for record in history if _alias_key(record) not in seen]
            seen.clear()
            seen.update(_alias_key(record) for record in history)
            moves.extend(reversed(fresh))
        return versions, moves
