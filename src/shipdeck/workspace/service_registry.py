"""A model service's `registry` (an MLflow runner holding its model) and `aliases` (the alias
pointed at what an environment holds after each successful action there)."""

from __future__ import annotations

import re

from shipdeck.model import GateKind, GateSpec
from shipdeck.workspace.fields import Fields
from shipdeck.workspace.problems import describe, not_an_environment

REGISTRY_KEYS = ("registry", "aliases")
RUNNER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""A configured runner's name (the user configuration's rule, see config.py)."""
ALIAS_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
"""An alias the registries accept (the embedded registry's rule)..."""
LIKE_A_VERSION = re.compile(r"[vV]?\d+")
"""...that does not read as a version (`v3`) and is not `latest`."""


def parse_registry(fields: Fields, model: str | None) -> str | None:
    """`registry = "RUNNER"`: the configured runner whose registry holds the model. Which
    runners exist is the user configuration's business, checked when the service acts."""
    registry = fields.optional_string("registry")
    if registry is None:
        return None
    if model is None:
        fields.problems.add(fields.at("registry"), "applies to model services (set 'model')")
        return None
    if not RUNNER_NAME.fullmatch(registry):
        fields.problems.add(
            fields.at("registry"),
            f"{registry!r} is not a runner name (letters, digits, '.', '_' or '-')",
        )
        return None
    return registry


def parse_aliases(fields: Fields, environments: list[str], model: str | None) -> dict[str, str]:
    """`aliases = { prod = "champion" }`: environment -> alias."""
    raw = fields.table_of("aliases")
    if raw is None:
        return {}
    where, problems = fields.at("aliases"), fields.problems
    if model is None:
        problems.add(where, "only model services have versions to point an alias at")
        return {}
    aliases: dict[str, str] = {}
    for env, alias in raw.items():
        at = (*where, env)
        if env not in environments:
            problems.add(at, not_an_environment(env, environments, repr))
        elif (
            not isinstance(alias, str)
            or not ALIAS_NAME.fullmatch(alias)
            or LIKE_A_VERSION.fullmatch(alias)
            or alias == "latest"
        ):
            problems.add(
                at,
                'must be an alias name like "champion" (not latest, not like a version),'
                f" got {describe(alias)}",
            )
        else:
            aliases[env] = alias
    return aliases


def registry_gate_problem(gate: GateSpec, registry: str | None) -> str:
    """A gate a service of an external registry cannot check: its versions come from runs
    shipdeck did not make, so `pipeline:` has nothing to look at."""
    if registry is not None and gate.kind == GateKind.PIPELINE:
        return (
            f"pipeline gates need versions this workspace registers; {registry} holds this"
            " model (use metric: or soak: gates)"
        )
    return ""
