"""MLflow's REST API (`/api/2.0/mlflow/...`) over httpx: the calls shipdeck makes, typed.

Nothing here knows shipdeck's runner contract; the MLflow runner maps these onto it. Every
failure is a ShipdeckError with one line naming the runner: unreachable or timed out
(Unavailable), 401/403 (Unauthorized), 404 or RESOURCE_DOES_NOT_EXIST (NotFound), 429 (rate
limited: Unavailable, with the server's Retry-After), anything else with MLflow's own message.
Lists come a page at a time (MLflow's `page_token`); nothing here pulls a whole history.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from shipdeck.errors import InvalidInput, NotFound, ShipdeckError, Unauthorized, Unavailable
from shipdeck.runners.mlflow.freshness import Breaker

PAGE = 100
"""Runs and versions per page: MLflow's search of 100 runs takes ~0.2 s, 1,000 ~2 s."""
TIMEOUT = 10.0


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class KeyValue(_Loose):
    key: str
    value: str = ""


class Metric(_Loose):
    key: str
    value: float
    timestamp: int = 0
    step: int = 0
    run_id: str | None = None


class Experiment(_Loose):
    experiment_id: str
    name: str
    lifecycle_stage: str = "active"
    creation_time: int | None = None
    last_update_time: int | None = None
    tags: list[KeyValue] = []


class RunInfo(_Loose):
    run_id: str
    experiment_id: str
    run_name: str = ""
    user_id: str = ""
    status: str = "RUNNING"
    start_time: int | None = None
    end_time: int | None = None
    artifact_uri: str = ""
    lifecycle_stage: str = "active"


class RunData(_Loose):
    metrics: list[Metric] = []
    params: list[KeyValue] = []
    tags: list[KeyValue] = []


class MlflowRun(_Loose):
    info: RunInfo
    data: RunData = RunData()

    @property
    def tags(self) -> dict[str, str]:
        return {tag.key: tag.value for tag in self.data.tags}

    @property
    def params(self) -> dict[str, str]:
        return {param.key: param.value for param in self.data.params}

    @property
    def metrics(self) -> dict[str, float]:
        """The latest value of each metric."""
        return {metric.key: metric.value for metric in self.data.metrics}

    @property
    def parent_id(self) -> str | None:
        return self.tags.get("mlflow.parentRunId")


class Alias(_Loose):
    alias: str
    version: str


class ModelVersion(_Loose):
    name: str
    version: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    source: str = ""
    run_id: str = ""
    status: str = "READY"
    description: str = ""
    tags: list[KeyValue] = []
    aliases: list[str] = []


class RegisteredModel(_Loose):
    name: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    description: str = ""
    latest_versions: list[ModelVersion] = []
    aliases: list[Alias] = []
    tags: list[KeyValue] = []


class FileInfo(_Loose):
    path: str
    is_dir: bool = False
    file_size: int | None = None


_ITEMS = {
    "experiments/search": "experiments",
    "runs/search": "runs",
    "registered-models/search": "registered_models",
    "model-versions/search": "model_versions",
}
"""Where each search's answer lists its items."""


class Page(_Loose):
    """One page of a list and the token of the next (None on the last page)."""

    items: list[Any] = Field(default_factory=list)
    next_page_token: str | None = None


async def every_page(fetch: Callable[[str | None], Awaitable[Page]]) -> list[Any]:
    """The items of every page of a list, `fetch` asked for each page by the token of the
    one before (None: the first)."""
    found: list[Any] = []
    token: str | None = None
    while True:
        page = await fetch(token)
        found.extend(page.items)
        token = page.next_page_token
        if not token:
            return found


def auth_headers(
    token: str | None = None, username: str | None = None, password: str | None = None
) -> dict[str, str]:
    """Bearer token, or HTTP basic auth as MLflow's auth app (`mlflow server --app-name
    basic-auth`) expects."""
    if token:
        return {"Authorization": f"Bearer {token}"}
    if username is not None:
        pair = f"{username}:{password or ''}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode('ascii')}"}
    return {}


