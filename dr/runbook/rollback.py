"""Undoing what a stopped phase changed: the game-day stop condition's "roll back what it can".

Succeeded steps whose type can roll back are undone newest first, so each undo sees the
state its step left. Each rollback is journaled (`step.rolled_back`, with its error when it
fails) and noted in the step's report detail; a step rolled back gets status `rolled_back`,
one whose rollback failed keeps `succeeded` (its change is still there) with the error.
A change no step type can undo (a promotion, a DNS or CDN switch) stays, and goes on the
report's follow-up list: the estate is between regions until someone finishes or reverses it.
"""

from __future__ import annotations

import threading
import time

import structlog

from dr.aws.gateway import CallLog
from dr.runbook.context import StepContext
from dr.runbook.executor import Executor, StepRecord, _describe
from dr.runbook.graph import Runbook
from dr.runbook.journal import iso, utcnow
from dr.runbook.waiting import Waiter

log = structlog.get_logger("dr.run")


def roll_back(executor: Executor, runbook: Runbook, phase: str, prefix: str,
              records: list[StepRecord]) -> None:
    nodes = {prefix + n.id: n for n in runbook.nodes}
    changed = [r for r in records if r.status == "succeeded" and r.id in nodes
               and not r.detail.get("already_done") and not nodes[r.id].step.read_only]
    done = [r for r in changed if nodes[r.id].step.can_roll_back()]
    for record in changed:
        if record not in done:
            record.detail["follow_up"] = (
                f"{record.id} was not rolled back ({nodes[record.id].step.summary}); undo it "
                f"by hand (its runbook's Undo section) or finish with dr failover --to "
                f"{runbook.direction.to} / --to {runbook.direction.from_}")
    # The run's waiter is aborted (that is why we are here); an undo that waits needs its own.
    waiter = Waiter(executor.waiter.policy, executor.waiter.budget, dry_run=False,
                    abort=threading.Event())
    for record in sorted(done, key=lambda r: r.finished_at or "", reverse=True):
        step = nodes[record.id].step
        calls = CallLog()
        deadline = time.monotonic() + step.timeout_seconds
        ctx = StepContext(config=executor.config, direction=step.direction, run=executor.run,
                          aws=executor.gateway.for_step(deadline, calls), waiter=waiter,
                          step_id=record.id, deadline=deadline, detail=dict(record.detail))
        started = utcnow()
        error = None
        try:
            step.rollback(ctx)
        except Exception as exc:  # noqa: BLE001 - one failed undo must not stop the others
            error = _describe(exc)
        outcome = {"at": iso(started),
                   "seconds": round((utcnow() - started).total_seconds(), 3),
                   "aws_calls": dict(calls.sent), **({"error": error} if error else {})}
        executor.journal.append("step.rolled_back", step=record.id, phase=phase, **outcome)
        record.detail["rollback"] = outcome
        if error:
            log.error("step.rollback_failed", step=record.id, error=error)
        else:
            record.status = "rolled_back"
            log.info("step.rolled_back", step=record.id)
