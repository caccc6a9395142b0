"""Layered layout of a pipeline DAG on a character grid: columns by depth, rows by barycenter.

Pure geometry (no textual): the DAG widget paints boxes and edges from this.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shipdeck.model import PipelineSpec

BOX_HEIGHT = 3
ROW_PITCH = BOX_HEIGHT + 1
GAP = 5
"""Columns between boxes: exit, run, channel, run, arrow."""
MIN_BOX_WIDTH = 14
MAX_BOX_WIDTH = 24

# Direction bits of a grid cell that edges pass through.
N, E, S, W = 1, 2, 4, 8
EDGE_CHARS = {
    E | W: "─",
    E: "─",
    W: "─",
    N | S: "│",
    N: "│",
    S: "│",
    E | S: "╭",
    W | S: "╮",
    N | E: "╰",
    N | W: "╯",
    N | S | E: "├",
    N | S | W: "┤",
    E | W | S: "┬",
    E | W | N: "┴",
    N | E | S | W: "┼",
}


@dataclass(frozen=True)
class Box:
    name: str
    column: int
    row: int
    x: int
    y: int
    width: int

    @property
    def middle(self) -> int:
        return self.y + BOX_HEIGHT // 2


@dataclass
class DagLayout:
    boxes: dict[str, Box]
    columns: list[list[str]]
    edges: dict[tuple[int, int], int]
    """Grid cell -> direction bits, for every cell an edge passes through."""
    arrows: dict[tuple[int, int], str]
    """Cells just left of a box where an edge arrives: cell -> the child task."""
    width: int
    height: int
    cells_of: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    """Task -> the cells of its incoming and outgoing edges (repainted when it is selected)."""


def _order_columns(spec: PipelineSpec, columns: list[list[str]]) -> None:
    """Sort each column by the mean row of its parents (then children) to cut crossings."""
    position = {name: i for column in columns for i, name in enumerate(column)}
    declared = {name: i for i, name in enumerate(spec.tasks)}
    children: dict[str, list[str]] = {name: [] for name in spec.tasks}
    for name, task in spec.tasks.items():
        for need in task.needs:
            children[need].append(name)

    def barycenter(name: str, neighbours: list[str]) -> float:
        if not neighbours:
            return float(position[name])
        return sum(position[n] for n in neighbours) / len(neighbours)

    for column in columns[1:]:
        column.sort(key=lambda n: (barycenter(n, list(spec.tasks[n].needs)), declared[n]))
        position.update({name: i for i, name in enumerate(column)})
    for column in reversed(columns[:-1]):
        column.sort(key=lambda n: (barycenter(n, children[n]), declared[n]))
        position.update({name: i for i, name in enumerate(column)})


def layout_dag(spec: PipelineSpec) -> DagLayout:
    depths = spec.depths()
    columns: list[list[str]] = [[] for _ in range(max(depths.values(), default=-1) + 1)]
    for name in spec.tasks:
        columns[depths[name]].append(name)
    _order_columns(spec, columns)

    widths = [
        max(MIN_BOX_WIDTH, min(MAX_BOX_WIDTH, max((len(n) for n in col), default=0) + 6))
        for col in columns
    ]
    lefts: list[int] = []
    x = 0
    for width in widths:
        lefts.append(x)
        x += width + GAP
    total_width = max(x - GAP, 0)

    boxes: dict[str, Box] = {}
    for c, column in enumerate(columns):
        for r, name in enumerate(column):
            boxes[name] = Box(name, c, r, lefts[c], r * ROW_PITCH, widths[c])
    height = max((len(col) for col in columns), default=0) * ROW_PITCH - 1

    edges: dict[tuple[int, int], int] = {}
    arrows: dict[tuple[int, int], str] = {}
    cells_of: dict[str, list[tuple[int, int]]] = {name: [] for name in spec.tasks}
    path: list[tuple[int, int]] = []

    def segment(cells: list[tuple[int, int]], back: int, ahead: int) -> None:
        """A straight run of cells: each joins the one before (`back`) and after (`ahead`)."""
        last = len(cells) - 1
        for i, cell in enumerate(cells):
            edges[cell] = edges.get(cell, 0) | (back if i > 0 else 0) | (ahead if i < last else 0)
            path.append(cell)

    def horizontal(y: int, x1: int, x2: int) -> None:
        segment([(cx, y) for cx in range(min(x1, x2), max(x1, x2) + 1)], W, E)

    def vertical(x: int, y1: int, y2: int) -> None:
        segment([(x, cy) for cy in range(min(y1, y2), max(y1, y2) + 1)], N, S)

    for name, task in spec.tasks.items():
        child = boxes[name]
        for need in task.needs:
            parent = boxes[need]
            start = parent.x + parent.width
            end = child.x - 1
            channel_in = child.x - GAP + 2
            if child.column - parent.column == 1:
                horizontal(parent.middle, start, channel_in)
                vertical(channel_in, parent.middle, child.middle)
                horizontal(child.middle, channel_in, end)
            else:
                # Skip intermediate columns along the free row between boxes.
                channel_out = start + 2
                mid = (parent.middle + child.middle) // 2
                corridor = (mid // ROW_PITCH) * ROW_PITCH + BOX_HEIGHT
                horizontal(parent.middle, start, channel_out)
                vertical(channel_out, parent.middle, corridor)
                horizontal(corridor, channel_out, channel_in)
                vertical(channel_in, corridor, child.middle)
                horizontal(child.middle, channel_in, end)
                height = max(height, corridor + 1)
            arrows[(end, child.middle)] = name
            path.append((end, child.middle))
            cells_of[need].extend(path)
            cells_of[name].extend(path)
            path.clear()
    return DagLayout(boxes, columns, edges, arrows, total_width, max(height, 0), cells_of)


def neighbour(layout: DagLayout, current: str, direction: str) -> str:
    """The task to select when moving from `current` in a direction (or `current`)."""
    box = layout.boxes[current]
    if direction in ("up", "down"):
        column = layout.columns[box.column]
        index = box.row + (1 if direction == "down" else -1)
        return column[index] if 0 <= index < len(column) else current
    target = box.column + (1 if direction == "right" else -1)
    if not 0 <= target < len(layout.columns) or not layout.columns[target]:
        return current
    return min(layout.columns[target], key=lambda n: abs(layout.boxes[n].y - box.y))
