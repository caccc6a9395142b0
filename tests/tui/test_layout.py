"""The DAG layout and the text helpers, on their own (pure functions, no app)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from shipdeck.formatting import format_age, format_duration
from shipdeck.model import PipelineSpec, TaskSpec
from shipdeck.tui.dag_layout import BOX_HEIGHT, layout_dag, neighbour
from shipdeck.tui.format import clip, progress_bar


def spec_of(edges: dict[str, tuple[str, ...]]) -> PipelineSpec:
    tasks = {name: TaskSpec(name=name, run="true", needs=needs) for name, needs in edges.items()}
    return PipelineSpec(name="p", tasks=tasks)


def random_spec(count: int, seed: int) -> PipelineSpec:
    rng = random.Random(seed)
    edges: dict[str, tuple[str, ...]] = {}
    for i in range(count):
        picks = {f"t{rng.randrange(i)}" for _ in range(rng.randint(0, 3))} if i else set()
        edges[f"t{i}"] = tuple(sorted(picks))
    return spec_of(edges)


def test_columns_follow_depth_and_edges_never_cross_a_box() -> None:
    spec = random_spec(120, seed=3)
    layout = layout_dag(spec)
    depths = spec.depths()
    box_cells = set()
    for name, box in layout.boxes.items():
        assert box.column == depths[name]
        for dy in range(BOX_HEIGHT):
            for dx in range(box.width):
                cell = (box.x + dx, box.y + dy)
                assert cell not in box_cells, "boxes overlap"
                box_cells.add(cell)
    assert not box_cells & set(layout.edges), "an edge runs through a box"
    assert all(0 <= x < layout.width and 0 <= y < layout.height for x, y in layout.edges)


def test_every_dependency_arrives_at_its_task() -> None:
    spec = random_spec(60, seed=9)
    layout = layout_dag(spec)
    arrived = set(layout.arrows.values())
    assert arrived == {name for name, task in spec.tasks.items() if task.needs}
    for (x, y), child in layout.arrows.items():
        box = layout.boxes[child]
        assert (x, y) == (box.x - 1, box.middle)
        for parent in spec.tasks[child].needs:
            assert (x, y) in layout.cells_of[parent]


def test_moves_stay_inside_the_graph() -> None:
    spec = spec_of({"a": (), "b": ("a",), "c": ("a",), "d": ("b", "c")})
    layout = layout_dag(spec)
    assert neighbour(layout, "a", "left") == "a"
    assert neighbour(layout, "a", "right") == "b"
    assert neighbour(layout, "b", "down") == "c"
    assert neighbour(layout, "c", "down") == "c"
    assert neighbour(layout, "c", "right") == "d"


def test_text_helpers() -> None:
    assert [format_duration(s) for s in (None, 0.42, 12.9, 185, 3720, 90000)] == [
        "-",
        "0.4s",
        "12s",
        "3m05s",
        "1h02m",
        "1d01h",
    ]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert format_age(now - timedelta(seconds=5), now) == "5s ago"
    assert format_age(now - timedelta(hours=3), now) == "3h ago"
    assert progress_bar(3, 5, 10) == "▰▰▰▰▰▰▱▱▱▱"
    assert clip("evaluate_model", 8) == "evaluat…"
