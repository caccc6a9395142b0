"""Checks on a pipeline's task graph: every need names another task, and there are no cycles."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping, Sequence

from shipdeck.workspace.locate import KeyPath
from shipdeck.workspace.problems import Problems, did_you_mean


def check_needs(
    pipeline: KeyPath, needs: Mapping[str, Sequence[str]], problems: Problems
) -> dict[str, tuple[str, ...]]:
    """Report bad `needs` entries and cycles; return each task's needs with bad entries left out.

    `needs` maps task names, in declaration order, to the names they list. `pipeline` is the
    key path of the pipeline, for locating the problems.
    """
    clean: dict[str, tuple[str, ...]] = {}
    for task, listed in needs.items():
        where = (*pipeline, "tasks", task, "needs")
        kept: list[str] = []
        for index, need in enumerate(listed):
            item = (*where, str(index))
            if need == task:
                problems.add(where, "task needs itself", line_of=item)
            elif need not in needs:
                others = [name for name in needs if name != task]
                problems.add(
                    where, f"needs unknown task {need!r}{did_you_mean(need, others)}", line_of=item
                )
            elif need in kept:
                problems.add(where, f"lists {need!r} twice", line_of=item)
            else:
                kept.append(need)
        clean[task] = tuple(kept)
    for cycle in find_cycles(clean):
        problems.add((*pipeline, "tasks", cycle[0], "needs"), "cycle: " + " -> ".join(cycle))
    return clean


def find_cycles(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """One cycle per group of tasks that need each other, as [a, b, ..., a] (a needs b ...).

    Each cycle starts at the group's first task in declaration order and is a shortest one.
    """
    order = {name: position for position, name in enumerate(graph)}
    cycles: list[list[str]] = []
    for group in _strongly_connected(graph):
        if len(group) < 2:
            continue
        start = min(group, key=order.__getitem__)
        cycles.append(_shortest_cycle(graph, start, set(group)))
    cycles.sort(key=lambda cycle: order[cycle[0]])
    return cycles


def _shortest_cycle(graph: Mapping[str, Sequence[str]], start: str, group: set[str]) -> list[str]:
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for need in graph[node]:
            if need == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if need in group and need not in came_from:
                came_from[need] = node
                queue.append(need)
    raise AssertionError(f"{start!r} is in a strongly connected group but has no cycle")


def _strongly_connected(graph: Mapping[str, Sequence[str]]) -> Iterator[list[str]]:
    """Tarjan's algorithm, iterative so long chains of tasks cannot exhaust the stack."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)

    for root in graph:
        if root in index:
            continue
        visit(root)
        work: list[tuple[str, Iterator[str]]] = [(root, iter(graph[root]))]
        while work:
            node, edges = work[-1]
            descended = False
            for need in edges:
                if need not in index:
                    visit(need)
                    work.append((need, iter(graph[need])))
                    descended = True
                    break
                if need in on_stack:
                    low[node] = min(low[node], index[need])
            if descended:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                yield group
