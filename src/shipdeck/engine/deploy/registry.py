"""The model registry: numbered versions of each model, aliases that point at them, and the
artifacts that successful pipeline runs built (for services that deploy a pipeline's output)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from shipdeck.engine.database import from_epoch
from shipdeck.engine.deploy.ledger import Ledger
from shipdeck.errors import InvalidInput, NotFound
from shipdeck.model import AliasMove, ModelSummary, ModelVersion, ParamValue
from shipdeck.model.run import parse_id
from shipdeck.model.text import repaired

ALIAS_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_VERSION_REF = re.compile(r"v?(\d+)")
_RESERVED_ALIASES = frozenset({"latest"})


class Registry:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    # Model versions ---------------------------------------------------------------------

    def register(
        self,
        model: str,
        *,
        run_id: str,
        task: str,
        params: Mapping[str, ParamValue],
        metrics: Mapping[str, float],
        sha256: str,
        now: datetime,
    ) -> ModelVersion:
        """Record the next version of `model` (1 for its first)."""
        with self.ledger.transaction() as db:
            row = db.execute(
                "SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE model = ?", (model,)
            ).fetchone()
            version = int(row[0]) + 1
            db.execute(
                "INSERT INTO model_versions (model, version, run_id, task, params, metrics,"
                " sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    model,
                    version,
                    int(run_id),
                    task,
                    json.dumps(dict(params)),
                    json.dumps(dict(metrics)),
                    sha256,
                    now.timestamp(),
                ),
            )
        return self.version(model, version)

    def models(self) -> list[ModelSummary]:
        rows = self.ledger.db.execute(
            "SELECT model, COUNT(*), MAX(version) FROM model_versions GROUP BY model ORDER BY model"
        ).fetchall()
        return [
            ModelSummary(
                name=row[0], versions=row[1], latest=str(row[2]), aliases=self.aliases(row[0])
            )
            for row in rows
        ]

    def model_names(self) -> list[str]:
        rows = self.ledger.db.execute("SELECT DISTINCT model FROM model_versions ORDER BY model")
        return [str(row[0]) for row in rows]

    def versions(self, model: str) -> list[ModelVersion]:
        """Every version of `model`, newest first."""
        aliases = self._aliases_by_version(model)
        rows = self.ledger.db.execute(
            f"SELECT {_VERSION_COLUMNS} FROM model_versions WHERE model = ? ORDER BY version DESC",
            (model,),
        ).fetchall()
        return [_version_from_row(row, aliases) for row in rows]

    def version(self, model: str, version: int) -> ModelVersion:
        """Version number `version` of `model` (the ledger keeps versions as numbers)."""
        row = self.ledger.db.execute(
            f"SELECT {_VERSION_COLUMNS} FROM model_versions WHERE model = ? AND version = ?",
            (model, version),
        ).fetchone()
        if row is None:
            raise NotFound(f"model {model!r} has no version v{version}{self._known(model)}")
        return _version_from_row(row, self._aliases_by_version(model))

    def resolve(self, model: str, ref: str) -> ModelVersion:
        """A version by `v3`, `3`, an alias (`champion`) or `latest`."""
        if model not in self.model_names():
            known = ", ".join(self.model_names()) or "none registered yet"
            raise NotFound(f"unknown model {model!r}; models: {known}")
        text = ref.strip()
        match = _VERSION_REF.fullmatch(text)
        number = parse_id(match.group(1), f"model {model!r} version {text!r}") if match else None
        if number is not None:
            return self.version(model, number)
        if text == "latest":
            return self.versions(model)[0]
        aliases = self.aliases(model)
        if text in aliases:
            return self.version(model, int(aliases[text]))
        hint = f"; aliases: {', '.join(sorted(aliases))}" if aliases else "; it has no aliases"
        raise NotFound(f"model {model!r} has no version or alias {text!r}{hint}")

    def _known(self, model: str) -> str:
        rows = self.ledger.db.execute(
            "SELECT MIN(version), MAX(version) FROM model_versions WHERE model = ?", (model,)
        ).fetchone()
        if rows[0] is None:
            return " (it has no versions)"
        return f" (versions v{rows[0]}..v{rows[1]})"

    # Aliases ----------------------------------------------------------------------------

    def aliases(self, model: str) -> dict[str, str]:
        """Alias -> the version it points at."""
        rows = self.ledger.db.execute(
            "SELECT alias, version FROM model_aliases WHERE model = ? ORDER BY alias", (model,)
        )
        return {str(row[0]): str(row[1]) for row in rows}

    def _aliases_by_version(self, model: str) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for alias, version in self.aliases(model).items():
            result.setdefault(version, []).append(alias)
        return result

    def set_alias(self, model: str, alias: str, ref: str, *, user: str, now: datetime) -> AliasMove:
        """Point `alias` at a version of `model` and record the move."""
        if not ALIAS_NAME.fullmatch(alias) or _VERSION_REF.fullmatch(alias):
            raise InvalidInput(
                f"bad alias {alias!r}: start with a letter, use letters, digits, '-' and '_',"
                " and don't look like a version (v3)"
            )
        if alias in _RESERVED_ALIASES:
            raise InvalidInput(f"alias {alias!r} is reserved: it always means the newest version")
        target = self.resolve(model, ref)
        with self.ledger.transaction() as db:
            row = db.execute(
                "SELECT version FROM model_aliases WHERE model = ? AND alias = ?", (model, alias)
            ).fetchone()
            previous = None if row is None else int(row[0])
            db.execute(
                "INSERT INTO model_aliases (model, alias, version) VALUES (?, ?, ?)"
                " ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version",
                (model, alias, int(target.version)),
            )
            cursor = db.execute(
                "INSERT INTO alias_moves (model, alias, from_version, to_version, user, at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (model, alias, previous, int(target.version), user, now.timestamp()),
            )
            move_id = int(cursor.lastrowid or 0)
        return AliasMove(
            id=move_id,
            model=model,
            alias=alias,
            from_version=None if previous is None else str(previous),
            to_version=target.version,
            user=user,
            at=now,
        )

    def alias_moves(self, model: str | None = None) -> list[AliasMove]:
        """Alias moves, newest first."""
        sql = "SELECT id, model, alias, from_version, to_version, user, at FROM alias_moves"
        args: tuple[Any, ...] = ()
        if model is not None:
            sql += " WHERE model = ?"
            args = (model,)
        rows = self.ledger.db.execute(sql + " ORDER BY id DESC", args).fetchall()
        return [
            AliasMove(
                id=r[0],
                model=r[1],
                alias=r[2],
                from_version=None if r[3] is None else str(r[3]),
                to_version=str(r[4]),
                user=r[5],
                at=from_epoch(r[6]),
            )
            for r in rows
        ]

    def moves_of_alias(self, alias: str, *, after: int, limit: int = 100) -> list[AliasMove]:
        """Moves of `alias` (on any model) with an id above `after`, oldest first."""
        rows = self.ledger.db.execute(
            "SELECT id, model, alias, from_version, to_version, user, at FROM alias_moves"
            " WHERE alias = ? AND id > ? ORDER BY id LIMIT ?",
            (alias, after, limit),
        ).fetchall()
        return [
            AliasMove(
                id=r[0],
                model=r[1],
                alias=r[2],
                from_version=r[3],
                to_version=r[4],
                user=r[5],
                at=from_epoch(r[6]),
            )
            for r in rows
        ]

    def last_alias_move(self) -> int:
        row = self.ledger.db.execute("SELECT MAX(id) FROM alias_moves").fetchone()
        return 0 if row[0] is None else int(row[0])

    # Pipeline artifacts -----------------------------------------------------------------

    def record_run_artifact(self, run_id: str, path: str, sha256: str) -> None:
        with self.ledger.transaction() as db:
            db.execute(
                "INSERT INTO run_artifacts (run_id, path, sha256) VALUES (?, ?, ?)"
                " ON CONFLICT (run_id, path) DO UPDATE SET sha256 = excluded.sha256",
                (int(run_id), path, sha256),
            )

    def run_artifact(self, run_id: str, path: str) -> str | None:
        row = self.ledger.db.execute(
            "SELECT sha256 FROM run_artifacts WHERE run_id = ? AND path = ?", (int(run_id), path)
        ).fetchone()
        return None if row is None else str(row[0])

    def runs_with_artifact(self, path: str, run_ids: Sequence[str]) -> set[str]:
        if not run_ids:
            return set()
        marks = ", ".join("?" * len(run_ids))
        rows = self.ledger.db.execute(
            f"SELECT run_id FROM run_artifacts WHERE path = ? AND run_id IN ({marks})",
            (path, *map(int, run_ids)),
        )
        return {str(row[0]) for row in rows}


_VERSION_COLUMNS = "model, version, run_id, task, params, metrics, sha256, created_at"


def _version_from_row(row: Sequence[Any], aliases: dict[str, list[str]]) -> ModelVersion:
    return ModelVersion(
        model=row[0],
        version=str(row[1]),
        run_id=str(row[2]),
        task=row[3],
        params=repaired(json.loads(row[4])),  # copied from a run's params: see Store
        metrics=json.loads(row[5]),
        sha256=row[6],
        created_at=from_epoch(row[7]),
        aliases=sorted(aliases.get(str(row[1]), [])),
    )
