"""A service's automatic half, as written in the workspace file:

health_every = "1m"                 # or { prod = "30s", staging = "5m" }
auto_rollback = ["prod"]
rollback_after = 3
auto_promote = { to = "staging", if = "auc >= champion.auc + 0.005", allow_prod = false }
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from shipdeck.model import AutoPromoteSpec, PolicyTerm
from shipdeck.model.automation import DEFAULT_ROLLBACK_AFTER
from shipdeck.workspace.fields import Fields
from shipdeck.workspace.gates import OPERATORS
from shipdeck.workspace.problems import describe, not_an_environment, quoted

AUTOMATION_KEYS = ("health_every", "auto_rollback", "rollback_after", "auto_promote")
PROMOTE_KEYS = ("to", "if", "allow_prod")
LONGEST_HEALTH_EVERY = 86400.0
MAX_ROLLBACK_AFTER = 100

_KEY = r"[A-Za-z0-9_:/-][A-Za-z0-9_.:/-]*"
_OP = "|".join(re.escape(op) for op in OPERATORS)
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TERM = re.compile(
    rf"\s*({_KEY})\s*({_OP})\s*(?:champion\.({_KEY})(?:\s+([+-])\s*({_NUMBER}))?|({_NUMBER}))\s*"
)
_AND = re.compile(r"\s+and\s+")
_FORMS = "'KEY OP NUMBER' or 'KEY OP champion.KEY [+ or - NUMBER]', joined by 'and'"


@dataclass(frozen=True)
class Automation:
    health_every: dict[str, float]
    auto_rollback: tuple[str, ...]
    rollback_after: int
    auto_promote: AutoPromoteSpec | None


def parse_automation(
    fields: Fields, *, environments: list[str], health: str | None, model: str | None
) -> Automation:
    """The automation keys of a service's table."""
    every = _health_every(fields, environments, health)
    rollback = _auto_rollback(fields, environments, every)
    after = _rollback_after(fields, bool(rollback))
    promote = _auto_promote(fields, environments, model)
    return Automation(every, tuple(rollback), after, promote)


def _health_every(fields: Fields, environments: list[str], health: str | None) -> dict[str, float]:
    if "health_every" not in fields.table:
        return {}
    where = fields.at("health_every")
    if health is None:
        fields.problems.add(where, "needs the service's 'health' command (it is what runs)")
        return {}
    raw = fields.table["health_every"]
    if isinstance(raw, dict):
        every: dict[str, float] = {}
        for env in raw:
            if env not in environments:
                fields.problems.add((*where, env), not_an_environment(env, environments))
                continue
            seconds = Fields(raw, where, fields.problems).interval(
                env, maximum=LONGEST_HEALTH_EVERY
            )
            if seconds is not None:
                every[env] = seconds
        return every
    seconds = fields.interval("health_every", maximum=LONGEST_HEALTH_EVERY)
    return {} if seconds is None else dict.fromkeys(environments, seconds)


def _auto_rollback(fields: Fields, environments: list[str], every: dict[str, float]) -> list[str]:
    where = fields.at("auto_rollback")
    envs = fields.string_list("auto_rollback")
    chosen: list[str] = []
    for index, env in enumerate(envs):
        line_of = (*where, str(index))
        if env not in environments:
            fields.problems.add(
                where,
                not_an_environment(env, environments),
                line_of=line_of,
            )
        elif env in chosen:
            fields.problems.add(where, f"lists {quoted(env)} twice", line_of=line_of)
        elif env not in every:
            fix = (
                "its health is not checked on a schedule: add it to health_every"
                if "health_every" in fields.table
                else 'it rolls back when scheduled health checks fail: set health_every = "1m"'
            )
            fields.problems.add(where, f"{quoted(env)}: {fix}", line_of=line_of)
        else:
            chosen.append(env)
    return chosen


def _rollback_after(fields: Fields, rolling_back: bool) -> int:
    if "rollback_after" not in fields.table:
        return DEFAULT_ROLLBACK_AFTER
    where = fields.at("rollback_after")
    value = fields.table["rollback_after"]
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 1 <= value <= MAX_ROLLBACK_AFTER
    ):
        fields.problems.add(
            where,
            f"must be a number of failed checks from 1 to {MAX_ROLLBACK_AFTER},"
            f" got {describe(value)}",
        )
        return DEFAULT_ROLLBACK_AFTER
    if not rolling_back:
        fields.problems.add(where, "applies to auto_rollback (set the environments it rolls back)")
    return value


def _auto_promote(
    service: Fields, environments: list[str], model: str | None
) -> AutoPromoteSpec | None:
    raw = service.table_of("auto_promote")
    if raw is None:
        return None
    where, problems = service.at("auto_promote"), service.problems
    before = len(problems)
    if model is None:
        problems.add(where, "only model services have challenger versions to promote (set 'model')")
    problems.check_keys(raw, where, PROMOTE_KEYS)
    fields = Fields(raw, where, problems)
    to = fields.string("to", required=True)
    condition = fields.string("if")
    allow_prod = raw.get("allow_prod", False)
    if not isinstance(allow_prod, bool):
        problems.add(fields.at("allow_prod"), f"must be true or false, got {describe(allow_prod)}")
        allow_prod = False
    if to and to not in environments:
        problems.add(fields.at("to"), not_an_environment(to, environments))
    elif to and _production(to, environments) and not allow_prod:
        problems.add(
            fields.at("to"),
            f"{quoted(to)} is a production environment (a person confirms what goes there);"
            " automatic promotion to it needs allow_prod = true",
        )
    terms: tuple[PolicyTerm, ...] = ()
    if condition.strip():
        try:
            terms = parse_policy(condition)
        except ValueError as error:
            problems.add(fields.at("if"), str(error))
    if len(problems) > before:
        return None
    return AutoPromoteSpec(to=to, condition=condition.strip(), terms=terms, allow_prod=allow_prod)


def _production(env: str, environments: list[str]) -> bool:
    """As ServiceSpec.is_production: `prod`, or the last environment."""
    return env == "prod" or env == environments[-1]


def parse_policy(text: str) -> tuple[PolicyTerm, ...]:
    """The terms of `auc >= champion.auc + 0.005 and loss <= 0.3`; ValueError otherwise."""
    terms = []
    for part in _AND.split(text.strip()):
        match = _TERM.fullmatch(part)
        if match is None:
            raise ValueError(f"bad policy term {quoted(part.strip())}: expected {_FORMS}")
        metric, op, champion, sign, offset, number = match.groups()
        if champion is not None:
            value = float(offset) if offset is not None else 0.0
            value = -value if sign == "-" else value
        else:
            value = float(number)
        if not math.isfinite(value):
            raise ValueError(f"bad policy term {quoted(part.strip())}: numbers must be finite")
        terms.append(
            PolicyTerm(
                text=" ".join(part.split()),
                metric=metric,
                op=op,
                champion_metric=champion,
                offset=value,
            )
        )
    return tuple(terms)


_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_VERSION_LIKE = re.compile(r"v?\d+")


def alias_problem(alias: str) -> str | None:
    """What is wrong with an alias name (the registry's rule), None when it is fine."""
    if not _ALIAS.fullmatch(alias) or _VERSION_LIKE.fullmatch(alias):
        return (
            f"bad alias {quoted(alias)}: start with a letter, use letters, digits, '-' and '_',"
            " and don't look like a version (v3)"
        )
    if alias == "latest":
        return "alias 'latest' is reserved: it always means the newest version"
    return None
