"""What a runner says about itself at `GET /v1/health`: the fields every version of the
server has sent. The server's answer (`server/routes/meta.py: Health`) and the client's
reading of it (`runners/remote.py: RunnerInfo`, lenient with older servers) add the rest."""

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
