"""Lineage as the commands print it: the code and data a run or a model version came from,
and where compared subjects were trained on other data or code."""

from __future__ import annotations

from shipdeck.cli.output import table, timestamp
from shipdeck.formatting import format_bytes
from shipdeck.model import CodeVersion, Comparison, Lineage, LineageKind
from shipdeck.model.ids import run_label

DIGEST = 12
"""Characters of a sha256 printed (as `shipdeck models` prints artifact digests)."""


def code_text(code: CodeVersion) -> str:
    """`ed49c93 on main, clean`, `ed49c93 (detached HEAD), dirty: 2 changed files (...)`."""
    where = f"on {code.branch}" if code.branch else "(detached HEAD)"
    if code.dirty is None:
        return f"{code.short} {where}, dirty or not is unknown (git status did not answer)"
    if not code.dirty:
        return f"{code.short} {where}, clean"
    files = f"{code.changed_files} changed file{'' if code.changed_files == 1 else 's'}"
    changes = f" (changes {code.changes_sha256[:DIGEST]})" if code.changes_sha256 else ""
    return f"{code.short} {where}, dirty: {files}{changes}"


def lineage_lines(lineage: Lineage) -> list[str]:
    """A section for `show`: code, then every input with its digest; [] when none recorded."""
    if not lineage.recorded:
        return []
    lines = ["lineage"]
    if lineage.code is None:
        lines.append("  code    not recorded (not a git repository, or no git)")
    else:
        lines.append(f"  code    {code_text(lineage.code)}")
        lines.append(f"  commit  {lineage.code.commit}")
    for reused in lineage.reused_code:
        kept = code_text(reused.code) if reused.code else "not recorded"
        lines.append(f"  kept    tasks of {run_label(reused.run_id)}, which ran at {kept}")
    data = lineage.data_sha256
    if data is None:
        lines.append("  data    no inputs declared")
        return lines
    count = len(lineage.files())
    lines.append(f"  data    {data[:DIGEST]} ({count} input{'' if count == 1 else 's'})")
    rows = [
        [
            f"  {item.task}",
            item.path,
            item.sha256[:DIGEST],
            format_bytes(item.size),
            timestamp(item.mtime),
            f"kept from {run_label(item.reused_from)}" if item.reused_from is not None else "",
        ]
        for item in lineage.inputs
    ]
    lines.append(table(["  TASK", "INPUT", "SHA256", "SIZE", "MODIFIED", "NOTE"], rows))
    return lines


def code_cell(lineage: Lineage | None) -> str:
    """For a table column: `ed49c93`, `ed49c93*` when dirty, `-` when unknown."""
    if lineage is None or lineage.code is None:
        return "-"
    code = lineage.code
    return code.short + ("*" if code.dirty else "?" if code.dirty is None else "")


def data_cell(lineage: Lineage | None) -> str:
    """For a table column: the short digest of all inputs and their count, `-` when none."""
    data = None if lineage is None else lineage.data_sha256
    if lineage is None or data is None:
        return "-"
    return f"{data[:7]} ({len(lineage.files())})"


def comparison_lineage(comparison: Comparison) -> list[str]:
    """The lines under a comparison: what was trained on different data or code, or that
    everything agrees; [] when no subject recorded lineage."""
    recorded = [s for s in comparison.subjects if s.lineage is not None and s.lineage.recorded]
    if not recorded:
        return []
    lines = [
        f"different {flag.kind.value}: {flag.subject} vs {flag.against}: {flag.detail}"
        for flag in comparison.lineage
    ]
    flagged = {flag.kind for flag in comparison.lineage}
    same = [
        kind.value
        for kind in (LineageKind.DATA, LineageKind.CODE)
        if kind not in flagged
        and all(s.lineage is not None and s.lineage.knows(kind) for s in comparison.subjects)
    ]
    if same:
        lines.append(f"same {' and '.join(same)} as {comparison.subjects[0].label}")
    return lines


def lineage_rows(comparison: Comparison, *, only_diff: bool = False) -> list[list[str]]:
    """A `lineage` section for the comparison table: code, then each input's short digest
    (`only_diff`: only the rows where the subjects differ)."""
    subjects = comparison.subjects
    lineages = [s.lineage for s in subjects]
    if not any(lineage is not None and lineage.recorded for lineage in lineages):
        return []
    codes = [lineage.code if lineage is not None else None for lineage in lineages]
    rows: list[tuple[bool, list[str]]] = []
    if any(code is not None for code in codes):
        differs = len({code.identity if code else None for code in codes}) > 1
        rows.append((differs, ["  code", *(code_cell(lineage) for lineage in lineages)]))
    tables = [lineage.files() if lineage is not None else {} for lineage in lineages]
    paths: dict[str, None] = {}
    for files in tables:
        paths.update(dict.fromkeys(files))
    for path in paths:
        digests = [files.get(path) for files in tables]
        cells = [digest[:7] if digest else "-" for digest in digests]
        rows.append((len(set(digests)) > 1, [f"  {path}", *cells]))
    shown = [cells for differs, cells in rows if differs or not only_diff]
    return [["lineage", *("" for _ in subjects)], *shown] if shown else []
