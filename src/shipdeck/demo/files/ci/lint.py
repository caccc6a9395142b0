"""Lint the application: every module must compile; no long lines, tabs or trailing spaces.

Modules are compiled in memory, so linting never writes bytecode into the source tree.
"""

import os
import sys

from common import fail, metric

MAX_LINE = 100


def python_files(root):
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.join(directory, name)


def check_style(path):
    problems = []
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_LINE:
            problems.append(f"{path}:{number}: line too long ({len(line)} > {MAX_LINE})")
        if line != line.rstrip():
            problems.append(f"{path}:{number}: trailing whitespace")
        if "\t" in line:
            problems.append(f"{path}:{number}: tab character")
    if text and not text.endswith("\n"):
        problems.append(f"{path}: no newline at end of file")
    return problems


def main(root):
    problems = []
    files = list(python_files(root))
    for path in files:
        with open(path, "rb") as handle:
            source = handle.read()
        try:
            compile(source, path, "exec", dont_inherit=True)
        except SyntaxError as error:
            problems.append(f"{path}:{error.lineno}: does not compile: {error.msg}")
        problems.extend(check_style(path))
    print(f"checked {len(files)} files under {root}/")
    for problem in problems:
        print(problem)
    metric("lint_files", len(files))
    metric("lint_problems", len(problems))
    if problems:
        fail(f"{len(problems)} lint problem(s)")
    print("lint: clean")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "app")
