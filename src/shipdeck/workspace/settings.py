"""The `[task_env]` and `[retention]` sections: settings of the runner, not of one pipeline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipdeck.model import RetentionSpec, TaskEnvSpec
from shipdeck.workspace.durations import LONGEST
from shipdeck.workspace.fields import RESERVED_ENV_PREFIX, Fields
from shipdeck.workspace.problems import describe

if TYPE_CHECKING:
    from shipdeck.workspace.loader import SectionContext

TASK_ENV_KEYS = ("pass", "secret")
RETENTION_KEYS = ("keep", "older_than", "every")
_PATTERN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_*")


def task_env_section(raw: object, context: SectionContext) -> dict[str, Any]:
    """`[task_env]`: `pass` (inherit only these) and `secret` (never these), name patterns."""
    fields = Fields.of_table(raw, ("task_env",), context.problems, TASK_ENV_KEYS)
    if fields is None:
        return {}
    passthrough = _patterns(fields, "pass") if "pass" in fields.table else None
    secret = _patterns(fields, "secret")
    return {"task_env": TaskEnvSpec(passthrough=passthrough, secret=secret)}


def _patterns(fields: Fields, key: str) -> tuple[str, ...]:
    patterns: list[str] = []
    for index, pattern in enumerate(fields.string_list(key)):
        line_of = (*fields.at(key), str(index))
        if not pattern or not set(pattern) <= _PATTERN_CHARS or pattern[0].isdigit():
            fields.problems.add(
                fields.at(key),
                f"bad pattern {pattern!r}: use a variable name, '*' matching any characters"
                " (like 'AWS_*')",
                line_of=line_of,
            )
        elif key == "pass" and pattern.upper().startswith(RESERVED_ENV_PREFIX):
            fields.problems.add(
                fields.at(key),
                f"{pattern!r}: {RESERVED_ENV_PREFIX}* variables are shipdeck's own settings and"
                " credentials, never passed to tasks",
                line_of=line_of,
            )
        else:
            patterns.append(pattern)
    return tuple(patterns)


def retention_section(raw: object, context: SectionContext) -> dict[str, Any]:
    """`[retention]`: which finished runs the runner deletes by itself (see `shipdeck gc`)."""
    problems = context.problems
    fields = Fields.of_table(raw, ("retention",), problems, RETENTION_KEYS)
    if fields is None:
        return {}
    table = fields.table
    keep = None
    if "keep" in table:
        value = table["keep"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.add(
                fields.at("keep"),
                f"must be a number of runs (0 or more), got {describe(value)}",
            )
        else:
            keep = value
    # Retention is counted in months or years, not in a task's timeout's days.
    older_than = fields.duration("older_than", allow_zero=True, maximum=LONGEST)
    every = fields.duration("every", allow_zero=False)
    if "keep" not in table and "older_than" not in table:
        problems.add(
            fields.path,
            "say which runs to keep: 'keep' (the newest N of each pipeline)"
            " and/or 'older_than' (a duration like '30d')",
        )
        return {}
    if every is not None and every < 1:
        problems.add(fields.at("every"), f"must be at least 1s, got {table['every']!r}")
        every = None
    spec = RetentionSpec(keep=keep, older_than=older_than)
    if every is not None:
        spec = spec.model_copy(update={"every": every})
    return {"retention": spec}
