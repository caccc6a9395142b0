"""No garbage collections while a process starts; the start-up heap frozen once it is ready.

Importing Textual, pydantic and shipdeck and building the first screen leaves ~80,000 objects
that live as long as the process. With the collector on, allocating them triggers ~190
collections that find almost nothing (0.1 s of a 1 s start on a slow host). The `shipdeck`
executable pauses collection first thing; once the process is ready (the TUI's first complete
frame, or a command about to run) `resume` moves every live object into the permanent
generation (`gc.freeze`) and turns collection back on, so later full collections no longer
walk the start-up heap either. The cyclic garbage made during start-up (a few thousand
objects, about a megabyte) is kept for the life of the process.

A program that imports shipdeck as a library is unaffected: `resume` only undoes `pause`.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Idempotent: freeze and re-enable once, and only if `pause` turned the collector off."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def paused() -> bool:
    return _paused
