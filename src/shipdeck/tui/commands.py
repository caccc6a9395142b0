"""Command palette (ctrl+p): jump to a pipeline, run or task; switch runner or theme."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from shipdeck.model.capabilities import Capability
from shipdeck.model.ids import run_label
from shipdeck.tui.current import cockpit_of
from shipdeck.tui.fleet import offers
from shipdeck.tui.format import glyph
from shipdeck.tui.views.registry import VIEWS

if TYPE_CHECKING:
    from textual.app import App

PALETTE_RUNS = 100
EXACT_RUN_SCORE = 1000.0
"""Above any fuzzy score (Textual's grow with the query's length): `#2` opens run #2 first,
not #21 or #20."""


def open_history(app: App[object], index: int, service: str, env: str) -> None:
    from shipdeck.tui.screens.env_history import EnvHistoryScreen

    app.push_screen(EnvHistoryScreen(index, service, env))


class ShipdeckCommands(Provider):
    async def startup(self) -> None:
        self.entries: list[tuple[str, str, Callable[[], object]]] = []
        self.run_entries: dict[str, int] = {}
        """Run id -> its entry's index."""
        app, cockpit = self.app, cockpit_of(self)
        pipelines = await cockpit.call("Palette", cockpit.pipelines) or []
        runs = await cockpit.call("Palette", lambda: cockpit.runner.runs(limit=PALETTE_RUNS)) or []
        latest = {}
        for run in reversed(runs):
            latest[run.pipeline] = run
        for pipeline in pipelines:
            last = latest.get(pipeline.name)
            if last is not None:
                self.entries.append(
                    (
                        f"pipeline {pipeline.name}",
                        f"open its latest run {last.label}",
                        partial(cockpit.nav.open_run, last.id, label=last.label),
                    )
                )
                for task in pipeline.tasks:
                    self.entries.append(
                        (
                            f"task {pipeline.name}.{task}",
                            f"open {task} in run {last.label}",
                            partial(cockpit.nav.open_run, last.id, task=task, label=last.label),
                        )
                    )
            else:
                self.entries.append(
                    (
                        f"pipeline {pipeline.name}",
                        "show it in the pipelines view",
                        partial(cockpit.nav.action_switch_view, "pipelines"),
                    )
                )
        for run in runs:
            self.run_entries[run.id] = len(self.entries)
            self.entries.append(
                (
                    f"run {run.label} {run.pipeline}",
                    f"{glyph(run.status)} {run.status.value}",
                    partial(cockpit.nav.open_run, run.id, label=run.label),
                )
            )
        for view in VIEWS:
            switch = partial(cockpit.nav.action_switch_view, view.id)
            self.entries.append((f"view {view.id}", view.about, switch))
        for index, runner in enumerate(cockpit.runners):
            deploys = await cockpit.call("Palette", partial(offers, runner, Capability.DEPLOYMENTS))
            services = await cockpit.call("Palette", runner.services) if deploys else None
            for service in services or []:
                for env in service.environments:
                    self.entries.append(
                        (
                            f"env {service.name}/{env}",
                            f"history of {env} ({runner.name})",
                            partial(open_history, app, index, service.name, env),
                        )
                    )
            self.entries.append(
                (
                    f"runner {runner.name}",
                    f"switch to this runner ({cockpit.connection_state(index)})",
                    partial(cockpit.nav.switch_runner, index),
                )
            )
        for name in sorted(app.available_themes):
            self.entries.append(
                (f"theme {name}", "switch theme", partial(setattr, app, "theme", name))
            )

    async def discover(self) -> Hits:
        for label, help_text, callback in self.entries:
            if not label.startswith("theme "):
                yield DiscoveryHit(label, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        nav = cockpit_of(self).nav
        matcher = self.matcher(query)
        exact = run_number(query)
        if exact is not None:
            # The run with exactly this number first; any run, also ones older than the
            # listed history.
            index = self.run_entries.get(exact)
            if index is None:
                yield Hit(
                    EXACT_RUN_SCORE, f"open run {run_label(exact)}", partial(nav.open_run, exact)
                )
            else:
                label, help_text, callback = self.entries[index]
                yield Hit(EXACT_RUN_SCORE, matcher.highlight(label), callback, help=help_text)
        skip = self.run_entries.get(exact) if exact is not None else None
        for index, (label, help_text, callback) in enumerate(self.entries):
            score = matcher.match(label)
            if score > 0 and index != skip:
                yield Hit(score, matcher.highlight(label), callback, help=help_text)


def run_number(query: str) -> str | None:
    """`#12`, `12`, `run 12`, `run #12` -> "12": the id of the run with that number."""
    digits = query.strip().removeprefix("run").strip().removeprefix("#").strip()
    return str(int(digits)) if digits.isascii() and digits.isdigit() else None
