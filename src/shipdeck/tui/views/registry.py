"""The tab views of the main screen, in tab order: the one table the tabs, the number keys,
`?` help and the command palette read. Adding a tab view is adding its row here."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from textual.widget import Widget


@dataclass(frozen=True)
class ViewEntry:
    """One tab view: how it is reached and shown, and which class it is."""

    id: str
    """The tab's id; its module is shipdeck.tui.views.<id>, its widget `<id>-view` and its key
    binding `view.<id>`."""
    key: str
    """The key that switches to it from anywhere."""
    tab: str
    """The tab's label, after its key; also the key's description unless `name` says more."""
    cls: str
    """The class's name in its module: imported when the tab is first opened."""
    about: str
    """What it shows, in the command palette."""
    shares_filter: bool = False
    """Its `/` filter words carry over to the other views that share theirs."""
    run_actions: bool = True
    """Trigger, rerun and cancel act on its selected row (else those keys are off there)."""
    name: str = ""
    """The key's description in `?` help, when not the tab's label."""

    @property
    def binding_id(self) -> str:
        return f"view.{self.id}"

    @property
    def widget_id(self) -> str:
        return f"{self.id}-view"

    @property
    def description(self) -> str:
        return self.name or self.tab

    def load(self) -> type[Widget]:
        """The view's class (imported on first use, for a faster first frame)."""
        view = getattr(importlib.import_module(f"shipdeck.tui.views.{self.id}"), self.cls)
        assert isinstance(view, type) and issubclass(view, Widget)
        return view


_v = ViewEntry
VIEWS: tuple[ViewEntry, ...] = (
    _v("overview", "1", "Overview", "OverviewView", "failures, running", shares_filter=True),
    _v("pipelines", "2", "Pipelines", "PipelinesView", "every pipeline, its latest runs"),
    _v("runs", "3", "Runs", "RunsView", "every run, newest first", shares_filter=True),
    _v(
        "models", "4", "Models", "ModelsView", "model versions, metrics, compare", run_actions=False
    ),
    _v(
        "deployments",
        "5",
        "Deploys",
        "DeploymentsView",
        "services x environments, promote, roll back",
        shares_filter=True,
        run_actions=False,
    ),
    _v(
        "timeline",
        "6",
        "Timeline",
        "TimelineView",
        "what happened, across runners",
        shares_filter=True,
        run_actions=False,
    ),
    _v(
        "monitoring",
        "7",
        "Monitor",
        "MonitoringView",
        "monitors, alerts, schedules",
        run_actions=False,
        name="Monitoring",
    ),
)
"""In tab order."""
BY_ID: dict[str, ViewEntry] = {view.id: view for view in VIEWS}
