"""Every key binding of the TUI, by id: the one source for footer, `?` help and user keymaps.

Users remap a binding in the config file with `[keymap] <id> = "keys"` (comma-separated keys).
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.binding import Binding

from shipdeck.tui.keymap_deploy import DEPLOY_BINDINGS
from shipdeck.tui.keymap_deploy import binding as _b
from shipdeck.tui.keymap_monitor import MONITOR_BINDINGS

ALL_BINDINGS: dict[str, Binding] = {
    b.id: b  # type: ignore[misc]
    for b in (
        # App-wide.
        _b("view.overview", "1", "app.switch_view('overview')", "Overview", show=False),
        _b("view.pipelines", "2", "app.switch_view('pipelines')", "Pipelines", show=False),
        _b("view.runs", "3", "app.switch_view('runs')", "Runs", show=False),
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
    )
}

ALL_BINDINGS.update(DEPLOY_BINDINGS)
ALL_BINDINGS.update(MONITOR_BINDINGS)

ACTION_IDS = frozenset({"trigger", "rerun", "rerun-failed", "rerun-from", "cancel"})
"""Bindings that change state: hidden and refused in read-only mode."""

WRITE_ACTIONS = frozenset(ALL_BINDINGS[i].action for i in ACTION_IDS)


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
