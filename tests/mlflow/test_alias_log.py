"""shipdeck's record of alias moves, kept in MLflow as tags on the registered model: what a
second client sees, moves made outside shipdeck, the bound on the record."""

from __future__ import annotations

import uuid

import pytest

from shipdeck.errors import NotFound
from shipdeck.runners.mlflow import alias_log
from shipdeck.runners.mlflow.api import MlflowApi
from tests.mlflow.conftest import MlflowServer, seed

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def prefix() -> str:
    return uuid.uuid4().hex[:8]


async def test_a_move_is_recorded_where_a_second_client_sees_it(
    mlflow_server: MlflowServer, prefix: str
) -> None:
    seeded = seed(mlflow_server, prefix, runs=3)
    mine = MlflowApi(mlflow_server.url, name="lab")
    theirs = MlflowApi(mlflow_server.url, name="lab-2")
    try:
        record = await alias_log.move(
            mine, seeded.model, "champion", "2", user="ana@box", reason="auc up 2 points"
        )
        assert (record.from_version, record.to_version) == ("1", "2")
        assert (await theirs.version_by_alias(seeded.model, "champion")).version == "2"
        seen = alias_log.history(await theirs.registered_model(seeded.model))
        assert [(r.alias, r.from_version, r.to_version, r.user, r.reason) for r in seen] == [
            ("champion", "1", "2", "ana@box", "auc up 2 points")
        ]
        assert seen[0].at == record.at and not seen[0].outside

        await alias_log.move(theirs, seeded.model, "challenger", "3", user="bo@box")
        seen = alias_log.history(await mine.registered_model(seeded.model))
        assert [(r.alias, r.to_version, r.user) for r in seen] == [
            ("challenger", "3", "bo@box"),
            ("champion", "2", "ana@box"),
        ]
        assert seen[0].from_version is None  # challenger pointed nowhere before
    finally:
        await mine.close()
        await theirs.close()


async def test_a_move_outside_shipdeck_is_noticed(mlflow_server: MlflowServer, prefix: str) -> None:
    seeded = seed(mlflow_server, prefix, runs=3)
    api = MlflowApi(mlflow_server.url, name="lab")
    try:
        await alias_log.move(api, seeded.model, "champion", "2", user="ana@box")
        # Someone moves it with MLflow's own API (the UI, the mlflow client): no record.
        mlflow_server.post(
            "registered-models/alias", {"name": seeded.model, "alias": "champion", "version": "3"}
        )
        seen = alias_log.history(await api.registered_model(seeded.model))
        assert [(r.from_version, r.to_version, r.user, r.note) for r in seen] == [
            ("2", "3", "outside shipdeck", "changed outside shipdeck"),
            ("1", "2", "ana@box", ""),
        ]
        # shipdeck moves it again: the outside move stays in the history, between the two.
        await alias_log.move(api, seeded.model, "champion", "1", user="ana@box")
        seen = alias_log.history(await api.registered_model(seeded.model))
        assert [(r.from_version, r.to_version, r.outside) for r in seen] == [
            ("3", "1", False),
            ("2", "3", True),
            ("1", "2", False),
        ]
        # Removed outside shipdeck.
        with mlflow_server.client() as client:
            client.request(
                "DELETE",
                "registered-models/alias",
                json={"name": seeded.model, "alias": "champion"},
            ).raise_for_status()
        newest = alias_log.history(await api.registered_model(seeded.model))[0]
        assert (newest.from_version, newest.to_version) == ("1", None)
        assert newest.note == "removed outside shipdeck"
    finally:
        await api.close()


async def test_an_alias_shipdeck_never_moved_has_no_history(
    mlflow_server: MlflowServer, prefix: str
) -> None:
    seeded = seed(mlflow_server, prefix, runs=2)
    api = MlflowApi(mlflow_server.url, name="lab")
    try:
        assert alias_log.history(await api.registered_model(seeded.model)) == []
    finally:
        await api.close()


async def test_the_record_is_bounded(
    mlflow_server: MlflowServer, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(alias_log, "KEEP", 3)
    seeded = seed(mlflow_server, prefix, runs=2)
    api = MlflowApi(mlflow_server.url, name="lab")
    try:
        for round_ in range(5):
            await alias_log.move(api, seeded.model, "champion", str(1 + round_ % 2), user="a@b")
        model = await api.registered_model(seeded.model)
        kept = alias_log.recorded(model)
        assert len(kept) == 3
        assert [r.to_version for r in kept] == ["1", "2", "1"]  # the newest three
        assert len([t for t in model.tags if t.key.startswith(alias_log.PREFIX)]) == 3
    finally:
        await api.close()


async def test_moving_to_a_missing_version_changes_nothing(
    mlflow_server: MlflowServer, prefix: str
) -> None:
    seeded = seed(mlflow_server, prefix, runs=2)
    api = MlflowApi(mlflow_server.url, name="lab")
    try:
        with pytest.raises(NotFound, match=r"^runner lab \(mlflow\): .*not found"):
            await alias_log.move(api, seeded.model, "champion", "9", user="a@b")
        model = await api.registered_model(seeded.model)
        assert [(a.alias, a.version) for a in model.aliases] == [("champion", "1")]
        assert alias_log.recorded(model) == []
    finally:
        await api.close()


async def test_a_foreign_tag_under_the_prefix_is_not_a_record(
    mlflow_server: MlflowServer, prefix: str
) -> None:
    seeded = seed(mlflow_server, prefix, runs=2)
    api = MlflowApi(mlflow_server.url, name="lab")
    try:
        await api.set_model_tag(seeded.model, f"{alias_log.PREFIX}junk", "{not json")
        await alias_log.move(api, seeded.model, "champion", "2", user="a@b")
        seen = alias_log.history(await api.registered_model(seeded.model))
        assert [(r.from_version, r.to_version) for r in seen] == [("1", "2")]
    finally:
        await api.close()
