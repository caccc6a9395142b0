"""Model registry commands: models, alias, compare."""

from __future__ import annotations

import argparse

from shipdeck.cli.arguments import Subcommands, add_command, add_json_option
from shipdeck.cli.context import CliContext
from shipdeck.cli.lineage import (
    code_cell,
    comparison_lineage,
    data_cell,
    lineage_lines,
    lineage_rows,
)
from shipdeck.cli.output import colour_enabled, dump_json, listed_as_json_or_none, table, timestamp
from shipdeck.errors import NotFound
from shipdeck.formatting import format_number
from shipdeck.model import CompareCell, CompareRow, Comparison, MetricDirection, ModelVersion
from shipdeck.model.capabilities import Capability
from shipdeck.model.ids import run_label, version_label

_ARROWS = {MetricDirection.MAX: "↑", MetricDirection.MIN: "↓"}
BEST = "★"


def register(sub: Subcommands) -> None:
    p = add_command(sub, "models", models_command, needs_file=False)
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument(
        "version", nargs="?", metavar="VERSION", help="v3, 3, an alias or latest: its lineage"
    )
    add_json_option(p)

    p = add_command(sub, "alias", alias_command, needs_file=False)
    p.add_argument("model", metavar="MODEL")
    p.add_argument("alias", metavar="ALIAS")
    p.add_argument("version", metavar="VERSION", help="v3, 3, or another alias")

    p = add_command(sub, "compare", compare_command, needs_file=False)
    p.add_argument(
        "refs",
        nargs="+",
        metavar="REF",
        help="a run (12, #12, last) or a model version (churn@v3, churn@champion); two or more",
    )
    p.add_argument("--only-diff", action="store_true", help="hide rows where all values agree")
    add_json_option(p)


async def models_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """registered models, one model's versions, or one version and what it came from"""
    runner = await ctx.runner_that(Capability.MODELS)
    if args.name is None:
        models = await runner.models()
        none = "no models registered yet: a task with `registers` registers one"
        if listed_as_json_or_none(models, ctx.out, as_json=args.json, none=none):
            return 0
        rows = [
            [
                m.name,
                str(m.versions),
                f"v{m.latest}",
                ", ".join(f"{alias}=v{v}" for alias, v in m.aliases.items()) or "-",
            ]
            for m in models
        ]
        ctx.print(table(["MODEL", "VERSIONS", "LATEST", "ALIASES"], rows))
        return 0
    versions = await runner.model_versions(args.name)
    if args.version is not None:
        version = _chosen(versions, args.name, args.version)
        if args.json:
            dump_json(version, ctx.out)
        else:
            ctx.print(render_version(version))
        return 0
    if args.json:
        dump_json(versions, ctx.out)
        return 0
    ctx.print(_versions_table(versions))
    return 0


def _chosen(versions: list[ModelVersion], model: str, ref: str) -> ModelVersion:
    """The version `ref` names (`v3`, `3`, an alias, `latest`) among `versions`."""
    text = ref.strip()
    if text == "latest" and versions:
        return versions[0]
    for version in versions:
        if text in (version.revision, version.label, version.version) or text in version.aliases:
            return version
    known = ", ".join(v.revision for v in versions[:10])
    raise NotFound(f"model {model!r} has no version or alias {text!r}; versions: {known}")


def render_version(version: ModelVersion) -> str:
    """One version: where it came from (run, task, params, code, data) and what it scored."""
    lines = [
        f"{version.model} {version.label}"
        + (f"  ({', '.join(version.aliases)})" if version.aliases else ""),
        f"registered {timestamp(version.created_at)} by run {run_label(version.run_id)}"
        f" (task {version.task})  artifact sha256 {version.sha256}",
    ]
    if version.params:
        lines.append("params  " + "  ".join(f"{k}={v}" for k, v in version.params.items()))
    if version.metrics:
        lines.append(
            "metrics " + "  ".join(f"{k}={format_number(v)}" for k, v in version.metrics.items())
        )
    lineage = lineage_lines(version.lineage) if version.lineage is not None else []
    lines += ["", *lineage] if lineage else ["", "lineage not recorded for its run"]
    return "\n".join(lines)


