"""The embedded executor: DAG scheduling, task subprocesses, durable logs, the run store."""

from shipdeck.engine.runs.engine import Engine
from shipdeck.engine.runs.executor import TaskHook
from shipdeck.engine.runs.output import task_log_path, task_metrics_path
from shipdeck.engine.runs.reruns import rerun_plan

__all__ = ["Engine", "TaskHook", "rerun_plan", "task_log_path", "task_metrics_path"]
