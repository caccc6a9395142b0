"""Domain types shared by every layer. Pure data: no I/O, no textual."""

from shipdeck.model.events import Event, EventKind, EventPage
from shipdeck.model.logs import LogChunk, LogLine, LogStream
from shipdeck.model.pipeline import ParamValue, PipelineSpec, RegisterSpec, TaskSpec
from shipdeck.model.run import (
    Metric,
    RerunMode,
    Run,
    RunDetail,
    RunStatus,
    TaskRun,
    TaskStatus,
)
from shipdeck.model.workspace import WorkspaceSpec

__all__ = [
    "Event",
    "EventKind",
    "EventPage",
    "LogChunk",
    "LogLine",
    "LogStream",
    "Metric",
    "ParamValue",
    "PipelineSpec",
    "RegisterSpec",
    "RerunMode",
    "Run",
    "RunDetail",
    "RunStatus",
    "TaskRun",
    "TaskSpec",
    "TaskStatus",
    "WorkspaceSpec",
]
