"""Cycle finding on task graphs, including graphs too deep for recursion."""

from __future__ import annotations

from shipdeck.workspace.validate import find_cycles


def test_acyclic_graph_has_no_cycles() -> None:
    assert find_cycles({"a": [], "b": ["a"], "c": ["a", "b"]}) == []


def test_one_cycle_per_group_starting_at_the_first_declared_task() -> None:
    graph = {
        "d": [],
        "a": ["b"],
        "b": ["c", "a"],
        "c": ["a"],
        "x": ["y", "d"],
        "y": ["x"],
    }
    assert find_cycles(graph) == [["a", "b", "a"], ["x", "y", "x"]]


def test_shortest_cycle_is_reported() -> None:
    graph = {"a": ["b"], "b": ["c", "e"], "c": ["d"], "d": ["a"], "e": ["a"]}
    assert find_cycles(graph) == [["a", "b", "e", "a"]]


def test_long_chains_do_not_exhaust_the_stack() -> None:
    size = 5000
    chain = {f"t{i}": [f"t{i + 1}"] if i + 1 < size else [] for i in range(size)}
    assert find_cycles(chain) == []
    chain[f"t{size - 1}"] = ["t0"]
    cycle = find_cycles(chain)
    assert len(cycle) == 1
    assert cycle[0][0] == cycle[0][-1] == "t0"
    assert len(cycle[0]) == size + 1
