"""A line's visible text, the colours safe for a terminal, and what a search pattern means."""

from __future__ import annotations

import pytest

from shipdeck.errors import InvalidInput
from shipdeck.logtext import CONTROL, compile_search, terminal_colours, visible, with_colours

HOSTILE = (
    "\x1b]0;title\x07\x1b[2J\x1b[1;1H\x1b[?25l\x1b(B\x1b7\x1bc\x1bP+q\x1b\\\x1b_apc\x1b\\"
    "\x1b[31mred\x1b[0m \x9b1mc1\x9d0;t\x9c \x00\x01\x7f\x08\x0b\x0ctab\tend"
)


def test_visible_text_has_no_control_but_the_tab() -> None:
    assert visible(HOSTILE) == "red c1 tab\tend"
    assert visible("plain text, ünïcödé ✓") == "plain text, ünïcödé ✓"
    assert visible("10%\r50%\r\x1b[1m100%") == "100%"  # the last frame, as a terminal shows
    assert visible("\x1b]0;never ended") == "" and visible("half\x1b[") == "half"
    assert not CONTROL.search(visible(HOSTILE))


def test_colours_are_kept_as_sgr_and_only_safe_ones_reach_a_terminal() -> None:
    assert with_colours(HOSTILE) == "\x1b[31mred\x1b[0m \x1b[1mc1 tab\tend"
    assert terminal_colours("\x1b[1;5;8;31mx\x1b[38;5;196;48;2;1;2;3my") == (
        "\x1b[1;31mx\x1b[38;5;196;48;2;1;2;3my\x1b[0m"
    )
    assert terminal_colours("\x1b[8mhidden\x1b[0m") == "hidden\x1b[0m\x1b[0m"
    assert terminal_colours("\x1b[38;5;999mbad\x1b[38;2;1m") == "bad\x1b[0m"
    assert terminal_colours("no codes") == "no codes"


def test_search_patterns() -> None:
    assert compile_search("boom").search("BOOM!")  # smart case: lower case ignores case
    assert not compile_search("Boom").search("boom")
    assert compile_search("a.c").search("a.c") and not compile_search("a.c").search("abc")
    assert compile_search("a.c", regex=True).search("abc")
    assert compile_search(r"\S+err", regex=True).search("xERR")  # \S is not upper case
    assert compile_search("boom", ignore_case=False).search("boom")
    for bad, regex, why in [
        ("", False, "empty"),
        ("a(", True, "not a valid regular expression"),
        ("\x1b[31m", False, "control characters"),
    ]:
        with pytest.raises(InvalidInput, match=why):
            compile_search(bad, regex=regex)
