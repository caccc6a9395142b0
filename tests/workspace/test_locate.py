"""The line scanner that gives validation errors their line numbers."""

from __future__ import annotations

import textwrap
import tomllib

from shipdeck.workspace.locate import lines_of, redefinition_at, scan_key_lines

DOC = textwrap.dedent(
    '''
    # comment with [brackets] and key = "value"
    top = 1

    [pipelines.train]           # header with a comment
    description = """
    [pipelines.fake]
    run = "not a key"
    """
    params = { lr = 0.1, nested = { deep = true } }
    "quoted.key" = 'x'
    dotted.inner.leaf = 2

    [ pipelines . "spaced name" . tasks.x ]
    run = 'literal \\ no escape'
    needs = [
        "a",  # first
        "b",
    ]
    env = {A = "1,}]", B = "2"}
    url = "http://example.com/#not-a-comment"

    [[items]]
    name = "zero"
    [[items]]
    name = "one"
    [items.sub]
    k = 1
    '''
).lstrip("\n")


def test_lines_of_headers_keys_inline_tables_and_arrays() -> None:
    tomllib.loads(DOC)  # the scanner's input is a document tomllib accepts
    lines = scan_key_lines(DOC)
    expected = {
        ("top",): 2,
        ("pipelines",): 4,
        ("pipelines", "train"): 4,
        ("pipelines", "train", "description"): 5,
        ("pipelines", "train", "params"): 9,
        ("pipelines", "train", "params", "lr"): 9,
        ("pipelines", "train", "params", "nested", "deep"): 9,
        ("pipelines", "train", "quoted.key"): 10,
        ("pipelines", "train", "dotted"): 11,
        ("pipelines", "train", "dotted", "inner", "leaf"): 11,
        ("pipelines", "spaced name", "tasks", "x"): 13,
        ("pipelines", "spaced name", "tasks", "x", "run"): 14,
        ("pipelines", "spaced name", "tasks", "x", "needs"): 15,
        ("pipelines", "spaced name", "tasks", "x", "needs", "0"): 16,
        ("pipelines", "spaced name", "tasks", "x", "needs", "1"): 17,
        ("pipelines", "spaced name", "tasks", "x", "env", "B"): 19,
        ("pipelines", "spaced name", "tasks", "x", "url"): 20,
        ("items", "0", "name"): 23,
        ("items", "1"): 24,
        ("items", "1", "name"): 25,
        ("items", "1", "sub", "k"): 27,
    }
    assert {path: lines.line_of(path) for path in expected} == expected


def test_multi_line_string_content_defines_no_keys() -> None:
    lines = scan_key_lines(DOC)
    assert ("pipelines", "fake") not in lines.occurrences
    assert ("run",) not in lines.occurrences
    assert ("pipelines", "train", "run") not in lines.occurrences


def test_unknown_paths_fall_back_to_the_nearest_parent() -> None:
    lines = scan_key_lines(DOC)
    assert lines.line_of(("pipelines", "train", "tasks", "nope", "run")) == 4
    assert lines.line_of(("pipelines", "spaced name", "tasks", "x", "env", "C")) == 19
    assert lines.line_of(("missing",)) == 1
    assert lines.line_of(()) == 1


def test_explicit_header_wins_over_an_earlier_implicit_prefix() -> None:
    lines = scan_key_lines("[a.b.c]\nx = 1\n\n[a.b]\ny = 2\n")
    assert lines.line_of(("a", "b")) == 4
    assert lines.line_of(("a",)) == 1


def test_basic_string_keys_are_unescaped() -> None:
    lines = scan_key_lines('[t]\n"tab\\there" = 1\n"\\u00e9" = 2\n')
    assert lines.line_of(("t", "tab\there")) == 2
    assert lines.line_of(("t", "\u00e9")) == 3


def test_crlf_line_endings() -> None:
    lines = scan_key_lines("[a]\r\nx = 1\r\n\r\n[b]\r\ny = 2\r\n")
    assert lines.line_of(("a", "x")) == 2
    assert lines.line_of(("b", "y")) == 5


def test_garbage_is_skipped_line_by_line() -> None:
    lines = scan_key_lines('[a]\n= = =\nx = "unterminated\ny = 2\n[[[\nz = 3\n')
    assert lines.line_of(("a", "y")) == 4
    assert lines.line_of(("a", "z")) == 6


def test_redefined_at_finds_the_repeated_key() -> None:
    lines = scan_key_lines('[p.t.a]\nrun = "x"\n\n[p.t.b]\nrun = "y"\nrun = "z"\n')
    assert lines.redefined_at(6) == (("p", "t", "b", "run"), 5)
    assert lines.redefined_at(2) is None


def test_lines_of_some_paths_records_only_those_and_their_parents() -> None:
    wanted = [("pipelines", "spaced name", "tasks", "x", "needs", "1"), ("items", "1", "nope")]
    lines = lines_of(DOC, wanted)
    assert set(lines.occurrences) == {
        ("pipelines",),
        ("pipelines", "spaced name"),
        ("pipelines", "spaced name", "tasks"),
        ("pipelines", "spaced name", "tasks", "x"),
        ("pipelines", "spaced name", "tasks", "x", "needs"),
        ("pipelines", "spaced name", "tasks", "x", "needs", "1"),
        ("items",),
        ("items", "1"),
    }
    everything = scan_key_lines(DOC)
    assert (
        [lines.line_of(path) for path in wanted]
        == [everything.line_of(path) for path in wanted]
        == [17, 24]
    )


def test_redefinition_at_a_line_scans_only_what_touches_it() -> None:
    text = '[p.t.a]\nrun = "x"\n\n[p.t.b]\nrun = "y"\nneeds = [1, 2]\nrun = "z"\n'
    assert redefinition_at(text, 7) == (("p", "t", "b", "run"), 5)
    assert redefinition_at(text, 2) is None
