"""Write keys pressed in a tab view where they do not apply (rerun in Models, deploy in the
Timeline): one line on what the key does and where, instead of nothing, as a refused key says
why. A key bound nowhere stays silent.

The main screen holds a hidden binding per write key, under the write binding's own id, so a
user keymap that moves the key moves its hint too; the view that owns the key binds it
closer to the focus and answers first. Like refused keys, the hints are left out of the
footer and `?` help (`refused_action`)."""

from __future__ import annotations

from collections.abc import Mapping

from textual.binding import Binding

from shipdeck.tui.keymap import ALL_BINDINGS, binding
from shipdeck.tui.views.registry import BY_ID

HINT_ACTION = "elsewhere"

PLACES: dict[str, tuple[str, str]] = {
    "trigger": ("triggers a pipeline", "pipelines"),
    "rerun": ("reruns a run", "runs"),
    "rerun-failed": ("reruns a run's failed tasks", "runs"),
    "rerun-from": ("reruns from a task", ""),
    "cancel": ("cancels a run", "runs"),
    "deploy.deploy": ("deploys a revision", "deployments"),
    "deploy.promote": ("promotes to the next environment", "deployments"),
    "deploy.rollback": ("rolls back an environment", "deployments"),
    "models.alias": ("points a model alias", "models"),
    "monitoring.check": ("checks a monitor", "monitoring"),
    "monitoring.ack": ("acknowledges an alert", "monitoring"),
    "monitoring.pause": ("pauses a schedule", "monitoring"),
}
"""Each write binding: what it does, and the tab view where it does it ("": a run's view)."""


def keys_of(binding_id: str, keymap: Mapping[str, str]) -> list[str]:
    """The keys of a binding, as the user's keymap has them."""
    keys = keymap.get(binding_id) or ALL_BINDINGS[binding_id].key
    return [key.strip() for key in keys.split(",") if key.strip()]


def _place(view_id: str, keymap: Mapping[str, str]) -> str:
    if not view_id:
        return "open a run (enter) and select the task"
    view = BY_ID[view_id]
    return f"open {view.description} ({keys_of(view.binding_id, keymap)[0]})"


def where_it_applies(binding_id: str, keymap: Mapping[str, str]) -> str:
    """`c cancels a run: open Runs (3); checks a monitor: open Monitoring (7)`: everything
    the key of `binding_id` does elsewhere."""
    key = keys_of(binding_id, keymap)[0]
    places = [
        f"{does}: {_place(view, keymap)}"
        for other, (does, view) in PLACES.items()
        if key in keys_of(other, keymap)
    ]
    return f"{key} {'; '.join(places)}"


def hint_bindings(*skip: str) -> list[Binding]:
    """Hidden bindings that say where each write key applies (but for the ids in `skip`,
    which the screen binds to their actions itself)."""
    return [
        binding(
            binding_id,
            ALL_BINDINGS[binding_id].key,
            f"{HINT_ACTION}('{binding_id}')",
            ALL_BINDINGS[binding_id].description,
            show=False,
        )
        for binding_id in PLACES
        if binding_id not in skip
    ]
