"""Query parameters several routes take, each with its bounds in one place."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

Limit = Annotated[int, Query(ge=1, le=1000)]
"""How many items a listing holds at most (each route has its own default)."""
NameQuery = Annotated[str, Query(min_length=1, max_length=200)]
"""A name (service, environment, revision, model, task) a route needs."""
OptionalNameQuery = Annotated[str | None, Query(min_length=1, max_length=200)]
"""A name that narrows what a route answers, when given."""
