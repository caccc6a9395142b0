"""Prefect's objects as shipdeck's: deployments as pipelines, flow runs as runs, a flow run's
graph (`graph-v2`) and task runs as the run's tasks.

A deployment is the pipeline `FLOW/DEPLOYMENT`; a flow run with no deployment (run by hand,
or a subflow) belongs to the pipeline `FLOW`. A run's label is the flow run's name
(`crafty-lemur`). Prefect knows only the tasks that ran, so a run's tasks are the graph's
nodes so far (task runs and subflow runs, each named by its run name) with their parent edges
as `needs`; the flow's own log (the records of no task) is the first task, `FLOW_TASK`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from shipdeck.model import PipelineSpec, Run, TaskRun
from shipdeck.model.pipeline import ParamValue
from shipdeck.runners.prefect import params as parameters
from shipdeck.runners.prefect import states
from shipdeck.runners.prefect.api import Deployment, FlowRun, Graph
from shipdeck.runners.prefect.api import TaskRun as PrefectTaskRun

FLOW_TASK = "flow"
"""The task that stands for the flow itself: its own log lines, its state."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Names:
    """Flow and deployment names by id, as learnt from the server (a run names its pipeline
    by them)."""

    flows: dict[str, str] = field(default_factory=dict)
    deployments: dict[str, Deployment] = field(default_factory=dict)

    def pipeline(self, flow_id: str, deployment_id: str | None) -> str:
        flow = self.flows.get(flow_id, flow_id)
        deployment = self.deployments.get(deployment_id or "")
        return f"{flow}/{deployment.name}" if deployment is not None else flow

    def by_pipeline(self, name: str) -> tuple[str, str] | None:
        """(deployment id, flow name) of a known pipeline `FLOW/DEPLOYMENT`, or of `FLOW`
        when that flow has exactly one deployment."""
        flow, slash, deployment = name.partition("/")
        found = [
            known
            for known in self.deployments.values()
            if self.flows.get(known.flow_id) == flow and (not slash or known.name == deployment)
        ]
        return (found[0].id, flow) if len(found) == 1 else None

    def missing(self, runs: list[FlowRun]) -> tuple[set[str], set[str]]:
        """(flow ids, deployment ids) these runs name that are not known yet."""
        flows = {run.flow_id for run in runs if run.flow_id not in self.flows}
        deployments = {
            run.deployment_id
            for run in runs
            if run.deployment_id and run.deployment_id not in self.deployments
        }
        return flows, deployments


def pipeline(deployment: Deployment, flow: str) -> PipelineSpec:
    return PipelineSpec(
        name=f"{flow}/{deployment.name}",
        description=deployment.description or "",
        params=parameters.defaults(deployment.parameter_openapi_schema, deployment.parameters),
    )


TRIGGER_TAG = "shipdeck.trigger:"
"""The tag a run started from shipdeck carries, with what started it (`cli`, `tui`)."""


def trigger(flow_run: FlowRun, parent: str | None) -> str:
    """What started it, in short: shipdeck's own trigger, a subflow's parent run, a
    schedule, the API."""
    for tag in flow_run.tags:
        if tag.startswith(TRIGGER_TAG):
            return tag.removeprefix(TRIGGER_TAG)
    if parent is not None:
        return f"subflow of {parent}"
    created_by = flow_run.created_by or {}
    kind = str(created_by.get("type") or "").lower()
    if "auto-scheduled" in flow_run.tags or kind == "schedule":
        return "schedule"
    return kind or "prefect"


def run_params(flow_run: FlowRun, names: Names) -> dict[str, ParamValue]:
    """The values the flow ran with: its deployment's defaults, overlaid by the run's own."""
    deployment = names.deployments.get(flow_run.deployment_id or "")
    found: dict[str, ParamValue] = {}
    if deployment is not None:
        schema = deployment.parameter_openapi_schema
        found = parameters.defaults(schema, deployment.parameters, unset=False)
    for key, value in flow_run.parameters.items():
        found[key] = parameters.shown(value)
    return found


def run(
    flow_run: FlowRun,
    names: Names,
    *,
    parent: str | None = None,
    tasks: tuple[int, int] = (0, 0),
) -> Run:
    """A flow run as a run; `parent` is the label of a subflow's parent flow run, `tasks`
    (total, done) when the graph has been read."""
    state_type = flow_run.state_type or (flow_run.state.type if flow_run.state else None)
    created = flow_run.created or flow_run.expected_start_time or EPOCH
    user = str((flow_run.created_by or {}).get("display_value") or "")
    return Run(
        id=flow_run.id,
        label=flow_run.name,
        pipeline=names.pipeline(flow_run.flow_id, flow_run.deployment_id),
        status=states.run_status(state_type),
        params=run_params(flow_run, names),
        trigger=trigger(flow_run, parent),
        user=user,
        created_at=created,
        started_at=flow_run.start_time,
        finished_at=flow_run.end_time if state_type in states.FINAL else None,
        tasks_total=tasks[0],
        tasks_done=tasks[1],
    )


def tasks(
    flow_run: FlowRun, graph: Graph, task_runs: list[PrefectTaskRun]
) -> tuple[list[TaskRun], dict[str, str]]:
    """The flow's own task, then the graph's nodes in the order they started, named by
    their run names (made unique), with their parents as needs; and each name's task run
    (or subflow run) id."""
    details = {task_run.id: task_run for task_run in task_runs}
    nodes = sorted(
        (node for _, node in graph.nodes),
        key=lambda node: (node.start_time or flow_run.end_time or EPOCH, node.label),
    )
    labels: dict[str, str] = {}
    taken = {FLOW_TASK}
    for node in nodes:
        label, count = node.label, 1
        while label in taken:
            count += 1
            label = f"{node.label} ({count})"
        taken.add(label)
        labels[node.id] = label
    state_type = flow_run.state_type or (flow_run.state.type if flow_run.state else None)
    state = flow_run.state
    own = TaskRun(
        run_id=flow_run.id,
        name=FLOW_TASK,
        status=states.task_status(state_type, flow_run.state_name),
        attempts=flow_run.run_count,
        started_at=flow_run.start_time,
        finished_at=flow_run.end_time if state_type in states.FINAL else None,
        reason=reason(state_type, state.message if state else None),
        needs=[],
    )
    found = [own]
    for node in nodes:
        detail = details.get(node.id)
        node_state = detail.state if detail is not None else None
        status = states.task_status(
            node.state_type, detail.state_name if detail is not None else None
        )
        found.append(
            TaskRun(
                run_id=flow_run.id,
                name=labels[node.id],
                status=status,
                attempts=detail.run_count if detail is not None else 0,
                started_at=node.start_time,
                finished_at=node.end_time if status.finished else None,
                reason=reason(node.state_type, node_state.message if node_state else None),
                needs=[labels[p] for p in node.parent_ids if p in labels],
            )
        )
    return found, {label: node_id for node_id, label in labels.items()}


def counts(listed: list[TaskRun]) -> tuple[int, int]:
    """(tasks, finished tasks) without the flow's own."""
    real = [task for task in listed if task.name != FLOW_TASK]
    return len(real), sum(1 for task in real if task.status.finished)


def reason(state_type: str | None, message: str | None) -> str | None:
    if state_type not in ("FAILED", "CRASHED", "CANCELLED") or not message:
        return None
    return " ".join(message.split())[:300]
