"""shipdeck's record of the alias moves it makes in an MLflow registry, kept in MLflow itself.

MLflow keeps no alias history: an alias is only its current version. So every move shipdeck
makes is written as one tag on the registered model, `shipdeck.alias_move.<when>.<nonce>` =
JSON {alias, from, to, user, at, reason}, where every operator of that MLflow (every shipdeck,
the MLflow UI) sees it. One tag per move, never a read-modify-write of a shared tag, so two
operators moving aliases at once lose nothing. The record is bounded: after writing, the
oldest tags beyond `KEEP` are deleted.

A move made elsewhere (the MLflow UI, the mlflow client) leaves no record: comparing each
alias's current version with the last move shipdeck recorded for it shows "changed outside
shipdeck" (or "removed outside shipdeck"), with the versions but never an invented who.
"""

from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime

from shipdeck.model import AliasMove
from shipdeck.runners.acting_user import default_user
from shipdeck.runners.mlflow.api import MlflowApi, RegisteredModel

PREFIX = "shipdeck.alias_move."
KEEP = 50
"""Moves kept per model: MLflow returns every tag with the model, so the record stays small."""
REASON_LIMIT = 500
"""Characters of a reason kept (MLflow bounds tag values; a reason is a sentence)."""
OUTSIDE = "outside shipdeck"
"""The `user` of a move shipdeck noticed but did not make."""


class AliasRecord(AliasMove):
    """One alias move: recorded by shipdeck, or noticed (`outside`) in the registry. Its id
    is when it was recorded (ms, `recorded_id`), 0 for a move noticed outside shipdeck (it
    has no record)."""

    key: str = ""
    """The tag holding it ("" for a move noticed outside shipdeck)."""

    def as_move(self) -> AliasMove:
        """The contract's move, as front ends get it (without the tag)."""
        return AliasMove.model_validate(self.model_dump(exclude={"key"}))

    @property
    def note(self) -> str:
        if not self.outside:
            return ""
        return "removed outside shipdeck" if self.to_version is None else "changed outside shipdeck"


def recorded_id(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _tag_key(at_ms: int) -> str:
    # Fixed-width milliseconds sort as text; the nonce keeps two moves in one ms apart.
    return f"{PREFIX}{at_ms:015d}.{secrets.token_hex(3)}"


def _parse(model: str, key: str, value: str) -> AliasRecord | None:
    try:
        data = json.loads(value)
        at = datetime.fromtimestamp(int(data["at"]) / 1000, UTC)
        to = data.get("to")
        before = data.get("from")
        return AliasRecord(
            id=recorded_id(at),
            key=key,
            model=model,
            alias=str(data["alias"]),
            from_version=None if before is None else str(before),
            to_version=None if to is None else str(to),
            user=str(data.get("user", "")),
            at=at,
            reason=str(data.get("reason", "")),
        )
    except (ValueError, KeyError, TypeError, OverflowError):
        return None  # a tag someone else wrote under our prefix: not a record


def recorded(model: RegisteredModel) -> list[AliasRecord]:
    """The moves shipdeck recorded on `model`, oldest first."""
    found = [
        _parse(model.name, tag.key, tag.value) for tag in model.tags if tag.key.startswith(PREFIX)
    ]
    return sorted((r for r in found if r is not None), key=lambda r: (r.at, r.key))


def _outside(
    model: str, alias: str, before: str | None, after: str | None, at: datetime
) -> AliasRecord:
    return AliasRecord(
        id=0,
        model=model,
        alias=alias,
        from_version=before,
        to_version=after,
        user=OUTSIDE,
        at=at,
        outside=True,
    )


def history(model: RegisteredModel) -> list[AliasRecord]:
    """Recorded moves, newest first, with the moves noticed outside shipdeck: between two
    recorded moves of an alias that do not join up (the later one's `from` is not the earlier
    one's `to`), and after the last one when the alias's version now differs. An alias
    shipdeck never moved has no history (nothing to compare its version with).

    When a move outside shipdeck happened is not known: it is placed at the next recorded move
    (it happened before that) or at the model's last update."""
    updated = (
        datetime.fromtimestamp(model.last_updated_timestamp / 1000, UTC)
        if model.last_updated_timestamp
        else None
    )
    current = {alias.alias: alias.version for alias in model.aliases}
    ordered: list[AliasRecord] = []
    last: dict[str, AliasRecord] = {}
    for record in recorded(model):
        before = last.get(record.alias)
        if before is not None and before.to_version != record.from_version:
            ordered.append(
                _outside(
                    model.name, record.alias, before.to_version, record.from_version, record.at
                )
            )
        ordered.append(record)
        last[record.alias] = record
    for alias, record in last.items():
        now = current.get(alias)
        if now != record.to_version:
            at = max(updated, record.at) if updated is not None else record.at
            ordered.append(_outside(model.name, alias, record.to_version, now, at))
    ranked = sorted(enumerate(ordered), key=lambda pair: (pair[1].at, pair[0]), reverse=True)
    return [record for _, record in ranked]


async def move(
    api: MlflowApi,
    model: str,
    alias: str,
    version: str,
    *,
    user: str | None = None,
    reason: str = "",
) -> AliasRecord:
    """Point `alias` at `version` through MLflow's alias API, then record the move.

    The version is checked first (NotFound, one line, nothing changed). The alias moves before
    the record is written: were the record lost (the server gone in between), the next look
    shows the move as made outside shipdeck rather than a record of a move that did not
    happen."""
    await api.version(model, version)
    before = await api.registered_model(model)
    previous = next((a.version for a in before.aliases if a.alias == alias), None)
    await api.set_alias(model, alias, version)
    at_ms = int(time.time() * 1000)
    at = datetime.fromtimestamp(at_ms / 1000, UTC)
    record = AliasRecord(
        id=recorded_id(at),
        key=_tag_key(at_ms),
        model=model,
        alias=alias,
        from_version=previous,
        to_version=version,
        user=user or default_user(),
        at=at,
        reason=reason[:REASON_LIMIT],
    )
    body = {
        "alias": alias,
        "from": previous,
        "to": version,
        "user": record.user,
        "at": at_ms,
        "reason": record.reason,
    }
    await api.set_model_tag(model, record.key, json.dumps(body, separators=(",", ":")))
    await _trim(api, model)
    return record


async def _trim(api: MlflowApi, model: str) -> None:
    tags = sorted(
        t.key for t in (await api.registered_model(model)).tags if t.key.startswith(PREFIX)
    )
    for key in tags[: max(0, len(tags) - KEEP)]:
        await api.delete_model_tag(model, key)
