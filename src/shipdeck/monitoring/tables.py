"""Read a data file (CSV or JSON lines) into named columns, for the drift report.

Each column is parsed once, here: numeric when every non-empty value parses as a finite
number (an array of floats, NaN where a value is missing), otherwise categorical (an array of
its values as text, "" where missing). Empty cells and JSON nulls are missing values, left out
of the statistics. Every problem is one line naming the file and, where there is one, the line
and the column.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

from shipdeck.errors import InvalidInput
from shipdeck.model.text import json_object

MISSING = ""


@dataclass(frozen=True)
class Column:
    values: npt.NDArray[Any]
    """Floats (NaN: missing) when `numeric`, else text ("": missing), in row order."""
    numeric: bool
    text: list[str]
    """The values as written ("": missing)."""

    def present(self) -> npt.NDArray[Any]:
        """The values that are not missing."""
        kept: npt.NDArray[Any]
        if self.numeric:
            kept = self.values[~np.isnan(self.values)]
        else:
            kept = self.values[self.values != MISSING]
        return kept

    def present_text(self) -> npt.NDArray[Any]:
        """The values that are not missing, as written."""
        return np.asarray([value for value in self.text if value != MISSING], dtype=str)

    def first_text(self) -> str:
        """The first value that is not a number (for a column that was expected to be numeric)."""
        for value in self.values:
            if value != MISSING and _floats([str(value)]) is None:
                return str(value)
        return ""

    def row_of(self, value: str) -> int:
        return int(np.flatnonzero(self.values == value)[0]) + 1


@dataclass(frozen=True)
class Table:
    path: Path
    columns: dict[str, Column]
    rows: int


def column(values: list[str]) -> Column:
    """Numeric when every non-missing value is a finite number (and there is one)."""
    numbers = _floats(["nan" if value == MISSING else value for value in values])
    if numbers is not None and not bool(np.isnan(numbers).all()):
        return Column(numbers, True, values)
    return Column(np.asarray(values, dtype=str), False, values)


def _floats(values: list[str]) -> npt.NDArray[np.float64] | None:
    try:
        numbers = np.asarray(values, dtype=np.float64)
    except ValueError:
        return None
    return None if bool(np.isinf(numbers).any()) else numbers


def read_table(path: Path) -> Table:
    """The columns of a `.csv` (header row) or `.jsonl`/`.ndjson`/`.json` (one object a line)."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
                return _read_json_lines(path, handle)
            return _read_csv(path, handle)
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path}: is a directory, not a data file") from None
    except UnicodeDecodeError as error:
        raise InvalidInput(f"{path}: not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise InvalidInput(f"{path}: cannot read: {error.strerror}") from None


def _read_csv(path: Path, handle: TextIO) -> Table:
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput(f"{path}: empty file (expected a header row)") from None
    except csv.Error as error:
        raise InvalidInput(f"{path}:1: {error}") from None
    names = [name.strip() for name in header]
    if any(not name for name in names):
        raise InvalidInput(f"{path}:1: a column has no name")
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate is not None:
        raise InvalidInput(f"{path}:1: column {duplicate!r} appears twice")
    try:
        rows = list(reader)
    except csv.Error as error:
        raise InvalidInput(f"{path}:{reader.line_num}: {error}") from None
    rows = [row for row in rows if row]
    width = len(names)
    for number, row in enumerate(rows, start=2):
        if len(row) != width:
            raise InvalidInput(
                f"{path}:{number}: {len(row)} values for {width} columns ({', '.join(names)})"
            )
    if not rows:
        raise InvalidInput(f"{path}: no rows under the header")
    columns = {name: column([row[index] for row in rows]) for index, name in enumerate(names)}
    return Table(path, columns, len(rows))


def _read_json_lines(path: Path, handle: TextIO) -> Table:
    records: list[dict[str, object]] = []
    for number, line in enumerate(handle, start=1):
        text = line.strip()
        if not text:
            continue
        try:
            records.append(json_object(text))
        except ValueError as error:
            raise InvalidInput(f"{path}:{number}: {error} (one JSON object per line)") from None
    if not records:
        raise InvalidInput(f"{path}: empty file (expected one JSON object per line)")
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    columns = {name: column([_cell(record.get(name)) for record in records]) for name in names}
    return Table(path, columns, len(records))


def _cell(value: object) -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)