def _versions_table(versions: list[ModelVersion]) -> str:
    keys: dict[str, None] = {}
    for version in versions:
        for key in version.metrics:
            keys.setdefault(key, None)
    rows = [
        [
            version.label,
            run_label(version.run_id),
            timestamp(version.created_at),
            ", ".join(version.aliases) or "-",
            *(
                format_number(version.metrics[key]) if key in version.metrics else "-"
                for key in keys
            ),
            code_cell(version.lineage),
            data_cell(version.lineage),
            version.sha256[:12],
        ]
        for version in versions
    ]
    headers = ["VERSION", "RUN", "CREATED", "ALIASES", *keys, "CODE", "DATA", "SHA256"]
    return table(headers, rows)


async def alias_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """point an alias (champion, ...) at a model version"""
    runner = await ctx.runner_that(Capability.ALIASES)
    move = await runner.alias(args.model, args.alias, args.version)
    before, after = (
        version_label(version) if version is not None else "unset"
        for version in (move.from_version, move.to_version)
    )
    ctx.print(f"{move.model} {move.alias}: {before} -> {after}")
    return 0


async def compare_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """params and metrics of runs or model versions side by side"""
    runner = await ctx.runner_that(Capability.MODELS)
    comparison = await runner.compare(list(args.refs))
    if args.only_diff:
        rows = [row for row in comparison.rows if row.differs]
        comparison = comparison.model_copy(update={"rows": rows})
    if args.json:
        dump_json(comparison, ctx.out)
        return 0
    text = render_comparison(comparison, colour=colour_enabled(ctx.out), only_diff=args.only_diff)
    ctx.print(text)
    return 0


def render_comparison(
    comparison: Comparison, *, colour: bool = False, only_diff: bool = False
) -> str:
    """Params, then metrics (with ↑/↓ for which way is better; ★ marks each metric's best),
    then the code and inputs each was trained on; under the table, a line for each subject
    trained on other data or code than the first."""
    headers = ["", *(subject.label for subject in comparison.subjects)]
    rows: list[list[str]] = []
    for kind, title in (("param", "params"), ("metric", "metrics")):
        section = [row for row in comparison.rows if row.kind == kind]
        if not section:
            continue
        rows.append([title, *("" for _ in comparison.subjects)])
        rows.extend(_row_cells(row, colour) for row in section)
    rows += lineage_rows(comparison, only_diff=only_diff)
    notes = comparison_lineage(comparison)
    if colour:
        notes = [f"\x1b[1;33m{n}\x1b[0m" if n.startswith("different") else n for n in notes]
    if not rows:
        empty = "no params or metrics differ" if comparison.subjects else ""
        return "\n".join([empty, *notes]) if notes else empty
    return "\n".join([table(headers, rows), *(["", *notes] if notes else [])])


def _row_cells(row: CompareRow, colour: bool) -> list[str]:
    arrow = f" {_ARROWS[row.direction]}" if row.direction else ""
    return [
        f"  {row.key}{arrow}",
        *(_cell(cell, index, colour) for index, cell in enumerate(row.cells)),
    ]


def _cell(cell: CompareCell, index: int, colour: bool) -> str:
    if cell.value is None:
        return "-"
    value = cell.value
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        text = format_number(float(value)) if isinstance(value, float) else str(value)
    else:
        text = str(value)
    if index > 0 and cell.delta is not None:
        pct = f", {cell.delta_pct:+.1f}%" if cell.delta_pct is not None else ""
        text += f" ({cell.delta:+.4g}{pct})"
    if cell.best:
        text = f"{text} {BEST}"
        if colour:
            text = f"\x1b[1;32m{text}\x1b[0m"
    return text
