"""The workspace file (shipdeck.toml): discovery, loading with located errors, params."""

from shipdeck.workspace.durations import parse_duration
from shipdeck.workspace.loader import (
    SECTIONS,
    WORKSPACE_FILE,
    SectionContext,
    find_workspace,
    load_workspace,
    workspace_place,
)
from shipdeck.workspace.params import coerce_param, parse_param_args, resolve_params

__all__ = [
    "SECTIONS",
    "WORKSPACE_FILE",
    "SectionContext",
    "coerce_param",
    "find_workspace",
    "load_workspace",
    "parse_duration",
    "parse_param_args",
    "resolve_params",
    "workspace_place",
]
