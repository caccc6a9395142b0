"""A loaded workspace: where it lives and what it declares."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from shipdeck.model.pipeline import PipelineSpec


class WorkspaceSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    root: Path
    """The directory holding shipdeck.toml; task commands run relative to it."""
    file: Path
    pipelines: dict[str, PipelineSpec] = Field(default_factory=dict)

    @property
    def state_dir(self) -> Path:
        """Where the runner keeps its database, logs and artifacts."""
        return self.root / ".shipdeck"
