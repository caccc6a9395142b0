"""A Server-Sent Events parser: bytes in (any chunking), events out.

Per the SSE format: lines end with CRLF, LF or CR; `field: value` (one leading space dropped);
`data` lines join with "\\n"; `event` names the event ("message" when absent); `id` sets the
last event id, which carries over to later events; a blank line ends an event (one without
data is dropped); lines starting with ":" are comments; `retry` and unknown fields are ignored.
"""

from __future__ import annotations

from shipdeck.runners.link import ServerEvent


class SSEParser:
    def __init__(self) -> None:
        self._partial: list[bytes] = []
        """The start of a line whose end has not arrived yet."""
        self._skip_lf = False
        """The last chunk ended in CR: a LF starting the next one belongs to that line end."""
        self._data: list[str] = []
        self._event = ""
        self.last_id = ""

    def feed(self, chunk: bytes) -> list[ServerEvent]:
        """The events completed by `chunk`."""
        if self._skip_lf and chunk[:1] == b"\n":
            chunk = chunk[1:]
        self._skip_lf = False
        if not chunk:
            return []
        cut = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
        if cut < 0:
            self._partial.append(chunk)
            return []
        complete, rest = chunk[: cut + 1], chunk[cut + 1 :]
        if self._partial:
            self._partial.append(complete)
            complete = b"".join(self._partial)
            self._partial = []
        if rest:
            self._partial.append(rest)
        elif complete.endswith(b"\r"):
            self._skip_lf = True
        events: list[ServerEvent] = []
        # bytes.splitlines splits on exactly CRLF, LF and CR (str.splitlines knows more).
        for line in complete.splitlines():
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def _line(self, line: bytes) -> ServerEvent | None:
        if not line:
            return self._dispatch()
        if line[:1] == b":":
            return None
        name, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value.decode("utf-8", "replace"))
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id" and b"\0" not in value:
            self.last_id = value.decode("utf-8", "replace")
        return None

    def _dispatch(self) -> ServerEvent | None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return ServerEvent(event=event or "message", data="\n".join(data), id=self.last_id)
