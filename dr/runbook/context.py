"""What a step sees while it runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import structlog

from dr.aws.gateway import StepAws
from dr.config.model import Config
from dr.runbook.steptype import Direction
from dr.runbook.waiting import Waiter

T = TypeVar("T")


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    command: str
    incident_start: datetime | None
    accept_data_loss: bool
    dry_run: bool


@dataclass
class StepContext:
    config: Config
    direction: Direction
    run: RunInfo
    aws: StepAws
    waiter: Waiter
    step_id: str
    deadline: float
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def dry_run(self) -> bool:
        return self.run.dry_run

    @property
    def log(self) -> Any:
        return structlog.get_logger("dr.step").bind(step=self.step_id)

    def wait(self, what: str, probe: Callable[[], T | None], every: float | None = None
             ) -> T | None:
        return self.waiter.until(what, probe, self.deadline, self.step_id, every)

    def note(self, **facts: Any) -> None:
        """Facts for the report's step detail (journaled, so a resumed run keeps them)."""
        self.detail.update(facts)
