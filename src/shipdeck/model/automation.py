"""What the runner does to deployments by itself: health checks on a schedule with automatic
rollback, and promotion policies for challenger model versions. Pure data: no I/O."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from shipdeck.model.frozen import FrozenModel
from shipdeck.model.ids import Id

CHALLENGER = "challenger"
"""The alias a promotion policy watches: a version that gets it is evaluated once."""
CHAMPION = "champion"
"""The alias a policy compares a challenger with (`champion.auc`)."""
DEFAULT_ROLLBACK_AFTER = 3
"""Failed health checks in a row before `auto_rollback` rolls an environment back."""


class AutoKind(StrEnum):
    HEALTH = "health"
    """Health failed `rollback_after` times in a row: an automatic rollback."""
    POLICY = "policy"
    """A challenger met its service's `auto_promote` policy: an automatic deploy."""
    ALERT = "alert"
    """A monitor's alert (reserved for monitors: the cause then names the alert)."""


class AutoCause(FrozenModel):
    """Why an automatic action happened: set on history entries nobody asked for."""

    kind: AutoKind
    text: str
    """The cause in words: `health failed 3 times in a row`, `run #12 registered churn v5 as
    challenger; auc 0.88 >= champion.auc 0.87 + 0.005`."""
    run_id: Id | None = None
    """The run behind it: the retraining run that registered the challenger."""
    alert_id: int | None = None
    """The alert behind it, once monitors open alerts (`automatic, because alert #N`)."""
    model: str | None = None
    version: Id | None = None
    """The challenger version a policy promoted."""
    failures: int | None = None
    """Failed health checks in a row that led to an automatic rollback."""

    @property
    def because(self) -> str:
        """The history's reason for the action: `automatic, because ...`."""
        if self.alert_id is not None:
            return f"automatic, because alert #{self.alert_id}: {self.text}"
        return f"automatic, because {self.text}"


class PolicyTerm(FrozenModel):
    """One comparison of a promotion policy: `auc >= champion.auc + 0.005`, `loss < 0.3`."""

    text: str
    metric: str
    """The challenger's metric (left side)."""
    op: str
    champion_metric: str | None = None
    """`champion.KEY` on the right side; None when it is a plain number."""
    offset: float = 0.0
    """Added to the champion's metric (or the number itself when there is no champion term)."""


class AutoPromoteSpec(FrozenModel):
    """`auto_promote = { to = "staging", if = "auc >= champion.auc + 0.005" }`."""

    to: str
    """The environment a challenger that meets the policy is deployed to."""
    condition: str = ""
    """The `if` expression as written ("" means: every challenger)."""
    terms: tuple[PolicyTerm, ...] = ()
    """The comparisons of `condition`, all of which must hold (`and`)."""
    allow_prod: bool = False
    """Whether `to` may be a production environment (see ServiceSpec.is_production)."""


class HealthCheck(FrozenModel):
    """One scheduled run of a service's health command against one environment."""

    id: int
    service: str
    env: str
    revision: str
    at: datetime
    passed: bool
    exit_code: int | None = None
    """None when the command was killed (timeout) or could not start."""
    duration: float = 0.0
    output: str = ""
    """The last lines the command printed (a few kB at most)."""
    failures: int = 0
    """Failed checks of this revision in this environment in a row, this one included."""


class PolicyDecision(FrozenModel):
    """A promotion policy's verdict on one challenger, acted on or not."""

    id: int
    service: str
    env: str
    model: str
    version: Id
    at: datetime
    held: bool
    detail: str
    """The terms with their values, and what happened (`deployed: history #12`, `refused`)."""
    history_id: int | None = None
