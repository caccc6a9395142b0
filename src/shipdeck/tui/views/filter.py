"""The `/` filter box under a view. Overview, Runs, Deployments and Timeline share one filter:
a change in any of them is announced, and the main screen hands it to the others."""

from __future__ import annotations

from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input


class FilterChanged(Message):
    """A view's filter words changed (typed, or cleared with esc)."""

    def __init__(self, view: str, words: list[str]) -> None:
        super().__init__()
        self.view = view
        self.words = words


class FilterInput(Input):
    """The `/` filter box under a view; enter keeps the filter, esc clears it."""

    DEFAULT_CSS = """
    FilterInput { dock: bottom; padding: 0 1; display: none; }
    FilterInput.-active { display: block; }
    """

    def __init__(self, *, placeholder: str = "", id: str | None = None) -> None:
        # Compact: one line and no border, focused or not (a focused Input grows a border).
        super().__init__(placeholder=placeholder, id=id, compact=True)


class FilterableView(Widget):
    """A view with a FilterInput among its children: `/` opens it, typing filters live, enter
    keeps the filter, esc clears it. Subclasses define `paint` and `focus_table`."""

    filter_words: list[str]

    def paint(self) -> None:
        raise NotImplementedError

    def focus_table(self) -> None:
        raise NotImplementedError

    def set_filter(self, text: str) -> None:
        self.filter_words = text.lower().split()
        self.paint()

    def apply_filter(self, words: list[str]) -> None:
        """The shared filter, from another view: show it in the box and repaint."""
        if words == self.filter_words:
            return
        self.filter_words = list(words)
        box = self.query_one(FilterInput)
        with box.prevent(Input.Changed):  # only typing announces a change: no echo back
            box.value = " ".join(words)
        box.set_class(bool(words), "-active")
        self.paint()

    def action_filter(self) -> None:
        box = self.query_one(FilterInput)
        box.add_class("-active")
        box.value = " ".join(self.filter_words)
        # At once, not via focus()'s later callback: `/` is a priority binding, and the app
        # hands the keys typed after it to whatever has the focus when it gets to them.
        self.screen.set_focus(box)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # In the box, `/` is a character to type, not the filter key again.
        return not (action == "filter" and self.query_one(FilterInput).has_focus)

    def on_input_changed(self, message: Input.Changed) -> None:
        if isinstance(message.input, FilterInput):
            message.stop()
            words = message.value.lower().split()
            if words != self.filter_words:
                self.set_filter(message.value)
                self.post_message(FilterChanged(self.id or "", self.filter_words))

    def on_input_submitted(self, message: Input.Submitted) -> None:
        if isinstance(message.input, FilterInput):
            message.stop()
            if not self.filter_words:
                message.input.remove_class("-active")
            self.focus_table()

    def action_back(self) -> None:
        self.close_filter()

    def close_filter(self) -> bool:
        """esc: close the filter box and clear the filter; False when there was none (or the
        view has no filter box, as the Monitoring tab)."""
        found = self.query(FilterInput)
        if not found:
            return False
        box = found.first()
        if not box.has_class("-active") and not self.filter_words:
            return False
        box.remove_class("-active")
        box.value = ""
        if self.filter_words:
            self.set_filter("")
            self.post_message(FilterChanged(self.id or "", []))
        self.focus_table()
        return True
