"""`shipdeck drift REFERENCE CURRENT`: data drift per column and for the whole data set."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from shipdeck.cli.arguments import Subcommands, add_command, add_json_option
from shipdeck.cli.context import CliContext
from shipdeck.cli.output import dump_json, table

_METRIC_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def register(sub: Subcommands) -> None:
    p = add_command(sub, "drift", drift_command, needs_file=False)
    p.add_argument("reference", type=Path, help="the data the model was trained or checked on")
    p.add_argument("current", type=Path, help="the data to check")
    p.add_argument(
        "--columns", metavar="A,B", help="only these columns (default: every reference column)"
    )
    output = p.add_mutually_exclusive_group()
    add_json_option(output, "the report as JSON")
    output.add_argument(
        "--metrics",
        action="store_true",
        help="print ::metric lines (drift_share, COLUMN.drift_score, ...) for a monitor or task",
    )
    p.add_argument(
        "--exit-code", action="store_true", help="exit 1 when the data set drifts (as diff does)"
    )


async def drift_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """data drift between a reference and a current data set (CSV or JSON lines)

    Compare each column of CURRENT with REFERENCE (see docs/monitoring.md).
    """
    from shipdeck.monitoring.drift import compare_tables
    from shipdeck.monitoring.tables import read_table

    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
    reference = read_table(args.reference)
    current = read_table(args.current)
    report = compare_tables(reference, current, columns)
    if args.json:
        dump_json(report.as_json(), ctx.out)
    elif args.metrics:
        ctx.print(f"::metric drift_share={report.share:.6g}")
        ctx.print(f"::metric drifted_columns={report.drifted_columns}")
        for column in report.columns:
            name = metric_name(column.column)
            ctx.print(f"::metric {name}.drift_score={column.score:.6g}")
            ctx.print(f"::metric {name}.drifted={int(column.drifted)}")
            ctx.print(f"::metric {name}.psi={column.psi:.6g}")
    else:
        rows = [
            [
                shown(column.column),
                column.kind,
                column.method,
                f"{column.score:.4g}",
                ("< " if column.method in ("ks", "chi-square") else ">= ")
                + f"{column.threshold:g}",
                "DRIFT" if column.drifted else "-",
                f"{column.psi:.3f} {column.psi_level}",
            ]
            for column in report.columns
        ]
        ctx.print(table(["COLUMN", "KIND", "METHOD", "SCORE", "DRIFT IF", "DRIFTED", "PSI"], rows))
        verdict = "drifts" if report.drifted else "does not drift"
        ctx.print(
            f"{report.drifted_columns} of {len(report.columns)} columns drifted"
            f" (share {report.share:.2f}); the data set {verdict} (at share >= 0.5)"
        )
    return 1 if args.exit_code and report.drifted else 0


def shown(text: str) -> str:
    """A name from a data file as it may reach the terminal: control characters as `?`."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def metric_name(column: str) -> str:
    """A column name as a metric name: runs of other characters become `_`."""
    return _METRIC_NAME.sub("_", column).strip("_") or "column"
