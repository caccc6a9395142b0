"""Model registry commands: models, alias, compare."""

from __future__ import annotations

import argparse

from shipdeck.cli.context import CliContext
from shipdeck.cli.deploy import deploy_runner
from shipdeck.cli.output import colour_enabled, dump_json, number, table, timestamp
from shipdeck.model import CompareCell, CompareRow, Comparison, MetricDirection, ModelVersion

_ARROWS = {MetricDirection.MAX: "↑", MetricDirection.MIN: "↓"}
BEST = "★"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("models", help="registered models, or one model's versions and metrics")
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=models_command, needs_file=False)

    p = sub.add_parser("alias", help="point an alias (champion, ...) at a model version")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("alias", metavar="ALIAS")
    p.add_argument("version", metavar="VERSION", help="v3, 3, or another alias")
    p.set_defaults(handler=alias_command, needs_file=False)

    p = sub.add_parser("compare", help="params and metrics of runs or model versions side by side")
    p.add_argument(
        "refs",
        nargs="+",
        metavar="REF",
        help="a run (12, #12, last) or a model version (churn@v3, churn@champion); two or more",
    )
    p.add_argument("--only-diff", action="store_true", help="hide rows where all values agree")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=compare_command, needs_file=False)


async def models_command(args: argparse.Namespace, ctx: CliContext) -> int:
    runner = await deploy_runner(ctx)
    if args.name is None:
        models = await runner.models()
        if args.json:
            dump_json(models, ctx.out)
            return 0
        if not models:
            ctx.print("no models registered yet: a task with `registers` registers one")
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
    if args.json:
        dump_json(versions, ctx.out)
        return 0
    ctx.print(_versions_table(versions))
    return 0


def _versions_table(versions: list[ModelVersion]) -> str:
    keys: dict[str, None] = {}
    for version in versions:
        for key in version.metrics:
            keys.setdefault(key, None)
    rows = [
        [
            version.revision,
            f"#{version.run_id}",
            timestamp(version.created_at),
            ", ".join(version.aliases) or "-",
            *(number(version.metrics[key]) if key in version.metrics else "-" for key in keys),
            version.sha256[:12],
        ]
        for version in versions
    ]
    return table(["VERSION", "RUN", "CREATED", "ALIASES", *keys, "SHA256"], rows)


async def alias_command(args: argparse.Namespace, ctx: CliContext) -> int:
    runner = await deploy_runner(ctx)
    move = await runner.alias(args.model, args.alias, args.version)
    before = f"v{move.from_version}" if move.from_version is not None else "unset"
    ctx.print(f"{move.model} {move.alias}: {before} -> v{move.to_version}")
    return 0


async def compare_command(args: argparse.Namespace, ctx: CliContext) -> int:
    runner = await deploy_runner(ctx)
    comparison = await runner.compare(list(args.refs))
    if args.only_diff:
        rows = [row for row in comparison.rows if row.differs]
        comparison = comparison.model_copy(update={"rows": rows})
    if args.json:
        dump_json(comparison, ctx.out)
        return 0
    ctx.print(render_comparison(comparison, colour=colour_enabled(ctx.out)))
    return 0


def render_comparison(comparison: Comparison, *, colour: bool = False) -> str:
    """Params, then metrics (with ↑/↓ for which way is better); ★ marks each metric's best."""
    headers = ["", *(subject.label for subject in comparison.subjects)]
    rows: list[list[str]] = []
    for kind, title in (("param", "params"), ("metric", "metrics")):
        section = [row for row in comparison.rows if row.kind == kind]
        if not section:
            continue
        rows.append([title, *("" for _ in comparison.subjects)])
        rows.extend(_row_cells(row, colour) for row in section)
    if not rows:
        return "no params or metrics differ" if comparison.subjects else ""
    return table(headers, rows)


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
        text = number(float(value)) if isinstance(value, float) else str(value)
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
