"""Waiting on AWS: poll often at first, then less, never a fixed 30 s waiter delay.

The interval is a fraction of the time already waited, between a floor and a cap, so a wait
overshoots the moment the awaited state arrives by at most that fraction (or the floor).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog

from dr.errors import DeadlineExceeded, StepError

T = TypeVar("T")
log = structlog.get_logger("dr.wait")


@dataclass(frozen=True)
class PollPolicy:
    floor: float = 1.0
    cap: float = 15.0
    fraction: float = 0.02
    report_every: float = 5.0

    def interval(self, waited: float) -> float:
        return min(self.cap, max(self.floor, waited * self.fraction))

    def scaled(self, factor: float) -> PollPolicy:
        """The same policy on a faster clock (the lab's time scale)."""
        return PollPolicy(self.floor * factor, self.cap * factor, self.fraction,
                          self.report_every * factor)


@dataclass(frozen=True)
class RtoBudget:
    """The RTO clock: started at the incident (or at run start) against the target."""

    started_at: float
    target_seconds: float

    def used(self, now: float | None = None) -> float:
        return ((now or time.time()) - self.started_at) / self.target_seconds


class Aborted(StepError):
    """The run was told to stop (a game-day stop condition fired)."""


class Waiter:
    def __init__(self, policy: PollPolicy, budget: RtoBudget, *, dry_run: bool,
                 abort: threading.Event | None = None) -> None:
        self.policy = policy
        self.budget = budget
        self.dry_run = dry_run
        self.abort = abort or threading.Event()

    def until(self, what: str, probe: Callable[[], T | None], deadline: float,
              step: str, every: float | None = None) -> T | None:
        """Poll `probe` until it returns something truthy, or raise at `deadline`.
        `every` fixes the interval (for probes that are not AWS calls, like HTTP health).

        In a dry run nothing is awaited: the state would never change.
        """
        if self.dry_run:
            log.info("wait.intention", step=step, awaiting=what)
            return None
        log.info("wait.started", step=step, awaiting=what)
        start = last_report = time.monotonic()
        while True:
            if self.abort.is_set():
                raise Aborted(f"stopped while waiting for {what}: {self.abort_reason}")
            result = probe()
            if result:
                return result
            now = time.monotonic()
            waited = now - start
            if now >= deadline:
                raise DeadlineExceeded(f"timed out after {waited:.0f}s waiting for {what}")
            if now - last_report >= self.policy.report_every:
                last_report = now
                log.info("wait.progress", step=step, awaiting=what,
                         waited_seconds=round(waited, 1),
                         rto_budget_used_pct=round(100 * self.budget.used(), 1))
            interval = every if every is not None else self.policy.interval(waited)
            self.abort.wait(min(interval, max(0.0, deadline - now)))

    abort_reason = "abort requested"

    def request_abort(self, reason: str) -> None:
        self.abort_reason = reason
        self.abort.set()
