"""An MlflowApi for a configured `kind = "mlflow"` runner: its URL and credentials."""

from __future__ import annotations

from shipdeck.config import RunnerEntry, runner_token
from shipdeck.runners.mlflow.api import TIMEOUT, MlflowApi, auth_headers


def open_api(entry: RunnerEntry, *, timeout: float = TIMEOUT) -> MlflowApi:
    """The REST client of `entry`: a bearer token, or basic auth when it names a user.

    Raises (one line) when its secret cannot be read, as for any runner."""
    secret = runner_token(entry)
    username = getattr(entry, "username", None)
    if username is not None:
        headers = auth_headers(username=username, password=secret)
    else:
        headers = auth_headers(token=secret)
    return MlflowApi(entry.url, name=entry.name, headers=headers, timeout=timeout)
