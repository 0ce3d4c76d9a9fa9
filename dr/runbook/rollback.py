"""Undoing what a stopped phase changed: the game-day stop condition's "roll back what it can".

Succeeded steps whose type can roll back are undone newest first, so each undo sees the
state its step left, unless a change that stays depends on them. Each rollback is journaled
(`step.rolled_back`, with its error when it fails) and noted in the step's report detail; a
step rolled back gets status `rolled_back`, one whose rollback failed keeps `succeeded` (its
change is still there) with the error. A change no step type can undo (a promotion, a DNS
or CDN switch) stays, and goes on the report's follow-up list: the estate is between regions
until someone finishes or reverses it.
"""

from __future__ import annotations

import threading

import structlog

from dr.aws.gateway import CallLog
from dr.runbook.executor import Executor, StepRecord, describe
from dr.runbook.graph import Runbook
from dr.runbook.journal import iso, utcnow
from dr.runbook.waiting import Waiter

log = structlog.get_logger("dr.run")


def roll_back(executor: Executor, runbook: Runbook, phase: str, prefix: str,
              records: list[StepRecord]) -> None:
    nodes = {prefix + n.id: n for n in runbook.nodes}
    changed = [r for r in records if r.status == "succeeded" and r.id in nodes
               and not r.detail.get("already_done") and not nodes[r.id].step.read_only]
    # The run's waiter is aborted (that is why we are here); an undo that waits needs its own.
    waiter = Waiter(executor.waiter.policy, executor.waiter.budget, dry_run=False,
                    abort=threading.Event())
    # Newest first: dependents before what they need. A change that stays (it cannot be
    # undone, or its undo failed) keeps what it depends on: scale-up is not undone under
    # traffic that a DNS switch already moved, nor the old primary unfenced once the replica
    # is promoted (that would let clients write to both).
    # A step that failed part-way may have acted (a promotion sent, then its wait stopped):
    # what it needs stays too.
    kept = {nodes[r.id].id for r in records if r.status == "failed" and r.id in nodes
            and not nodes[r.id].step.read_only}
    for record in sorted(changed, key=lambda r: r.finished_at or "", reverse=True):
        node = nodes[record.id]
        needed_by = sorted(runbook.dependents(node.id) & kept)
        if not node.step.can_roll_back() or needed_by:
            kept.add(node.id)
            reason = (f"{', '.join(needed_by)} still depend on it" if needed_by
                      else node.step.summary)
            record.detail["follow_up"] = (
                f"{record.id} was not rolled back ({reason}); undo it by hand (its runbook's "
                f"Undo section) or finish with dr failover --to {runbook.direction.to} / "
                f"--to {runbook.direction.from_}")
            continue
        calls = CallLog()
        ctx = executor.context(node, record.id, calls, waiter=waiter, detail=dict(record.detail))
        started = utcnow()
        error = None
        try:
            node.step.rollback(ctx)
        except Exception as exc:  # noqa: BLE001 - one failed undo must not stop the others
            error = describe(exc)
        outcome = {"at": iso(started),
                   "seconds": round((utcnow() - started).total_seconds(), 3),
                   "aws_calls": dict(calls.sent), **({"error": error} if error else {})}
        executor.journal.append("step.rolled_back", step=record.id, phase=phase, **outcome)
        record.detail["rollback"] = outcome
        if error:
            kept.add(node.id)
            log.error("step.rollback_failed", step=record.id, error=error)
        else:
            record.status = "rolled_back"
            log.info("step.rolled_back", step=record.id)
