"""Models: every version with its key metrics, coloured by the change against the reference
(the champion, else what prod runs); sort, filter, mark for comparison, move an alias."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Static

from shipdeck.formatting import format_age, format_metric
from shipdeck.model import ModelVersion
from shipdeck.model.capabilities import Capability
from shipdeck.model.ids import run_label
from shipdeck.runners.protocol import Runner
from shipdeck.tui.actions import refuse_if_unable
from shipdeck.tui.deploy_format import delta_text, live_text
from shipdeck.tui.fleet import Part, load_part
from shipdeck.tui.format import clip, clip_name, format_param
from shipdeck.tui.keymap import DEPLOY_WRITE_ACTIONS, bindings
from shipdeck.tui.palette import Palette
from shipdeck.tui.view_data.models import ModelFamily, ModelsData, load_models, with_directions
from shipdeck.tui.views.fleet_view import FilterInput, FleetView
from shipdeck.tui.widgets.virtual_table import Cell, VirtualTable

MARK = "▶"


def version_key(index: int, model: str, version: str) -> str:
    return f"{index}:{model}:{version}"


def parse_key(key: str) -> tuple[int, str, str]:
    index, _, rest = key.partition(":")
    model, _, version = rest.rpartition(":")
    return int(index), model, version


Entry = tuple[int, ModelsData, ModelFamily, ModelVersion]


class VersionTable(VirtualTable):
    """Only the versions on screen are drawn; enter compares (the help says so)."""

    BINDINGS: ClassVar[list[BindingType]] = list(bindings("models.compare"))

    def action_compare(self) -> None:
        self.action_select_cursor()


class ModelsView(FleetView[ModelsData]):
    DEFAULT_CSS = """
    ModelsView { height: 1fr; }
    ModelsView VersionTable { height: 1fr; max-height: 1fr; }
    ModelsView .view-status { height: 1; padding: 0 1; color: $foreground 70%; }
    ModelsView #models-origin { height: 1; padding: 0 1; color: $foreground 70%; display: none; }
    ModelsView #models-live { height: 1; padding: 0 1; display: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = list(
        bindings("models.sort", "filter", "models.mark", "models.alias")
    )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.marked: list[str] = []
        self.sort_index = 0
        """0: newest first; i > 0: by the i-th key metric, best first."""
        self.matching = 0
        self.total = 0

    def compose(self) -> ComposeResult:
        yield Static("", id="models-status", classes="view-status")
        yield VersionTable([("model", "model")], fixed_columns=1, id="models-table")
        yield Static("", id="models-origin", markup=False)
        yield Static("", id="models-live", markup=False)
        yield FilterInput(placeholder="filter: model, version, alias, #run", id="models-filter")

    async def load(self, index: int, runner: Runner) -> ModelsData:
        return await load_models(runner)

    async def load_more(self, index: int, runner: Runner, part: Part[ModelsData]) -> None:
        """The metric directions, after the versions are on screen: they recolour deltas (and
        may pick other key metrics); when the runner cannot say, the defaults stay."""
        data = part.data
        if data is None or data.directions_known:
            return
        more = await load_part(index, runner, lambda r: with_directions(r, data))
        if more.data is not None and self.parts.get(index) is part:
            self.parts[index] = replace(part, data=more.data)
            self.paint()

    # Painting.

    def key_metrics(self) -> list[str]:
        keys: dict[str, None] = {}
        for _, data in self.answered():
            keys.update(dict.fromkeys(data.key_metrics))
        return list(keys)

    @property
    def sort_key(self) -> str | None:
        metrics = self.key_metrics()
        if self.sort_index == 0 or not metrics:
            return None
        return metrics[(self.sort_index - 1) % len(metrics)]

    def columns(self, metrics: list[str]) -> list[tuple[str, str]]:
        columns = [("runner", "runner")] if self.many else []
        columns += [("model", "model"), ("version", "ver"), ("aliases", "aliases")]
        columns += [("run", "run"), ("age", "age")]
        sort = self.sort_key
        columns += [(f"m:{k}", f"{k}{'↓' if k == sort else ''}") for k in metrics]
        return columns

    def _matches(self, family: ModelFamily, version: ModelVersion, runner: str) -> bool:
        if not self.filter_words:
            return True
        text = " ".join(
            [
                family.name,
                version.label,
                run_label(version.run_id),
                runner,
                *version.aliases,
            ]
        ).lower()
        return all(word in text for word in self.filter_words)

    def entries(self) -> list[Entry]:
        """The versions the filter lets through, in the chosen order."""
        app = self.cockpit
        entries: list[Entry] = []
        for index, data in self.answered():
            name = app.runners[index].name
            for family in data.families:
                for version in family.versions:
                    if self._matches(family, version, name):
                        entries.append((index, data, family, version))
        sort = self.sort_key
        if sort is not None:

            def rank(entry: Entry) -> float:
                value = entry[3].metrics.get(sort)
                if value is None:
                    return float("inf")
                return -value if entry[1].direction(sort).value == "max" else value

            entries.sort(key=rank)
        return entries

    def cells(self, entry: Entry, metrics: list[str], now: datetime) -> list[Cell]:
        """One version's row; built only when the table draws or measures it."""
        index, data, family, version = entry
        palette = self.cockpit.palette
        cells: list[Cell] = []
        if self.many:
            cells.append(clip_name(self.cockpit.runners[index].name))
        marker = MARK if version_key(index, family.name, version.version) in self.marked else " "
        cells.append(Text(f"{marker}{clip_name(family.name)}", no_wrap=True))
        cells.append(version.label)
        cells.append(self._aliases(family, version, palette))
        cells.append(run_label(version.run_id))
        cells.append(format_age(version.created_at, now))
        for metric in metrics:
            cells.append(self._metric_cell(data, family, version, metric, palette))
        return cells

    def _aliases(self, family: ModelFamily, version: ModelVersion, palette: Palette) -> Text:
        text = Text(clip(",".join(version.aliases), 16), no_wrap=True)
        if family.reference is version and family.reference_label not in version.aliases:
            text.append(("," if version.aliases else "") + family.reference_label)
        if family.reference is version:
            text.stylize("bold")
        return text

    def _metric_cell(
        self,
        data: ModelsData,
        family: ModelFamily,
        version: ModelVersion,
        metric: str,
        palette: Palette,
    ) -> Text:
        value = version.metrics.get(metric)
        text = Text(format_metric(value), no_wrap=True, justify="right")
        reference = family.reference
        if value is None or reference is None or reference is version:
            return text
        base = reference.metrics.get(metric)
        if base is None:
            return text
        text.append(" ")
        text.append_text(delta_text(value - base, data.direction(metric), palette))
        return text

    def paint(self) -> None:
        app = self.cockpit
        metrics = self.key_metrics()
        now = app.clock()
        entries = self.entries()
        self.matching = len(entries)
        self.total = sum(len(f.versions) for _, d in self.answered() for f in d.families)
        keys = [version_key(e[0], e[2].name, e[3].version) for e in entries]
        fixed = 3 if self.many else 2  # runner, model and version stay when scrolling right
        self.table.set_rows(
            self.columns(metrics),
            keys,
            lambda row: self.cells(entries[row], metrics, now),
            fixed_columns=fixed,
        )
        status = self._status()
        self.query_one("#models-status", Static).update(self.with_runners(status))
        self._paint_origin()
        self._paint_live()

    def _paint_live(self) -> None:
        """Under the table, how a deployed version does in production by a monitor's values:
        the highlighted version's, else the first runner's first (so it shows without a
        search), each line naming the model, the version and where it runs."""
        line = self.query_one("#models-live", Static)
        selected = self.selected()
        live = None
        if selected is not None:
            part = self.parts.get(selected[0])
            if part is not None and part.data is not None:
                live = part.data.live_of(selected[1].name, selected[2].version)
        if live is None:
            live = next((p for _, d in self.answered() for p in d.live), None)
        line.display = live is not None
        if live is None:
            return
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(f"{live.model} {live.version_label} on {live.env} ", style="bold")
        text.append_text(live_text(live, self.cockpit.palette, self.cockpit.clock()))
        line.update(text)

    def _paint_origin(self) -> None:
        """Under the table, what the highlighted version came from, when its runner recorded
        it: `v2 ← #12 · code 1a2b3c4 (dirty) · data 3f2a1b0 (2 inputs) · lr=0.1`."""
        line = self.query_one("#models-origin", Static)
        selected = self.selected()
        lineage = selected[2].lineage if selected is not None else None
        line.display = lineage is not None and lineage.recorded
        if selected is None or lineage is None or not lineage.recorded:
            return
        version = selected[2]
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(f"{version.label} ← {run_label(version.run_id)}", style="bold")
        text.append(f" · {lineage.summary()}")
        if version.params:
            params = " ".join(f"{k}={format_param(v)}" for k, v in version.params.items())
            text.append(f" · {params}")
        line.update(text)

    def _status(self) -> Text:
        palette = self.cockpit.palette
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        total = self.total
        if not total and self.parts:
            unsupported = all(not d.supported for _, d in self.answered())
            text.append(
                " no runner offers models"
                if unsupported and self.answered()
                else " no model versions yet: a pipeline task with `registers` adds them",
                style=palette.muted,
            )
            return text
        text.append(f" {self.matching}/{total} versions", style=palette.muted)
        references = {
            f.reference_label for _, d in self.answered() for f in d.families if f.reference
        }
        if references:
            text.append(f"  Δ vs {'/'.join(sorted(references))}", style=palette.muted)
        if self.sort_key:
            text.append(f"  sorted by {self.sort_key}, best first", style=palette.muted)
        if self.marked:
            text.append(f"  {len(self.marked)} marked (enter compares)", style="bold")
        if self.filter_words:
            text.append(f"  /{' '.join(self.filter_words)}", style="bold")
        return text

    # Selection.

    @property
    def table(self) -> VersionTable:
        return self.query_one(VersionTable)

    def selected(self) -> tuple[int, ModelFamily, ModelVersion] | None:
        key = self.table.selected_key
        if key is None:
            return None
        index, model, number = parse_key(key)
        part = self.parts.get(index)
        if part is None or part.data is None:
            return None
        for family in part.data.families:
            if family.name == model:
                for version in family.versions:
                    if version.version == number:
                        return index, family, version
        return None

    def focus_table(self) -> None:
        self.table.focus()

    # Actions.

    def refused_action(self, action: str) -> bool:
        """Hidden from the footer and help on a read-only runner's row; pressed anyway, the
        action says it is refused."""
        if action in DEPLOY_WRITE_ACTIONS:
            chosen = self.selected()
            index = chosen[0] if chosen else self.cockpit.active
            return self.read_only(index) or bool(
                self.cockpit.runner_lacks(index, Capability.ALIASES)
            )
        return False

    def action_sort(self) -> None:
        metrics = self.key_metrics()
        self.sort_index = (self.sort_index + 1) % (len(metrics) + 1)
        self.paint()

    def action_mark(self) -> None:
        key = self.table.selected_key
        if key is None:
            return
        if key in self.marked:
            self.marked.remove(key)
        else:
            self.marked.append(key)
        self.paint()
        self.table.action_cursor_down()

    def on_virtual_table_row_highlighted(self, message: VirtualTable.RowHighlighted) -> None:
        message.stop()
        self._paint_origin()
        self._paint_live()

    def on_virtual_table_row_selected(self, message: VirtualTable.RowSelected) -> None:
        message.stop()
        self.action_compare()

    def action_compare(self) -> None:
        from shipdeck.tui.screens.compare import CompareScreen

        chosen = [parse_key(k) for k in self.marked]
        if len(chosen) < 2:
            selected = self.selected()
            if selected is None:
                return
            index, family, version = selected
            reference = family.reference
            if reference is None or reference.version == version.version:
                self.notify("Mark two or more versions with space, then enter", severity="warning")
                return
            chosen = [
                (index, family.name, reference.version),
                (index, family.name, version.version),
            ]
        runners = {index for index, _, _ in chosen}
        if len(runners) > 1:
            self.notify("Compare versions of one runner at a time", severity="warning")
            return
        refs = [f"{model}@v{number}" for _, model, number in chosen]
        self.app.push_screen(CompareScreen(chosen[0][0], refs))

    async def action_alias(self) -> None:
        from shipdeck.tui.dialogs.alias import AliasScreen

        selected = self.selected()
        if selected is None:
            self.notify("Select a version first", severity="warning")
            return
        index, family, version = selected
        if refuse_if_unable(self, "Alias", Capability.ALIASES, index):
            return

        def done(moved: bool | None) -> None:
            if moved:
                self._stale.add(index)

        self.app.push_screen(AliasScreen(index, family, version), done)
