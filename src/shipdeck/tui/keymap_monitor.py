"""Key bindings of the Monitoring view (merged into keymap.ALL_BINDINGS so help, footer and
user keymaps treat them like every other binding)."""

from __future__ import annotations

from textual.binding import Binding

from shipdeck.tui.keymap_deploy import binding as _b

MONITOR_BINDINGS: dict[str, Binding] = {
    b.id: b  # type: ignore[misc]
    for b in (
        _b("view.monitoring", "7", "app.switch_view('monitoring')", "Monitoring", show=False),
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

MONITOR_ACTION_IDS = frozenset({"monitoring.check", "monitoring.ack", "monitoring.pause"})
"""Bindings that change state: hidden and refused in read-only mode."""

MONITOR_WRITE_ACTIONS = frozenset(MONITOR_BINDINGS[i].action for i in MONITOR_ACTION_IDS)


def monitor_bindings(*ids: str) -> list[Binding]:
    return [MONITOR_BINDINGS[i] for i in ids]
