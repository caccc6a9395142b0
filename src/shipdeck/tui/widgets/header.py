"""One line on top: the product, each runner with its connection state, read-only mode."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from shipdeck.tui.current import cockpit_of
from shipdeck.tui.format import clip, clip_name

STATE_GLYPH = {"live": "●", "reconnecting": "◌", "offline": "○"}
STATE_COLOUR = {"live": "success", "reconnecting": "warning", "offline": "error"}
TITLE_CELLS = 40
"""A breadcrumb (`run #18 / <task>`) is cut here, so the runners' states stay on screen."""


def polled_freshness(runner: object) -> str | None:
    """ "updated 4s ago" for a runner that polls its backend (its `state` says when it last
    answered, as `state.status` says whether it is live); None for one that pushes events."""
    ago = getattr(getattr(runner, "state", None), "ago", None)
    return str(ago()) if callable(ago) else None


class AppHeader(Widget):
    DEFAULT_CSS = """
    AppHeader { dock: top; height: 1; background: $panel; color: $foreground; }
    AppHeader.-config-problem { height: 2; }
    """

    def __init__(self, title: str = "") -> None:
        super().__init__()
        self.title_text = title

    def on_mount(self) -> None:
        self.sync()
        self.set_interval(1.0, self.sync)

    def sync(self) -> None:
        """Repaint; two lines while the active runner's workspace file does not load."""
        app = cockpit_of(self)
        self.set_class(bool(app.config_problems.get(app.active)), "-config-problem")
        self.refresh()

    def render(self) -> Text:
        app = cockpit_of(self)
        palette = app.palette
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append(" shipdeck ", style="bold")
        if self.title_text:
            line.append(clip(self.title_text, TITLE_CELLS) + " ", style=palette.muted)
        before: Style | None = None  # the previous runner's state's style: the gap takes it
        for index, runner in enumerate(app.runners):
            state = app.connection_state(index)
            chosen = index == app.active and len(app.runners) > 1
            gap = " " if chosen else "  "
            name = f"{'▸' if chosen else ''}{clip_name(runner.name)} "
            if before is None:
                line.append(gap + name)
            else:
                # The gap ends the previous state's run of text rather than starting this
                # name's: an SVG viewer that trims each run's spaces (librsvg does) would
                # otherwise print "livelab".
                line.append(gap, style=before)
                line.append(name)
            style = palette.colour(STATE_COLOUR.get(state, "foreground"))
            polled = polled_freshness(runner) if state == "live" else None
            if polled is not None:
                # A polling runner (MLflow) is never "live": say how old its view is.
                line.append(f"◷ {polled}", style=palette.muted)
                before = palette.muted
                continue
            line.append(f"{STATE_GLYPH.get(state, '?')} {state}", style=style)
            before = style
        if app.read_only:
            line.append("  READ-ONLY", style=palette.colour("warning") + Style(bold=True))
        problems = app.config_problems.get(app.active)
        if problems:
            # A second line while the workspace file does not load: the views show the last
            # configuration that did, the runner fires schedules, monitor and health checks
            # with it, and the operator must know why edits have no effect.
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            line.append("\n")
            # What keeps running comes first: at 80 columns the problem's text is cut.
            line.append(
                f" ⚠ last good configuration in use, schedules and checks too · {problems[0]}"
                f"{more}",
                style=palette.colour("warning") + Style(bold=True),
            )
        return line
