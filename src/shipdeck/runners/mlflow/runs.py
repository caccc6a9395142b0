"""Experiments and runs of an MLflow server, as pages loaded on demand.

A list of runs is one `runs/search` of at most 100 (MLflow's search of 100 runs takes ~0.2 s,
of 1,000 ~2 s): never every run. Paging backwards (`before=RUN_ID`) continues MLflow's own
page token when the run ended a page this client served, else searches the runs that started
before it. Filters go to MLflow's search grammar (pipeline, status, `key=value` params, words
in the run name); nothing is filtered here after the fact, so a page is always full.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from typing import Unpack

from shipdeck.errors import InvalidInput, NotFound
from shipdeck.model import RunStatus
from shipdeck.model.options import RUN_LIMIT, RunFilter
from shipdeck.runners.mlflow import mapping
from shipdeck.runners.mlflow.api import (
    PAGE,
    Experiment,
    Metric,
    MlflowApi,
    MlflowRun,
    every_page,
)

EXPERIMENTS_TTL = 30.0
"""Seconds experiment names are kept: they change rarely, and every run needs its name."""
CURSORS = 256
"""Page tokens remembered (by the last run of a page), so `before=` continues a search."""
RUN_ID = re.compile(r"^[0-9a-f]{32}$")
LABEL = re.compile(r"^[0-9a-f]{4,31}$")
RESOLVE_PAGES = 5
"""Pages of the newest runs searched for a short id (a label): at most 500 runs."""


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def search_filter(status: RunStatus | None, text: str | None) -> str:
    """MLflow's filter for shipdeck's: `#RUN` is the run of that id or label (its first hex
    digits), `key=value` a param whose value begins with `value` (ignoring case; MLflow's
    LIKE has no escape, so a `%` or `_` in it matches any text or character), any other
    word is looked for in the run's name (ignoring case)."""
    clauses: list[str] = []
    if status is not None:
        if status not in mapping.STATUS_FILTER:
            raise InvalidInput(f"status {status.value!r}: MLflow runs are never {status.value}")
        clauses.append(f"attributes.status = {_quote(mapping.STATUS_FILTER[status])}")
    for word in (text or "").split():
        ref = word.removeprefix("#").lower()
        if word.startswith("#") and (RUN_ID.match(ref) or LABEL.match(ref)):
            clauses.append(f"attributes.run_id LIKE {_quote(f'{ref}%')}")
            continue
        key, equals, value = word.partition("=")
        if equals and key:
            if not re.fullmatch(r"[A-Za-z0-9_.\-/ ]+", key):
                raise InvalidInput(f"filter {word!r}: a param name is letters, digits, _.-/")
            clauses.append(f"params.`{key}` ILIKE {_quote(f'{value}%')}")
        else:
            clauses.append(f"attributes.run_name ILIKE {_quote(f'%{word}%')}")
    return " and ".join(clauses)


