"""Lineage: the code (git commit) and the data (digests of declared inputs) a run used, so a
model version says what it came from and a comparison says when two were trained apart."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from shipdeck.model.frozen import LazyFrozenModel
from shipdeck.model.ids import Id, run_label

SHORT = 7
"""Characters of a digest shown where space is tight (as git shortens commits)."""


class LineageKind(StrEnum):
    DATA = "data"
    CODE = "code"


class CodeVersion(LazyFrozenModel):
    """The workspace's git state when a run started."""

    commit: str
    """The full sha of HEAD."""
    short: str
    """HEAD as `git rev-parse --short` abbreviates it (unique in that repository)."""
    branch: str | None = None
    """None on a detached HEAD."""
    dirty: bool | None = False
    """Whether the tree had changes against HEAD (untracked files count); None when
    `git status` did not answer in time."""
    changed_files: int = 0
    """Entries `git status --porcelain` listed (an untracked directory counts once)."""
    changes_sha256: str | None = None
    """For a dirty tree: sha256 of `git diff HEAD --binary` and the untracked paths, so two
    runs on the same commit with the same edits compare as the same code."""

    @property
    def label(self) -> str:
        """`1a2b3c4`, `1a2b3c4 (dirty)` or `1a2b3c4 (dirty?)`."""
        if self.dirty is None:
            return f"{self.short} (dirty?)"
        return f"{self.short} (dirty)" if self.dirty else self.short

    @property
    def identity(self) -> tuple[str, bool | None, str | None]:
        """What makes two code versions the same: commit, dirty flag, changes."""
        return (self.commit, self.dirty, self.changes_sha256)

    def same_code(self, other: CodeVersion) -> bool:
        """True only when both ran exactly the same tracked code: the same commit, and both
        clean or both dirty with the same changes."""
        if self.commit != other.commit or self.dirty is None or other.dirty is None:
            return False
        if not self.dirty and not other.dirty:
            return True
        return (
            self.dirty == other.dirty
            and self.changes_sha256 is not None
            and self.changes_sha256 == other.changes_sha256
        )


class InputFile(LazyFrozenModel):
    """One file a task declared in `inputs`, as it was when the task started."""

    task: str
    path: str
    """Relative to the workspace root, with '/' separators."""
    sha256: str
    size: int
    mtime: datetime
    reused_from: Id | None = None
    """Set when the task was kept from an earlier run: the run that read this file."""


class ReusedCode(LazyFrozenModel):
    """The code of an earlier run whose tasks a rerun kept (they ran at that commit)."""

    run_id: Id
    code: CodeVersion | None = None


class Lineage(LazyFrozenModel):
    """What a run (or the part of it that built a model version) came from."""

    code: CodeVersion | None = None
    """None outside a git repository, without git, or for runs recorded before lineage."""
    inputs: list[InputFile] = Field(default_factory=list)
    """Declared inputs of the tasks that started, in task then path order."""
    reused_code: list[ReusedCode] = Field(default_factory=list)
    """For a rerun: the code of each earlier run whose tasks it kept, when it differs."""

    @property
    def recorded(self) -> bool:
        return self.code is not None or bool(self.inputs)

    def knows(self, kind: LineageKind) -> bool:
        """Whether it recorded its code (a git commit) or its data (declared inputs)."""
        return self.code is not None if kind == LineageKind.CODE else bool(self.inputs)

    def files(self) -> dict[str, str]:
        """Path -> sha256 of every input (a path two tasks declared is one file)."""
        return {item.path: item.sha256 for item in self.inputs}

    @property
    def data_sha256(self) -> str | None:
        """One digest of every input path and its content: equal when the data is equal."""
        files = self.files()
        if not files:
            return None
        digest = hashlib.sha256()
        for path in sorted(files):
            digest.update(f"{path}\0{files[path]}\n".encode())
        return digest.hexdigest()

    def summary(self) -> str:
        """One line: `code 1a2b3c4 (dirty) · data 3f2a1b0 (2 inputs)`; "" when nothing."""
        parts = []
        if self.code is not None:
            parts.append(f"code {self.code.label}")
        data = self.data_sha256
        if data is not None:
            count = len(self.files())
            parts.append(f"data {data[:SHORT]} ({count} input{'' if count == 1 else 's'})")
        return " · ".join(parts)

    def for_task(self, task: str, needs: dict[str, list[str] | None]) -> Lineage:
        """The lineage of what `task` produced: the inputs of it and of the tasks it needs,
        transitively (`needs`: each task's recorded needs; None counts as none)."""
        wanted = {task}
        pending = [task]
        while pending:
            for need in needs.get(pending.pop()) or []:
                if need not in wanted:
                    wanted.add(need)
                    pending.append(need)
        reused_runs = {i.reused_from for i in self.inputs if i.task in wanted and i.reused_from}
        return Lineage(
            code=self.code,
            inputs=[item for item in self.inputs if item.task in wanted],
            reused_code=[c for c in self.reused_code if c.run_id in reused_runs],
        )


