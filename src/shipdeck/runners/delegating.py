"""DelegatingRunner: a runner that answers as another does; subclasses change a few answers.

Used for wrappers such as the read-only runner and the frozen-clock runners of the snapshot
tests: they define the methods whose answers they rewrite, calling `self.inner`'s (not
`super()`'s: a forwarded method is found by instance lookup, which `super()` does not do), and
every other attribute is the inner runner's own. Forwarding by attribute keeps the Runner protocol
(runners/protocol.py) the one statement of the contract's methods: nothing here repeats them,
a method added there is forwarded as it is, and so is what front ends read beside the contract
(a remote runner's connection `state`, an adapter's freshness).
"""

from __future__ import annotations

from typing import Any

from shipdeck.runners.protocol import Runner


class DelegatingRunner:
    """Every attribute this class (or a subclass) does not define is `inner`'s, methods bound to
    `inner`: a Runner by its `__getattr__`, to mypy as at run time."""

    def __init__(self, inner: Runner) -> None:
        self.inner = inner

    def __getattr__(self, attribute: str) -> Any:
        # Called only for what normal lookup does not find. `inner` itself is never forwarded:
        # an instance being copied or unpickled has none yet, and looking it up on itself
        # would recurse.
        if attribute == "inner":
            raise AttributeError(attribute)
        return getattr(self.inner, attribute)
