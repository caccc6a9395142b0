"""What every runner's server says about itself on /v1/health: declared once for the server
(which sends it) and the client (which reads it)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class RunnerHealth(BaseModel):
    name: str
    version: str
    pid: int
    started_at: datetime
    read_only: bool
    last_seq: int