class LineageFlag(LazyFrozenModel):
    """A comparison's subject trained on other data or code than the first one."""

    kind: LineageKind
    subject: str
    """The label of the subject that differs (`churn@v2`, `#12`)."""
    against: str
    """The label of the first subject, which every other is compared with."""
    detail: str
    """What differs, in one line: `data/train.csv differs (3f2a1b0 → 8c9d0e1)`."""


def lineage_flags(labels: Sequence[str], lineages: Sequence[Lineage | None]) -> list[LineageFlag]:
    """Where each subject's data and code differ from the first subject's. Subjects with no
    lineage at all (recorded before it existed, or by a runner without it) are not flagged:
    unknown is not different."""
    if not lineages or lineages[0] is None or not lineages[0].recorded:
        return []
    first, against = lineages[0], labels[0]
    flags: list[LineageFlag] = []
    for label, other in zip(labels[1:], lineages[1:], strict=True):
        if other is None or not other.recorded:
            continue
        data = _data_difference(first, other, against, label)
        if data:
            flags.append(
                LineageFlag(kind=LineageKind.DATA, subject=label, against=against, detail=data)
            )
        code = _code_difference(first, other, against, label)
        if code:
            flags.append(
                LineageFlag(kind=LineageKind.CODE, subject=label, against=against, detail=code)
            )
    return flags


def _data_difference(first: Lineage, other: Lineage, against: str, label: str) -> str:
    mine, theirs = first.files(), other.files()
    if not mine and not theirs:
        return ""
    changed = sorted(p for p in mine.keys() & theirs.keys() if mine[p] != theirs[p])
    only_first = sorted(mine.keys() - theirs.keys())
    only_other = sorted(theirs.keys() - mine.keys())
    parts: list[str] = []
    if len(changed) == 1:
        path = changed[0]
        parts.append(f"{path} differs ({mine[path][:SHORT]} → {theirs[path][:SHORT]})")
    elif changed:
        parts.append(f"{_listed(changed)} differ")
    if only_other:
        parts.append(f"only {label} read {_listed(only_other)}")
    if only_first:
        parts.append(f"only {against} read {_listed(only_first)}")
    return "; ".join(parts)


def _code_difference(first: Lineage, other: Lineage, against: str, label: str) -> str:
    a, b = first.code, other.code
    if a is None and b is None:
        return ""
    if a is None or b is None:
        missing = against if a is None else label
        return f"no code version recorded for {missing}"
    if a.commit != b.commit:
        return f"commit {a.label} → {b.label}"
    if a.same_code(b):
        return _reused_difference(first, other)
    if a.dirty is None or b.dirty is None:
        return f"same commit {a.short}, but whether the tree was dirty is unknown"
    if a.dirty and b.dirty:
        if a.changes_sha256 is None or b.changes_sha256 is None:
            return f"same commit {a.short}, both with uncommitted changes that were not digested"
        return f"same commit {a.short}, different uncommitted changes"
    dirty = against if a.dirty else label
    return f"same commit {a.short}, but {dirty} ran with uncommitted changes"


def _reused_difference(first: Lineage, other: Lineage) -> str:
    """Reruns that kept tasks of runs at other code ran partly on that code."""
    mine = {_code_key(item.code): item for item in first.reused_code}
    theirs = {_code_key(item.code): item for item in other.reused_code}
    if mine.keys() == theirs.keys():
        return ""
    differing = [mine[key] for key in mine.keys() - theirs.keys()]
    differing += [theirs[key] for key in theirs.keys() - mine.keys()]
    shown = sorted(
        f"{run_label(item.run_id)} at {item.code.label if item.code else 'unknown code'}"
        for item in differing
    )
    return "kept tasks that ran at other code: " + ", ".join(shown)


def _code_key(code: CodeVersion | None) -> tuple[str, bool | None, str | None] | None:
    return None if code is None else code.identity


def _listed(paths: Sequence[str], shown: int = 2) -> str:
    if len(paths) <= shown:
        return ", ".join(paths)
    return f"{', '.join(paths[:shown])} and {len(paths) - shown} more"
