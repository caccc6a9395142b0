"""Keys of refused actions (read-only mode): left out of the footer and `?` help, yet a press
still reaches the action, which says why nothing happens. A key that silently does nothing
looks broken.

A node names its refused actions with `refused_action(action) -> bool`, and keeps them enabled
in `check_action` so the key is dispatched; a screen built on `HidesRefusedKeys` leaves their
bindings out of `active_bindings`, which is what the footer and help read.
"""

from __future__ import annotations

from textual.binding import ActiveBinding
from textual.screen import Screen


def refused(active: ActiveBinding) -> bool:
    check = getattr(active.node, "refused_action", None)
    return callable(check) and bool(check(active.binding.action.split("(", 1)[0]))


class HidesRefusedKeys(Screen[None]):
    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        return {key: a for key, a in super().active_bindings.items() if not refused(a)}