class MlflowApi:
    """One MLflow tracking server. `name` is the configured runner's, for messages."""

    def __init__(
        self,
        url: str,
        *,
        name: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        breaker: Breaker | None = None,
    ) -> None:
        self.name = name
        self.breaker = breaker or Breaker(name)
        """Offline after a failure: calls fail at once until the next try (freshness.py)."""
        self.url = url.rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=f"{self.url}/api/2.0/mlflow/",
            headers=dict(headers or {}),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport,
        )
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def quiet(self, at_most: float) -> None:
        """Until no call is in flight, or `at_most` seconds: a background read (the poll) waits
        for a front end's, as MLflow's one worker would answer them in turn."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(at_most):
                await self._idle.wait()

    async def close(self) -> None:
        await self._client.aclose()

    # Transport and errors.

    async def _call(
        self, method: str, path: str, *, params: Any = None, body: Any = None
    ) -> dict[str, Any]:
        self.breaker.check()
        self._in_flight += 1
        self._idle.clear()
        try:
            data = await self._request(method, path, params=params, body=body)
        except Unavailable as error:
            self.breaker.failed(error)
            raise
        except ShipdeckError:
            self.breaker.succeeded()  # it answered, if only to refuse
            raise
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()
        self.breaker.succeeded()
        return data

    async def _request(
        self, method: str, path: str, *, params: Any = None, body: Any = None
    ) -> dict[str, Any]:
        with self._reaching():
            response = await self._client.request(method, path, params=params, json=body)
        if response.is_success:
            try:
                data = response.json()
            except ValueError:
                raise Unavailable(
                    f"runner {self.name} (mlflow) answered {path} with something not JSON"
                ) from None
            return data if isinstance(data, dict) else {}
        raise self._error(response)

    @contextlib.contextmanager
    def _reaching(self) -> Iterator[None]:
        """Around a request: the server not reached (or too slow) as Unavailable, one line."""
        try:
            yield
        except httpx.TimeoutException:
            raise Unavailable(f"runner {self.name} (mlflow) timed out at {self.url}") from None
        except httpx.TransportError as error:
            reason = str(error) or type(error).__name__
            raise Unavailable(
                f"runner {self.name} (mlflow) is unreachable at {self.url}: {reason}"
            ) from None

    def _error(self, response: httpx.Response) -> ShipdeckError:
        code, message = "", ""
        try:
            body = response.json()
            code, message = str(body.get("error_code", "")), str(body.get("message", ""))
        except (ValueError, AttributeError):
            message = response.text.strip().splitlines()[0] if response.text.strip() else ""
        message = message or f"HTTP {response.status_code} {response.reason_phrase}"
        where = f"runner {self.name} (mlflow)"
        status = response.status_code
        if status in (401, 403) or code in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
            what = "refused the credentials" if status == 401 else "refused access"
            return Unauthorized(f"{where} {what}: {message}")
        if status == 404 or code == "RESOURCE_DOES_NOT_EXIST":
            return NotFound(f"{where}: {message}")
        if status == 429:
            wait = response.headers.get("retry-after")
            later = f"; retry after {wait} s" if wait else ""
            return Unavailable(f"{where} is rate limiting requests{later}: {message}")
        if code == "INVALID_PARAMETER_VALUE" or status == 400:
            return InvalidInput(f"{where}: {message}")
        if status >= 500:
            return Unavailable(f"{where} failed: {message}")
        return ShipdeckError(f"{where}: {message}")

    async def server_version(self) -> str:
        """MLflow's version (`GET /version`), "" when the server does not say."""
        with self._reaching():
            response = await self._client.get(f"{self.url}/version")
        if not response.is_success:
            raise self._error(response)
        text = response.text.strip()
        return text if len(text) < 40 and "\n" not in text else ""

    async def health(self) -> None:
        """Raise unless the server answers (the tracking API itself, not /health alone)."""
        await self._call("POST", "experiments/search", body={"max_results": 1})

    async def _page(
        self,
        method: str,
        path: str,
        query: dict[str, Any],
        page_token: str | None,
        kind: type[_Loose],
    ) -> Page:
        """One page of a search (`query` as the GET's params or the POST's body, with the
        page's token): its items as `kind`, under the key MLflow names after the path."""
        if page_token:
            query = {**query, "page_token": page_token}
        if method == "GET":
            data = await self._call(method, path, params=query)
        else:
            data = await self._call(method, path, body=query)
        key = _ITEMS[path]
        return Page(
            items=[kind.model_validate(i) for i in data.get(key, [])],
            next_page_token=data.get("next_page_token") or None,
        )

    # Experiments and runs.

    async def experiments(self, page_token: str | None = None) -> Page:
        body = {"max_results": PAGE, "view_type": "ACTIVE_ONLY"}
        return await self._page("POST", "experiments/search", body, page_token, Experiment)

    async def experiment_by_name(self, name: str) -> Experiment:
        data = await self._call("GET", "experiments/get-by-name", params={"experiment_name": name})
        return Experiment.model_validate(data["experiment"])

    async def runs(
        self,
        experiment_ids: list[str],
        *,
        page_token: str | None = None,
        max_results: int = PAGE,
        search: str = "",
        order_by: list[str] | None = None,
    ) -> Page:
        """Runs of the experiments, newest first, one page."""
        body: dict[str, Any] = {
            "experiment_ids": experiment_ids,
            "max_results": max_results,
            "order_by": order_by or ["attributes.start_time DESC"],
            "run_view_type": "ACTIVE_ONLY",
        }
        if search:
            body["filter"] = search
        return await self._page("POST", "runs/search", body, page_token, MlflowRun)

    async def run(self, run_id: str) -> MlflowRun:
        data = await self._call("GET", "runs/get", params={"run_id": run_id})
        return MlflowRun.model_validate(data["run"])

    async def metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every value of one metric of one run, by step (paged through)."""
        values: list[Metric] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"run_id": run_id, "metric_key": key, "max_results": 25000}
            if token:
                params["page_token"] = token
            data = await self._call("GET", "metrics/get-history", params=params)
            values.extend(Metric.model_validate(m) for m in data.get("metrics", []))
            token = data.get("next_page_token") or None
            if not token:
                return values

    async def metric_histories(
        self, run_ids: list[str], key: str, *, max_results: int = 320
    ) -> dict[str, list[Metric]]:
        """One metric of several runs (at most 100) in one call, each sampled to at most
        `max_results` points over its steps (MLflow's bulk-interval endpoint)."""
        params: list[tuple[str, str | int]] = [("run_ids", run_id) for run_id in run_ids]
        params += [("metric_key", key), ("max_results", max_results)]
        data = await self._call("GET", "metrics/get-history-bulk-interval", params=params)
        histories: dict[str, list[Metric]] = {run_id: [] for run_id in run_ids}
        for raw in data.get("metrics", []):
            metric = Metric.model_validate(raw)
            histories.setdefault(metric.run_id or "", []).append(metric)
        return histories

    async def artifacts(self, run_id: str, path: str = "") -> list[FileInfo]:
        params = {"run_id": run_id, **({"path": path} if path else {})}
        data = await self._call("GET", "artifacts/list", params=params)
        return [FileInfo.model_validate(f) for f in data.get("files", [])]

    # The model registry.

    async def registered_models(self, page_token: str | None = None) -> Page:
        query = {"max_results": PAGE}
        path = "registered-models/search"
        return await self._page("GET", path, query, page_token, RegisteredModel)

    async def registered_model(self, name: str) -> RegisteredModel:
        """The model with its aliases (which version searches do not return)."""
        data = await self._call("GET", "registered-models/get", params={"name": name})
        return RegisteredModel.model_validate(data["registered_model"])

    async def versions(self, name: str, page_token: str | None = None) -> Page:
        """Versions of a model, newest first, one page (without their aliases)."""
        quoted = name.replace("'", "\\'")
        params: dict[str, Any] = {
            "filter": f"name='{quoted}'",
            "max_results": PAGE,
            "order_by": ["version_number DESC"],
        }
        return await self._page("GET", "model-versions/search", params, page_token, ModelVersion)

    async def version(self, name: str, version: str) -> ModelVersion:
        data = await self._call(
            "GET", "model-versions/get", params={"name": name, "version": version}
        )
        return ModelVersion.model_validate(data["model_version"])

    async def version_by_alias(self, name: str, alias: str) -> ModelVersion:
        params = {"name": name, "alias": alias}
        data = await self._call("GET", "registered-models/alias", params=params)
        return ModelVersion.model_validate(data["model_version"])

    async def set_alias(self, name: str, alias: str, version: str) -> None:
        body = {"name": name, "alias": alias, "version": version}
        await self._call("POST", "registered-models/alias", body=body)

    async def delete_alias(self, name: str, alias: str) -> None:
        await self._call("DELETE", "registered-models/alias", body={"name": name, "alias": alias})

    async def set_model_tag(self, name: str, key: str, value: str) -> None:
        body = {"name": name, "key": key, "value": value}
        await self._call("POST", "registered-models/set-tag", body=body)

    async def delete_model_tag(self, name: str, key: str) -> None:
        body = {"name": name, "key": key}
        await self._call("DELETE", "registered-models/delete-tag", body=body)
