"""A window onto one task's log: pages read on demand from the runner, bounded by an LRU.

Only what is on screen (and a little around it) is ever held, so a 1,000,000-line log costs
the same memory as a 1,000-line one. Live lines from the event stream land in the tail page.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator

from shipdeck.model import LogLine
from shipdeck.runners.protocol import Runner
from shipdeck.tui.log.line import display_width

PAGE = 500
MAX_PAGES = 24
SCAN_CHUNK = 5000


class LogBuffer:
    def __init__(self, runner: Runner, run_id: str, task: str) -> None:
        self.runner = runner
        self.run_id = run_id
        self.task = task
        self.total = 0
        self.finished = False
        self.max_width = 0
        self._pages: OrderedDict[int, dict[int, LogLine]] = OrderedDict()

    def line(self, n: int) -> LogLine | None:
        page = self._pages.get(n // PAGE)
        if page is None:
            return None
        self._pages.move_to_end(n // PAGE)
        return page.get(n)

    def missing_page(self, n: int) -> int | None:
        """The page to fetch so that line n can be shown, or None when it is at hand."""
        if n < 0 or n >= self.total:
            return None
        page = n // PAGE
        return None if n in self._pages.get(page, {}) else page

    async def open(self) -> None:
        """Read the tail: learns the length and holds the lines a tailing view shows first."""
        chunk = await self.runner.read_log(self.run_id, self.task, start=-PAGE, limit=PAGE)
        self.total = max(self.total, chunk.total)
        self.finished = chunk.finished
        self._store(chunk.lines)

    async def fetch_page(self, page: int) -> None:
        chunk = await self.runner.read_log(self.run_id, self.task, start=page * PAGE, limit=PAGE)
        self.total = max(self.total, chunk.total)
        self.finished = self.finished or chunk.finished
        self._store(chunk.lines)

    def add_live(self, line: LogLine) -> None:
        """A line from the event stream; kept only if its page is held or it is the tail."""
        page = line.n // PAGE
        if page in self._pages or line.n >= self.total - PAGE:
            self._store([line])
        self.total = max(self.total, line.n + 1)

    def _store(self, lines: list[LogLine]) -> None:
        for line in lines:
            page = line.n // PAGE
            held = self._pages.get(page)
            if held is None:
                held = self._pages[page] = {}
            held[line.n] = line
            self._pages.move_to_end(page)
            self.max_width = max(self.max_width, display_width(line.text))
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)

    async def scan(self, start: int, *, backwards: bool = False) -> AsyncIterator[LogLine]:
        """Every line from `start` onwards (or backwards), read in chunks and not retained."""
        if backwards:
            end = start + 1
            while end > 0:
                begin = max(0, end - SCAN_CHUNK)
                chunk = await self.runner.read_log(
                    self.run_id, self.task, start=begin, limit=end - begin
                )
                for line in reversed(chunk.lines):
                    yield line
                end = begin
            return
        position = max(start, 0)
        while True:
            chunk = await self.runner.read_log(
                self.run_id, self.task, start=position, limit=SCAN_CHUNK
            )
            self.total = max(self.total, chunk.total)
            for line in chunk.lines:
                yield line
            if not chunk.lines:
                return
            position = chunk.lines[-1].n + 1
