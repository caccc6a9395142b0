"""The embedded executor: DAG scheduling, task subprocesses, durable logs, the run store."""

from shipdeck.engine.engine import Engine
from shipdeck.engine.executor import TaskHook
from shipdeck.engine.output import task_log_path, task_metrics_path
from shipdeck.engine.reruns import rerun_plan

__all__ = ["Engine", "TaskHook", "rerun_plan", "task_log_path", "task_metrics_path"]
