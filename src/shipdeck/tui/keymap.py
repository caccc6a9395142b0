"""Every key binding of the TUI, by id: the one source for footer, `?` help and user keymaps.

Users remap a binding in the config file with `[keymap] <id> = "keys"` (comma-separated keys).
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.binding import Binding

from shipdeck.tui.views.registry import VIEWS


def binding(
    binding_id: str,
    key: str,
    action: str,
    description: str,
    *,
    show: bool = True,
    help: str = "",
    priority: bool = False,
) -> Binding:
    """A binding with its id. `description` is the footer's
    short label; `help` (the tooltip) is the `?` line.

    `priority` for a key that opens a text box: the app runs it before it hands on the keys
    typed after it, so those land in the box (a plain binding runs only once the key has
    bubbled up, and the next letters were already on their way to the old focus)."""
    return Binding(
        key,
        action,
        description,
        show=show,
        id=binding_id,
        tooltip=help or description,
        priority=priority,
    )


_b = binding

ALL_BINDINGS: dict[str, Binding] = {
    b.id: b  # type: ignore[misc]
    for b in (
        # App-wide: a number key per tab view.
        *(
            _b(v.binding_id, v.key, f"app.switch_view('{v.id}')", v.description, show=False)
            for v in VIEWS
        ),
        _b("help", "question_mark", "app.help", "Help"),
        _b("quit", "q", "app.quit", "Quit", help="Quit (from a deeper view: asks first)"),
        _b("quit-now", "Q", "app.quit_now", "Quit", show=False, help="Quit without asking"),
        _b("back", "escape", "back", "Back", show=False, help="Back to the previous screen"),
        _b(
            "close",
            "q",
            "back",
            "Back",
            help="Back to the previous screen (run, log and compare views, as in a pager)",
        ),
        # Lists (overview, pipelines, runs).
        _b("list.down", "j", "cursor_down", "Down", show=False),
        _b("list.up", "k", "cursor_up", "Up", show=False),
        _b("list.first", "home,g", "first_row", "First", show=False, help="First row"),
        _b("list.last", "end,G", "last_row", "Last", show=False, help="Last row"),
        _b(
            "open",
            "enter",
            "open",
            "Open",
            help="Open the selected run (a pipeline: its latest run)",
        ),
        _b("refresh", "ctrl+r", "refresh", "Refresh", show=False, help="Reload from the runner"),
        # Actions on runs; hidden and refused in read-only mode.
        _b("trigger", "t", "trigger", "Trigger", help="Start the pipeline (params form)"),
        _b("rerun", "r", "rerun", "Rerun", help="Rerun the whole run (preview first)"),
        _b(
            "rerun-failed",
            "R",
            "rerun_failed",
            "Failed",
            help="Rerun failed tasks and their downstream",
        ),
        _b(
            "rerun-from",
            "F",
            "rerun_from",
            "From",
            help="Rerun from the selected task, with its downstream",
        ),
        _b(
            "cancel",
            "c",
            "cancel",
            "Cancel",
            help="Cancel the run (kills running tasks; preview first)",
        ),
        # Runs view.
        _b(
            "runs.filter",
            "slash",
            "filter",
            "Filter",
            help="Filter runs by words (#id, status...)",
            priority=True,
        ),
        _b(
            "runs.clear-filter",
            "escape",
            "clear_filter",
            "Clear",
            show=False,
            help="Clear the filter",
        ),
        # Run view: the DAG.
        _b("dag.left", "h,left", "move('left')", "Upstream", show=False),
        _b("dag.down", "j,down", "move('down')", "Next in column", show=False),
        _b("dag.up", "k,up", "move('up')", "Previous in column", show=False),
        _b("dag.right", "l,right", "move('right')", "Downstream", show=False),
        _b(
            "dag.open-log",
            "enter",
            "open_log",
            "Log",
            help="Open the selected task's log full screen",
        ),
        # Log view.
        _b("log.follow", "f", "toggle_follow", "Follow", help="Follow the tail (live)"),
        _b(
            "log.search",
            "slash",
            "search",
            "Search",
            help="Search the log (n/N next/previous)",
            priority=True,
        ),
        _b("log.next", "n", "next_match", "Next", help="Next search match"),
        _b("log.prev", "N", "previous_match", "Prev", show=False, help="Previous search match"),
        _b(
            "log.filter",
            "ampersand",
            "toggle_filter",
            "Grep",
            help="Filter: only the lines that match the search, as grep shows (again: all)",
        ),
        _b(
            "log.regex",
            "ctrl+t",
            "toggle_regex",
            "Regex",
            show=False,
            help="Search with regular expressions, or plain text (also in the search box)",
        ),
        _b("log.wrap", "w", "toggle_wrap", "Wrap", help="Wrap long lines"),
        _b("log.timestamps", "t", "toggle_timestamps", "Time", help="Show timestamps"),
        _b("log.first-error", "e", "first_error", "Error", help="Jump to the first error line"),
        _b("log.top", "g,home", "scroll_top", "Top", show=False),
        _b("log.bottom", "G,end", "scroll_bottom", "Bottom", show=False),
        _b("log.down", "j,down", "scroll_lines(1)", "Down", show=False),
        _b("log.up", "k,up", "scroll_lines(-1)", "Up", show=False),
        _b("log.page-down", "pagedown,space", "scroll_pages(1)", "Page down", show=False),
        _b("log.page-up", "pageup,b", "scroll_pages(-1)", "Page up", show=False),
        # Confirmation dialogs.
        _b("confirm.yes", "y", "confirm", "Confirm"),
        _b("confirm.no", "n", "dismiss_dialog", "Cancel"),
        _b(
            "rollback.newer",
            "up",
            "move_target(-1)",
            "Newer",
            show=False,
            help="Deploy and roll back dialogs: pick the revision above (also in a box)",
        ),
        _b(
            "rollback.older",
            "down",
            "move_target(1)",
            "Older",
            show=False,
            help="Deploy and roll back dialogs: pick the revision below (also in a box)",
        ),
        # Models, Deployments and Timeline views.
        _b(
            "filter",
            "slash",
            "filter",
            "Filter",
            help="Filter the list (esc clears)",
            priority=True,
        ),
        # Models view.
        _b("models.sort", "s", "sort", "Sort", help="Sort by the next metric (best first)"),
        _b("models.mark", "space", "mark", "Mark", help="Mark a version for comparison"),
        _b(
            "models.compare",
            "enter",
            "compare",
            "Compare",
            help="Compare the marked versions (or the selected one with the reference)",
        ),
        _b("models.alias", "a", "alias", "Alias", help="Point an alias at the selected version"),
        # Compare.
        _b("compare.diff", "d", "toggle_diff", "Only diffs", help="Show only rows that differ"),
        # Deployments.
        _b(
            "deploy.open",
            "enter",
            "open_env",
            "History",
            help="The environment's history: actions, gates, deploy logs",
        ),
        _b(
            "deploy.deploy",
            "d",
            "deploy",
            "Deploy",
            help="Deploy a revision (a build, a model version, an alias) to the environment",
        ),
        _b("deploy.promote", "p", "promote", "Promote", help="Promote to the next environment"),
        _b("deploy.rollback", "b", "rollback", "Roll back", help="Roll the environment back"),
        _b("deploy.left", "h,left", "cursor_left", "Left", show=False),
        _b("deploy.right", "l,right", "cursor_right", "Right", show=False),
        # Timeline.
        _b("timeline.window", "w", "cycle_window", "Window", help="Last 1h, 6h, 24h, 7d or all"),
        _b("timeline.kind", "K", "cycle_kind", "Kind", help="Only runs, fires, alerts, ..."),
        _b(
            "timeline.open",
            "enter",
            "open_item",
            "Open",
            help="Jump to the run, the environment, the model or the alert's monitor",
        ),
        # Monitoring view.
        _b(
            "monitoring.open",
            "enter",
            "open_item",
            "Open",
            help="A monitor (or an alert's): its checks, history chart, drift table and log",
        ),
        _b("monitoring.check", "c", "check", "Check", help="Run the selected monitor's check now"),
        _b(
            "monitoring.ack",
            "a",
            "acknowledge",
            "Ack",
            help="Acknowledge the selected alert, with a note (recorded with who)",
        ),
        _b(
            "monitoring.pause",
            "p",
            "toggle_pause",
            "Pause",
            help="Pause the selected schedule, or resume it (recorded with who)",
        ),
    )
}


def _actions(*ids: str) -> frozenset[str]:
    return frozenset(ALL_BINDINGS[i].action for i in ids)


# The bindings that change state, per group of views: hidden and refused in read-only mode.
WRITE_ACTIONS = _actions("trigger", "rerun", "rerun-failed", "rerun-from", "cancel")
"""On runs (overview, pipelines, runs and run views)."""
DEPLOY_WRITE_ACTIONS = _actions(
    "models.alias", "deploy.deploy", "deploy.promote", "deploy.rollback"
)
"""In the Models and Deployments views."""
MONITOR_WRITE_ACTIONS = _actions("monitoring.check", "monitoring.ack", "monitoring.pause")
"""In the Monitoring view."""


def bindings(*ids: str) -> list[Binding]:
    """The bindings with these ids, in the given order (for a class's BINDINGS)."""
    return [ALL_BINDINGS[i] for i in ids]


def validate_keymap(raw: Mapping[str, object]) -> tuple[dict[str, str], list[str]]:
    """Split a user's `[keymap]` table into usable entries and one-line problems."""
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in raw.items():
        if binding_id not in ALL_BINDINGS:
            problems.append(f"[keymap] {binding_id}: unknown binding id")
        elif not isinstance(keys, str) or not keys.strip():
            problems.append(f'[keymap] {binding_id}: expected keys as a string, like "ctrl+r"')
        else:
            keymap[binding_id] = ",".join(k.strip() for k in keys.split(",") if k.strip())
    return keymap, problems