class RunReader:
    """Experiments (cached briefly) and pages of runs of one MLflow server."""

    def __init__(self, api: MlflowApi) -> None:
        self.api = api
        self._experiments: tuple[float, list[Experiment]] | None = None
        self._cursors: OrderedDict[tuple[object, ...], str] = OrderedDict()

    async def experiments(self, *, fresh: bool = False) -> list[Experiment]:
        cached = self._experiments
        if cached is not None and not fresh and time.monotonic() - cached[0] < EXPERIMENTS_TTL:
            return cached[1]
        found: list[Experiment] = await every_page(self.api.experiments)
        self._experiments = (time.monotonic(), found)
        return found

    async def experiment_name(self, experiment_id: str) -> str:
        for fresh in (False, True):
            for experiment in await self.experiments(fresh=fresh):
                if experiment.experiment_id == experiment_id:
                    return experiment.name
        return experiment_id  # deleted since: its id is all there is to show

    async def experiment_ids(self, pipeline: str | None) -> list[str]:
        if pipeline is None:
            return [e.experiment_id for e in await self.experiments()]
        for fresh in (False, True):
            for experiment in await self.experiments(fresh=fresh):
                if experiment.name == pipeline:
                    return [experiment.experiment_id]
        raise NotFound(f"runner {self.api.name} (mlflow): no experiment named {pipeline!r}")

    async def names(self) -> dict[str, str]:
        return {e.experiment_id: e.name for e in await self.experiments()}

    async def search(self, **filters: Unpack[RunFilter]) -> list[MlflowRun]:
        """Runs newest first, `limit` at most, older than `before` when given."""
        limit, before = filters.get("limit", RUN_LIMIT), filters.get("before")
        ids = await self.experiment_ids(filters.get("pipeline"))
        if not ids or limit <= 0:
            return []
        query = search_filter(filters.get("status"), filters.get("text"))
        key = (tuple(ids), query)
        token: str | None = None
        skip_through: str | None = None
        started = 0
        if before is not None:
            token = self._cursors.get((*key, before))
            if token is None:
                anchor = await self.api.run(before)
                started = anchor.info.start_time or 0
                older = f"attributes.start_time <= {started}"
                query = f"{query} and {older}" if query else older
                skip_through = before
        found: list[MlflowRun] = []
        while len(found) < limit:
            want = min(PAGE, limit - len(found) + (1 if skip_through else 0))
            page = await self.api.runs(ids, page_token=token, max_results=want, search=query)
            items = page.items
            if skip_through is not None:
                # Runs that started in the same millisecond as the anchor come before it or
                # after it in MLflow's order; keep only those after.
                ids_seen = [run.info.run_id for run in items]
                if skip_through in ids_seen:
                    items = items[ids_seen.index(skip_through) + 1 :]
                    skip_through = None
                else:
                    items = [r for r in items if (r.info.start_time or 0) < started]
            found.extend(items)
            token = page.next_page_token
            if found and token:
                self._remember((*key, found[-1].info.run_id), token)
            if not token:
                break
        return found[:limit]

    def _remember(self, key: tuple[object, ...], token: str) -> None:
        self._cursors[key] = token
        self._cursors.move_to_end(key)
        while len(self._cursors) > CURSORS:
            self._cursors.popitem(last=False)

    async def resolve(self, ref: str) -> str:
        """A full MLflow run id, or a run's label (a prefix of its id) among the newest runs."""
        text = ref.strip().removeprefix("#").lower()
        if RUN_ID.match(text):
            await self.api.run(text)
            return text
        if not LABEL.match(text):
            raise InvalidInput(
                f"run reference {ref!r}: expected a run's MLflow id (or its first 8 hex digits),"
                " or 'last'"
            )
        token: str | None = None
        ids = await self.experiment_ids(None)
        for _ in range(RESOLVE_PAGES):
            page = await self.api.runs(ids, page_token=token)
            matches: list[str] = [
                r.info.run_id for r in page.items if r.info.run_id.startswith(text)
            ]
            if len(matches) > 1:
                raise InvalidInput(f"run reference {ref!r} is ambiguous: give more digits")
            if matches:
                return matches[0]
            token = page.next_page_token
            if not token:
                break
        raise NotFound(f"runner {self.api.name} (mlflow): no run {ref!r} among the newest runs")

    async def children(self, parent: MlflowRun) -> list[MlflowRun]:
        """The parent's child runs (`mlflow.parentRunId`), the first 100."""
        query = f"tags.`mlflow.parentRunId` = {_quote(parent.info.run_id)}"
        page = await self.api.runs([parent.info.experiment_id], search=query)
        return page.items

    async def children_of(self, parents: list[MlflowRun]) -> dict[str, list[MlflowRun]]:
        """The child runs of several runs: one search of their experiments' child runs when
        those fit a page, else a search per parent."""
        if not parents:
            return {}
        experiments = sorted({p.info.experiment_id for p in parents})
        query = "tags.`mlflow.parentRunId` IS NOT NULL"
        page = await self.api.runs(experiments, search=query, max_results=PAGE)
        if page.next_page_token:
            found = await asyncio.gather(*(self.children(parent) for parent in parents))
            return {p.info.run_id: kids for p, kids in zip(parents, found, strict=True)}
        wanted: dict[str, list[MlflowRun]] = {p.info.run_id: [] for p in parents}
        for child in page.items:
            if child.parent_id in wanted:
                wanted[child.parent_id].append(child)
        return wanted

    async def histories(self, found: MlflowRun) -> list[Metric]:
        """Every metric of the run by step, one request per metric, at once."""
        keys = list(found.metrics)
        values = await asyncio.gather(
            *(self.api.metric_history(found.info.run_id, k) for k in keys)
        )
        return [metric for history in values for metric in history]

    async def by_ids(self, run_ids: list[str]) -> dict[str, MlflowRun]:
        """Runs by id, 100 to a search (model versions' source runs)."""
        wanted = sorted(set(filter(None, run_ids)))
        if not wanted:
            return {}
        experiments = await self.experiment_ids(None)
        found: dict[str, MlflowRun] = {}
        for start in range(0, len(wanted), PAGE):
            chunk = wanted[start : start + PAGE]
            query = "attributes.run_id IN (" + ", ".join(_quote(i) for i in chunk) + ")"
            page = await self.api.runs(experiments, search=query, max_results=PAGE)
            found.update((run.info.run_id, run) for run in page.items)
        return found
