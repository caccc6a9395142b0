"""When a comparison flags subjects trained on other data or code than the first one."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.style import Style

from shipdeck.cli.lineage import comparison_lineage
from shipdeck.model import CodeVersion, CompareSubject, Comparison, InputFile, Lineage, LineageKind
from shipdeck.model.lineage import ReusedCode, lineage_flags
from shipdeck.tui.screens.compare import lineage_line

A = "a" * 40
B = "b" * 40
WHEN = datetime(2024, 1, 1, tzinfo=UTC)


def code(commit: str = A, *, dirty: bool | None = False, changes: str | None = None) -> CodeVersion:
    return CodeVersion(
        commit=commit,
        short=commit[:7],
        branch="main",
        dirty=dirty,
        changed_files=1 if dirty else 0,
        changes_sha256=changes,
    )


def lineage(files: dict[str, str] | None = None, commit: CodeVersion | None = None) -> Lineage:
    inputs = [
        InputFile(task="train", path=path, sha256=digest * 64, size=1, mtime=WHEN)
        for path, digest in (files or {}).items()
    ]
    return Lineage(code=commit, inputs=inputs)


def flags(*lineages: Lineage | None) -> list[tuple[str, str, str]]:
    labels = [f"v{index + 1}" for index in range(len(lineages))]
    return [(f.kind.value, f.subject, f.detail) for f in lineage_flags(labels, list(lineages))]


def test_the_same_data_and_code_flags_nothing() -> None:
    same = lineage({"train.csv": "1"}, code())
    assert flags(same, same) == []


def test_a_changed_input_and_inputs_only_one_side_read_are_data_flags() -> None:
    first = lineage({"train.csv": "1", "old.csv": "2"}, code())
    other = lineage({"train.csv": "3", "new.csv": "4"}, code())
    ((kind, subject, detail),) = flags(first, other)
    assert (kind, subject) == (LineageKind.DATA.value, "v2")
    assert detail == (
        "train.csv differs (1111111 → 3333333); only v2 read new.csv; only v1 read old.csv"
    )


def test_several_changed_inputs_are_counted_past_two() -> None:
    first = lineage({"a": "1", "b": "1", "c": "1"})
    other = lineage({"a": "2", "b": "2", "c": "2"})
    assert flags(first, other) == [("data", "v2", "a, b and 1 more differ")]


def test_another_commit_is_a_code_flag() -> None:
    assert flags(lineage(commit=code(A)), lineage(commit=code(B))) == [
        ("code", "v2", "commit aaaaaaa → bbbbbbb")
    ]


def test_a_dirty_tree_on_the_same_commit_is_other_code_unless_the_changes_match() -> None:
    clean = lineage(commit=code())
    edited = lineage(commit=code(dirty=True, changes="x" * 64))
    same_edit = lineage(commit=code(dirty=True, changes="x" * 64))
    other_edit = lineage(commit=code(dirty=True, changes="y" * 64))
    assert flags(clean, edited) == [
        ("code", "v2", "same commit aaaaaaa, but v2 ran with uncommitted changes")
    ]
    assert flags(edited, same_edit) == []
    assert flags(edited, other_edit) == [
        ("code", "v2", "same commit aaaaaaa, different uncommitted changes")
    ]
    unknown = lineage(commit=code(dirty=None))
    assert flags(clean, unknown) == [
        ("code", "v2", "same commit aaaaaaa, but whether the tree was dirty is unknown")
    ]


def test_unknown_lineage_is_not_different_but_a_missing_code_version_is_said() -> None:
    recorded = lineage({"train.csv": "1"}, code())
    assert flags(recorded, None) == []
    assert flags(recorded, Lineage()) == []  # recorded before lineage existed
    assert flags(Lineage(), recorded) == []
    assert flags(recorded, lineage({"train.csv": "1"})) == [
        ("code", "v2", "no code version recorded for v2")
    ]


def test_each_subject_is_compared_with_the_first() -> None:
    first = lineage({"d": "1"}, code(A))
    assert [(k, s) for k, s, _ in flags(first, first, lineage({"d": "2"}, code(B)))] == [
        ("data", "v3"),
        ("code", "v3"),
    ]


def test_kept_tasks_that_ran_at_other_code_are_a_code_flag() -> None:
    plain = lineage(commit=code(A))
    kept = Lineage(code=code(A), reused_code=[ReusedCode(run_id=4, code=code(B))])
    assert flags(plain, kept) == [
        ("code", "v2", "kept tasks that ran at other code: #4 at bbbbbbb")
    ]


def test_what_a_task_built_came_from_follows_its_needs() -> None:
    full = Lineage(
        code=code(),
        inputs=[
            InputFile(task=name, path=f"{name}.csv", sha256="0" * 64, size=1, mtime=WHEN)
            for name in ("prepare", "train", "report", "side")
        ],
    )
    needs: dict[str, list[str] | None] = {
        "prepare": [],
        "train": ["prepare"],
        "report": ["train"],
        "side": None,
    }
    assert sorted(full.for_task("train", needs).files()) == ["prepare.csv", "train.csv"]
    assert sorted(full.for_task("side", needs).files()) == ["side.csv"]
    assert full.for_task("train", needs).code == full.code


def comparison(*lineages: Lineage | None) -> Comparison:
    subjects = [
        CompareSubject(label=f"v{index + 1}", run_id=index + 1, lineage=item)
        for index, item in enumerate(lineages)
    ]
    flags_found = lineage_flags([s.label for s in subjects], list(lineages))
    return Comparison(subjects=subjects, rows=[], lineage=flags_found)


def test_same_data_or_code_is_said_only_where_every_subject_recorded_it() -> None:
    data_only = lineage({"train.csv": "1"})
    both = lineage({"train.csv": "1"}, code())
    assert comparison_lineage(comparison(data_only, data_only)) == ["same data as v1"]
    assert comparison_lineage(comparison(both, both)) == ["same data and code as v1"]
    assert comparison_lineage(comparison(None, None)) == []
    plain = Style()
    assert str(lineage_line(comparison(data_only, data_only), plain)) == "same data"
    assert str(lineage_line(comparison(both, both), plain)) == "same data · same code"
    assert lineage_line(comparison(Lineage(), Lineage()), plain) is None
    other = lineage({"train.csv": "2"}, code(B))
    assert str(lineage_line(comparison(both, other), plain)) == (
        "different data: v2 (train.csv differs (1111111 → 2222222))"
        " · different code: v2 (commit aaaaaaa → bbbbbbb)"
    )
