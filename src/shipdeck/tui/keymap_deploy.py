"""Key bindings of the Models, Deployments and Timeline views (merged into keymap.ALL_BINDINGS
so help, footer and user keymaps treat them like every other binding)."""

from __future__ import annotations

from textual.binding import Binding


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
    """A binding with its id (keymap.py's and these alike). `description` is the footer's
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


DEPLOY_BINDINGS: dict[str, Binding] = {
    b.id: b  # type: ignore[misc]
    for b in (
        _b("view.models", "4", "app.switch_view('models')", "Models", show=False),
        _b("view.deployments", "5", "app.switch_view('deployments')", "Deploys", show=False),
        _b("view.timeline", "6", "app.switch_view('timeline')", "Timeline", show=False),
        _b(
            "filter",
            "slash",
            "filter",
            "Filter",
            help="Filter the list (esc clears)",
            priority=True,
        ),
        # Models.
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
    )
}

DEPLOY_ACTION_IDS = frozenset(
    {"models.alias", "deploy.deploy", "deploy.promote", "deploy.rollback"}
)
"""Bindings that change state: hidden and refused in read-only mode."""

DEPLOY_WRITE_ACTIONS = frozenset(DEPLOY_BINDINGS[i].action for i in DEPLOY_ACTION_IDS)


def deploy_bindings(*ids: str) -> list[Binding]:
    return [DEPLOY_BINDINGS[i] for i in ids]
