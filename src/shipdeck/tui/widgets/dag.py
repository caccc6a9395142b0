"""The pipeline DAG: boxes coloured by task status, edges between them, a selected task.

Painted onto a character grid once per change; only visible rows become strips, so a
500-task DAG costs the same per frame as a 5-task one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from shipdeck.formatting import format_duration
from shipdeck.model import PipelineSpec, TaskRun, TaskStatus
from shipdeck.model.ids import run_label
from shipdeck.tui import keymap
from shipdeck.tui.dag_layout import BOX_HEIGHT, EDGE_CHARS, DagLayout, layout_dag, neighbour
from shipdeck.tui.format import Clock, clip, glyph, system_clock, task_elapsed

ROUND = "╭╮╰╯─│"
HEAVY = "┏┓┗┛━┃"
STATUSES = [s.value for s in TaskStatus]
_VERDICTS = frozenset(
    f"dag--{s}" for s in ("running", "retrying", "succeeded", "failed", "cancelled", "interrupted")
)
"""States the box's colour tells (besides its glyph), dropped under NO_COLOR."""


class DagView(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    DagView { background: $surface; scrollbar-size: 1 1; }
    DagView > .dag--edge { color: $foreground 40%; }
    DagView > .dag--edge-selected { color: $primary; }
    DagView > .dag--selected { text-style: bold; }
    DagView > .dag--name { color: $foreground; }
    DagView > .dag--name-selected { color: $background; background: $foreground; text-style: bold; }
    DagView > .dag--pending { color: $foreground 50%; }
    DagView > .dag--running { color: $accent; }
    DagView > .dag--retrying { color: $warning; }
    DagView > .dag--succeeded { color: $success; }
    DagView > .dag--failed { color: $error; text-style: bold; }
    DagView > .dag--skipped { color: $foreground 50%; }
    DagView > .dag--cancelled { color: $warning; }
    DagView > .dag--interrupted { color: $warning; }
    """
    COMPONENT_CLASSES = {
        "dag--edge",
        "dag--edge-selected",
        "dag--selected",
        "dag--name",
        "dag--name-selected",
        *(f"dag--{s}" for s in STATUSES),
    }
    BINDINGS: ClassVar[list[BindingType]] = list(
        keymap.bindings("dag.left", "dag.down", "dag.up", "dag.right")
    )

    selected: reactive[str] = reactive("", always_update=True)

    class Selected(Message):
        def __init__(self, dag: DagView, task: str) -> None:
            super().__init__()
            self.dag = dag
            self.task = task

    def __init__(
        self,
        spec: PipelineSpec,
        tasks: Iterable[TaskRun] = (),
        *,
        clock: Clock = system_clock,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.spec = spec
        self.clock = clock
        self.layout_: DagLayout = layout_dag(spec)
        self.tasks: dict[str, TaskRun] = {t.name: t for t in tasks}
        self._chars: list[list[str]] = []
        self._styles: list[list[str]] = []
        self._strips: dict[tuple[int, int, int], Strip] = {}
        self._style_cache: dict[str, Style] = {}
        self.virtual_size = Size(self.layout_.width, self.layout_.height)
        first = next(iter(self.layout_.boxes), "")
        self.set_reactive(DagView.selected, first)
        self._paint()

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick_running)
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def _on_theme_changed(self, _theme: object) -> None:
        self._style_cache.clear()
        self._invalidate()

    # State in.

    def update_tasks(self, tasks: Iterable[TaskRun]) -> None:
        changed = False
        for task in tasks:
            if self.tasks.get(task.name) != task and task.name in self.layout_.boxes:
                self.tasks[task.name] = task
                self._paint_box(task.name)
                changed = True
        if changed:
            self._invalidate()

    def watch_selected(self, old: str, new: str) -> None:
        if new not in self.layout_.boxes:
            return
        if old in self.layout_.boxes:
            self._paint_edges_of(old, lit=False)
            self._paint_box(old)
        self._paint_edges_of(new)
        self._paint_box(new)
        self._invalidate()
        box = self.layout_.boxes[new]
        self.scroll_to_region(Region(box.x, box.y, box.width, BOX_HEIGHT), animate=False)
        self.post_message(self.Selected(self, new))

    def action_move(self, direction: str) -> None:
        if self.selected:
            self.selected = neighbour(self.layout_, self.selected, direction)

    # Painting.

    def _invalidate(self) -> None:
        self._strips.clear()
        self.refresh()

    def _tick_running(self) -> None:
        running = [t.name for t in self.tasks.values() if t.status == TaskStatus.RUNNING]
        for name in running:
            self._paint_box(name)
        if running:
            self._invalidate()

    def _paint(self) -> None:
        layout = self.layout_
        self._chars = [[" "] * layout.width for _ in range(layout.height)]
        self._styles = [[""] * layout.width for _ in range(layout.height)]
        self._paint_cells(list(layout.edges), lit=False)
        self._paint_edges_of(self.selected)
        for name in layout.boxes:
            self._paint_box(name)

    def _paint_edges_of(self, name: str, *, lit: bool = True) -> None:
        self._paint_cells(self.layout_.cells_of.get(name, []), lit=lit)

    def _paint_cells(self, cells: list[tuple[int, int]], *, lit: bool) -> None:
        layout = self.layout_
        style = "dag--edge-selected" if lit else "dag--edge"
        for cell in cells:
            x, y = cell
            self._chars[y][x] = "▶" if cell in layout.arrows else EDGE_CHARS[layout.edges[cell]]
            self._styles[y][x] = style

    def _paint_box(self, name: str) -> None:
        box = self.layout_.boxes[name]
        task = self.tasks.get(name)
        status = task.status.value if task else "pending"
        selected = name == self.selected
        tl, tr, bl, br, h, v = tuple(HEAVY if selected else ROUND)
        inner = box.width - 2
        title = f"{h} {clip(name, inner - 3)} "
        top = tl + title + h * (inner - len(title)) + tr
        middle = v + self._label(task, status, inner).ljust(inner)[:inner] + v
        bottom = bl + h * inner + br
        style = f"dag--{status}" + (" dag--selected" if selected else "")
        name_style = "dag--name-selected" if selected else "dag--name"
        for dy, text in enumerate((top, middle, bottom)):
            row_chars = self._chars[box.y + dy]
            row_styles = self._styles[box.y + dy]
            for dx, char in enumerate(text):
                row_chars[box.x + dx] = char
                row_styles[box.x + dx] = style
        for dx in range(2, 2 + len(clip(name, inner - 3))):
            self._styles[box.y][box.x + dx + 1] = name_style

    def _label(self, task: TaskRun | None, status: str, width: int) -> str:
        if task is None:
            return f" {glyph(status)} pending"
        if task.reused_from is not None:
            return clip(f" {glyph(status)} kept {run_label(task.reused_from)}", width)
        if task.status in (TaskStatus.PENDING,):
            return f" {glyph(status)} pending"
        if task.status == TaskStatus.SKIPPED:
            return f" {glyph(status)} skipped"
        text = f" {glyph(status)} {format_duration(task_elapsed(task, self.clock()))}"
        if task.attempts > 1:
            attempts = f"\u00d7{task.attempts} "
            text = text.ljust(width - len(attempts)) + attempts
        return clip(text, width)

    # Rendering.

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.size.width
        key = (row, scroll_x, width)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._render_row(row, scroll_x, width)
            self._strips[key] = strip
        return strip

    def _style(self, key: str) -> Style:
        style = self._style_cache.get(key)
        if style is None:
            style = self.rich_style
            for part in key.split():
                component = self.get_component_rich_style(part, partial=True)
                if part in _VERDICTS and self.app.no_color:
                    # NO_COLOR greys every colour, a red darker than a green: the failed box
                    # would be the quiet one. Plain there; its glyph and bold tell the state.
                    component = Style(bold=component.bold)
                style += component
            self._style_cache[key] = style
        return style

    def _render_row(self, row: int, scroll_x: int, width: int) -> Strip:
        if row >= len(self._chars):
            return Strip.blank(width, self.rich_style)
        chars = self._chars[row][scroll_x : scroll_x + width]
        styles = self._styles[row][scroll_x : scroll_x + width]
        segments: list[Segment] = []
        start = 0
        for i in range(1, len(chars) + 1):
            if i == len(chars) or styles[i] != styles[start]:
                segments.append(Segment("".join(chars[start:i]), self._style(styles[start])))
                start = i
        strip = Strip(segments, len(chars))
        return strip.extend_cell_length(width, self.rich_style)
