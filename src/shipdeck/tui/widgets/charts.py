"""Charts drawn with plotext (textual-plotext): per-step curves overlaid, bars per subject.

Series take the app theme's colours, in a fixed order, so the same subject keeps its colour
in every chart; the plot's background and text follow the theme through textual-plotext.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from textual.app import RenderResult
from textual.color import Color
from textual_plotext import PlotextPlot

SERIES_COLOURS = ("primary", "warning", "success", "error", "accent", "secondary")
RGB = tuple[int, int, int]


def series_colours(variables: Mapping[str, str], count: int) -> list[RGB]:
    """`count` distinguishable colours from the theme: its named colours, then lighter ones."""
    base: list[Color] = []
    for name in SERIES_COLOURS:
        try:
            base.append(Color.parse(variables.get(name, "")))
        except Exception:
            continue
    if not base:
        base = [Color(200, 200, 200)]
    colours = []
    for i in range(count):
        colour = base[i % len(base)]
        rounds = i // len(base)
        if rounds:
            colour = colour.lighten(0.15 * rounds)
        colours.append(colour.rgb)
    return colours


MAX_TICKS = 6
"""Labels at most on the x axis of curves over whole numbers."""


def whole_ticks(steps: Sequence[float]) -> list[int]:
    """Ticks at whole numbers (1, 2, 5, 10, 20, 50... apart) for an axis of whole steps (a
    metric's steps, a monitor's check numbers), where plotext would put one at 1.75; none
    (plotext's own) when a step is fractional."""
    if not steps or any(step != int(step) for step in steps):
        return []
    low, high = int(min(steps)), int(max(steps))
    wanted = (high - low) / (MAX_TICKS - 1)
    gap = next(
        base * 10**power for power in range(19) for base in (1, 2, 5) if base * 10**power >= wanted
    )
    first = -(-low // gap) * gap
    return list(range(first, high + 1, gap)) or [low]


@dataclass(frozen=True)
class Series:
    label: str
    steps: Sequence[float]
    values: Sequence[float]


class Chart(PlotextPlot):
    """One plotext chart; `curves` or `bars` replaces what it shows."""

    DEFAULT_CSS = """
    Chart { height: 1fr; min-height: 6; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.plt.clear_figure()
        self._figure = 0
        """Bumped whenever the figure changes."""
        self._drawn: tuple[tuple[object, ...], RenderResult] | None = None
        self.builds = 0
        """How many times the figure was built (plotext builds every time it is asked)."""

    def render(self) -> RenderResult:
        """The figure built once per content, size and theme: a repaint that changes none of
        them (a neighbour's layout, focus moving) reuses the drawing."""
        key = (self._figure, self.size, self.app.theme, self.theme)
        if self._drawn is None or self._drawn[0] != key:
            self.builds += 1
            self._drawn = (key, super().render())
        return self._drawn[1]

    def _reset(self, title: str) -> None:
        self._figure += 1
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)

    def curves(
        self, title: str, series: Sequence[Series], *, ylabel: str = "", xlabel: str = "step"
    ) -> None:
        self._reset(title)
        plt = self.plt
        colours = series_colours(self.app.theme_variables, len(series))
        for one, colour in zip(series, colours, strict=True):
            if one.values:
                plt.plot(
                    list(one.steps),
                    list(one.values),
                    label=one.label,
                    color=colour,
                    marker="braille",
                )
        ticks = whole_ticks([step for one in series if one.values for step in one.steps])
        if ticks:
            plt.xticks([float(tick) for tick in ticks], [str(tick) for tick in ticks])
        plt.xlabel(xlabel)
        if ylabel:
            plt.ylabel(ylabel)
        self.refresh()

    def bars(self, title: str, labels: Sequence[str], values: Sequence[float]) -> None:
        """One bar per subject in its series colour; the axis starts near the smallest value so
        small differences between close runs stay visible (the title says so)."""
        self._reset(title)
        plt = self.plt
        if not values:
            self.refresh()
            return
        colours = series_colours(self.app.theme_variables, len(labels))
        low, high = min(values), max(values)
        span = (high - low) or abs(high) * 0.1 or 1.0
        for position, (value, colour) in enumerate(zip(values, colours, strict=True), start=1):
            plt.bar([position], [value], color=colour, width=0.6)
        plt.xticks(list(range(1, len(labels) + 1)), list(labels))
        plt.ylim(low - span * 0.5, high + span * 0.2)
        self.refresh()

    def empty(self, title: str) -> None:
        self._reset(title)
        self.refresh()
