"""Step types: the registry every runbook, document and IAM policy is generated from.

A step type is a class registered by name (`rds.promote-replica`). It declares the config
section it reads, the IAM actions it needs, where it acts, its typical duration and timeout,
and its manual procedure; it implements a read-only `check`, a `plan`, an idempotent `apply`
that first detects "already done", a `verify` of its postcondition and, where possible, a
`rollback`. A step *instance* is a step type bound to one config item and one direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from dr.config.model import Role, other

if TYPE_CHECKING:
    from dr.runbook.context import StepContext

Side = Literal["to", "from", "global"]


@dataclass(frozen=True)
class Direction:
    """Which way traffic and the writable database move."""

    to: Role
    to_region: str
    from_region: str

    @property
    def from_(self) -> Role:
        return other(self.to)

    def region(self, side: Side) -> str:
        return self.from_region if side == "from" else self.to_region


@dataclass(frozen=True)
class Problem:
    """A readiness failure, naming the resource. `data_loss` problems are the ones
    `--accept-data-loss` lets through; a `warning` never blocks (the report lists it)."""

    resource: str
    message: str
    data_loss: bool = False
    warning: bool = False

    def __str__(self) -> str:
        return f"{self.resource}: {self.message}"


@dataclass(frozen=True)
class Manual:
    """What an operator types when `dr` cannot run. `{placeholders}` are filled from the
    step's `manual_values()` (real values with --config, `<PLACEHOLDER>`s otherwise)."""

    procedure: str
    verify: str
    undo: str


REGISTRY: dict[str, type[StepType]] = {}


def register(cls: type[StepType]) -> type[StepType]:
    if cls.name in REGISTRY:
        raise ValueError(f"step type {cls.name} registered twice")
    REGISTRY[cls.name] = cls
    return cls


class StepType:
    name: ClassVar[str]
    reads: ClassVar[str]
    iam_actions: ClassVar[tuple[str, ...]]
    acts_in: ClassVar[Side]
    typical_seconds: ClassVar[float]
    timeout_seconds: ClassVar[float] = 900.0
    summary: ClassVar[str]
    why: ClassVar[str]
    manual: ClassVar[Manual]
    # A best-effort step needs a region that may be lost: when that region does not answer
    # the step is skipped (with the reason, and a follow-up), never failed.
    best_effort: bool = False
    # Steps on the recovery path end the RTO clock; post-recovery steps (scale-down of the
    # old side, notifications) do not.
    recovery_path: ClassVar[bool] = True
    follow_up: ClassVar[str] = ""
    # A read-only step (a verification) never appears in a report's list of changes.
    read_only: ClassVar[bool] = False
    # The global service whose control plane (homed in us-east-1) the step needs, if any:
    # `dr plan` names it, and readiness warns when the run leaves us-east-1.
    control_plane: ClassVar[str | None] = None

    def __init__(self, item: Any, direction: Direction, *, best_effort: bool | None = None
                 ) -> None:
        self.item = item
        self.direction = direction
        if best_effort is not None:
            self.best_effort = best_effort

    @property
    def key(self) -> str:
        """The config item's identity inside the step id."""
        raise NotImplementedError

    @property
    def action(self) -> str:
        return self.name.split(".", 1)[1]

    @property
    def id(self) -> str:
        return f"{self.reads}.{self.key}.{self.action}"

    @property
    def region(self) -> str:
        return self.direction.region(self.acts_in)

    def check(self, ctx: StepContext) -> list[Problem]:
        return []

    def plan(self) -> str:
        raise NotImplementedError

    def apply(self, ctx: StepContext) -> None:
        raise NotImplementedError

    def verify(self, ctx: StepContext) -> None:
        raise NotImplementedError

    def rollback(self, ctx: StepContext) -> None:
        raise NotImplementedError

    @classmethod
    def can_roll_back(cls) -> bool:
        return cls.rollback is not StepType.rollback

    def manual_values(self) -> dict[str, Any]:
        return {"region": self.region, "to_region": self.direction.to_region,
                "from_region": self.direction.from_region}
